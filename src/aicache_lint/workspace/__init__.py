"""The workspace: the only place where files meet (DESIGN §5a)."""
