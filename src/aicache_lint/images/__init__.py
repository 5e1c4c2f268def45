"""Container image references and what is known about their tags (offline table, registry)."""
