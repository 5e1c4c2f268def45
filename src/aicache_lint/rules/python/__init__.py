"""Rules of Python sources: the code that loads models and sets their cache variables."""
