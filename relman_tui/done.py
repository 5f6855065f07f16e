"""Done windows: a release's window that is history once the release has reached its environment (pure)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

from relman_tui.model import Environment, Release, Window


def positions(environments: Iterable[Environment]) -> dict[str, int]:
    """Each environment's place in the pipeline, by name (``planned`` stands before all of them)."""
    return {env.name: env.position for env in environments}


def is_done(release: Release, window: Window, where: Mapping[str, int], now: datetime) -> bool:
    """DESIGN "Conflicts": the release stands in the window's environment or past it, and the
    window is not open now (``start <= now < end``). A rollback below the environment makes it
    count again; a stage or environment the board does not know is never done."""
    stage = where.get(release.stage)
    target = where.get(window.environment)
    if stage is None or target is None or stage < target:
        return False
    return not window.start <= now < window.end


def live_windows(release: Release, where: Mapping[str, int], now: datetime) -> list[Window]:
    """The release's windows that are not done."""
    return [w for w in release.windows if not is_done(release, w, where, now)]
