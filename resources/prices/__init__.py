"""The dated cloud price catalog (catalog.json), read with importlib.resources."""
