"""The embedded default model: its manifest (embedded.json); the GGUF is fetched beside it."""
