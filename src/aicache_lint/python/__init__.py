"""Python sources: what a script imports, which environment variables it reads and writes, and
which models it loads -- read, never executed."""
