"""What the findings cost: the rebuild model (``rebuild.py``) says which steps of an image run
again after a change and what they download, with sizes from ``knowledge/sizes.py``."""
