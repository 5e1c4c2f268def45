"""Compose files: the position tree (``parse``), interpolation and the merged project view.

Importing this package imports nothing else: a Dockerfile rule that looks for the Compose files
around it (``builders``) must not pay for the Compose model unless one is there.
"""
