"""The `stillroom` command line."""
