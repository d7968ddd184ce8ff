"""Talking to the Hugging Face Hub: search, file lists, the fit before a download, resumable
transfers verified by SHA-256, and the download queue."""
