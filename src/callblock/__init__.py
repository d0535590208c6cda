"""callblock: a block-number service for contact centres."""

__version__ = "0.1.0"
