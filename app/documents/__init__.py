"""Documents: readers per format, chat with a file, and batch jobs over folders. Qt-free;
never imports app.gui (the Documents tab lives there)."""
