"""Qt-free routing: which tokens come from where, and what they cost."""
