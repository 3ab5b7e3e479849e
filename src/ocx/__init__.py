"""OCX, the Open Cloud eXchange."""

__version__ = "0.1.0"
