"""Converting model files in child processes: llama.cpp quantization (GGUF -> GGUF), MLX
conversion (safetensors -> MLX), and the ChildJob both run as."""
