"""relman: a terminal dashboard for ITIL release management."""

__version__ = "0.1.0"
