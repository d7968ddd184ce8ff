"""Running models: the engine contract (types), the owner thread that holds a loaded model,
the llama.cpp and MLX engines, and the manager that loads and unloads them. Never imports
inference.hub: an engine runs what is on disk and knows nothing of where it came from."""
