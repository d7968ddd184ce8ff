"""Application icons (PNG for the bundles, SVG for the Linux desktop)."""
