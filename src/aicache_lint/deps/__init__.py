"""The build-context files that installs read: requirements, constraints, pyproject, lock files."""
