"""The delivery figures in words: the lines `relman insights` prints and the board's insights screen shows."""

from __future__ import annotations

from relman_tui.insights import Figures, median, p90, share


def span(seconds: float | None) -> str:
    """A duration in its two largest units, to the minute: ``2d 3h``, ``1h 20m``, ``45s``; ``-`` for none."""
    if seconds is None:
        return "-"
    sign = "-" if seconds < 0 else ""
    left = abs(round(seconds))
    if left < 60:
        return f"{sign}{left}s"
    left = round(left / 60) * 60
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        count, left = divmod(left, size)
        if count:
            parts.append(f"{count}{unit}")
    return sign + " ".join(parts[:2])


def percent(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def lead_label(f: Figures) -> str:
    """``lead time``, or ``release lead time`` when no release said when its change began (DESIGN)."""
    return "lead time" if f.from_changed_at else "release lead time"


def rows(f: Figures) -> list[tuple[str, str]]:
    """``(figure, value in words)`` for each figure, every number with its ``n``."""
    n = f.deployments
    return [
        ("deployments", f"{n}: {n / f.days:.2f} a day, {7 * n / f.days:.2f} a week"),
        (
            lead_label(f),
            f"median {span(median(f.lead_times))}, p90 {span(p90(f.lead_times))} (n {len(f.lead_times)}: "
            f"{f.from_changed_at} from changed-at, {f.from_created} from creation)",
        ),
        ("change failure rate", f"{percent(share(f.failed, n))} ({f.failed} failed of {n} deployments)"),
        (
            "recovery time",
            f"median {span(median(f.recoveries))}, p90 {span(p90(f.recoveries))} "
            f"(n {len(f.recoveries)}; {f.unrecovered} not recovered)",
        ),
        (
            "forced",
            f"{f.forced} ({percent(share(f.forced, n))}); break-glass {f.break_glass} "
            f"({percent(share(f.break_glass, n))})",
        ),
    ]
