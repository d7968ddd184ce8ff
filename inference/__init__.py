"""Qt-free local inference: engines, the model library, hardware detection and meters."""
