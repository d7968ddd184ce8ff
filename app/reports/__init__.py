"""Reports computed from the store, Qt-free so that the CLI and the GUI share them."""
