"""Data the app ships: the embedded model manifest, default policy, price catalog."""
