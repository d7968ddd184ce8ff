"""Batch jobs: a template run over every document of a folder, resumable after a crash."""
