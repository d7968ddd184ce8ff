"""Shipped document templates (TOML), found by app/documents/templates.py."""
