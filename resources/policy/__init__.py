"""The default routing policy (default.toml), read with importlib.resources."""
