"""Opt-in network lookups (``--resolve-images``): registry tag lists and digests over the OCI
distribution API, and Git commits through ``git ls-remote``. Nothing here runs, or is imported,
unless the user asks for it."""
