"""Where a release or a window stands: which conflicts touch a window, what a release needs next (pure)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from relman_tui.gates import stage_names
from relman_tui.model import PLANNED, Conflict, Environment, Release, Severity, State, Window


def touches(window: Window, conflict: Conflict) -> bool:
    """Is ``window`` in ``conflict``: its release and environment are named, and the spans meet?

    A conflict span of no length (an instant) counts when it falls inside the window.
    """
    if window.release_id not in conflict.releases or window.environment not in conflict.environments:
        return False
    if conflict.start == conflict.end:
        return window.start <= conflict.start < window.end
    return window.start < conflict.end and conflict.start < window.end


def window_severity(releases: Iterable[Release], conflicts: Iterable[Conflict]) -> dict[tuple[int, str], Severity]:
    """The worst conflict each window of a release that is not cancelled is in, by (release id, environment)."""
    windows = {(w.release_id, w.environment): w for r in releases if not r.cancelled for w in r.windows}
    worst: dict[tuple[int, str], Severity] = {}
    for conflict in conflicts:
        for release_id in conflict.releases:
            for env in conflict.environments:
                key = (release_id, env)
                window = windows.get(key)
                if window is not None and touches(window, conflict) and worst.get(key) is not Severity.ERROR:
                    worst[key] = conflict.severity
    return worst


def next_step(release: Release, environments: Sequence[Environment]) -> str:
    """What the release needs before it can go on, in a few words: ``needs verify``, ``needs approval``,
    ``ready for test``, ``live`` — the gates of DESIGN.md "Moves" seen from the card."""
    if release.state is State.CANCELLED:
        return "cancelled"
    if release.unapproved:
        return "needs approval (forced in without)"
    if release.state is State.FAILED:
        return "fix or roll back"
    if release.stage != PLANNED and release.state is not State.VERIFIED:
        return "needs verify"
    names = stage_names(environments)
    here = names.index(release.stage) if release.stage in names else 0
    if here + 1 >= len(names):
        return "live" if release.stage != PLANNED else "no environments"
    following = names[here + 1]
    env = next((e for e in environments if e.name == following), None)
    if env is not None and env.requires_approval and release.approved_by is None:
        return "needs approval"
    return f"ready for {following}"
