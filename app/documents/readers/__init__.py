"""One reader per format, each returning a Document (app/documents/document.py)."""
