"""The terminal UI: the only part of relman that imports Textual."""
