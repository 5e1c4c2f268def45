"""`python -m aicache_lint`: the same as the `aicache-lint` command."""

from aicache_lint.cli import main

main()
