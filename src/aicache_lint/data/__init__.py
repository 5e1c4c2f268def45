"""Package data: offline tables shipped with aicache-lint (sources in ``SOURCES.md``)."""
