"""Knowing installed models: the library (models.json plus the embedded model), GGUF and
safetensors readers, the memory fit, importing what other apps downloaded, and removal."""
