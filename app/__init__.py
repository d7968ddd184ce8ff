"""Stillroom's surfaces: the CLI, the Qt GUI, the office server, and the storage wiring.

The only package allowed to import PySide6.
"""
