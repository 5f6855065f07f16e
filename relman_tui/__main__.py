"""Run relman as ``python -m relman_tui``."""

from relman_tui.cli import main

main()
