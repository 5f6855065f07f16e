"""User settings and where relman's files live; built once at the edge and passed in."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomli_w

from relman_tui.dburl import Target, target_of
from relman_tui.errors import BadInput

THEMES = ("textual-dark", "textual-light", "nord", "gruvbox", "monokai", "dracula", "tokyo-night", "solarized-light")


@dataclass(frozen=True, slots=True)
class Settings:
    timezone: str | None = None  # None: the system zone
    theme: str = "textual-dark"
    poll_interval: float = 0.25
    database: Target | None = None  # a path, or a postgresql:// URL kept as text


_DEFAULTS: list[tuple[str, Any, str]] = [
    ("timezone", "", 'IANA zone times are shown and typed in, e.g. "Europe/Berlin"; empty: the system zone'),
    ("theme", "textual-dark", f"one of: {', '.join(THEMES)}"),
    ("poll_interval", 0.25, "seconds between checks for changes written by other operators (0.1 .. 10)"),
    (
        "database",
        "",
        "default database: a file, or a postgresql:// URL (no password: ~/.pgpass or a service "
        "file); empty: $RELMAN_DB, else the XDG data directory",
    ),
]


def config_path(explicit: Path | None = None) -> Path:
    if explicit is not None:
        return explicit
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "relman" / "config.toml"


def state_dir() -> Path:
    """What relman keeps per account: ``$XDG_STATE_HOME/relman`` (the board's error log, verified log hashes)."""
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "relman"


def database_target(explicit: Target | None, settings: Settings) -> Target:
    """``--db``, else ``$RELMAN_DB``, else the user config, else ``$XDG_DATA_HOME/relman/relman.db``.

    A ``postgresql://`` URL stays text (a path would fold its ``//``); anything else is a path.
    """
    if explicit is not None:
        return target_of(explicit)
    if env := os.environ.get("RELMAN_DB"):
        return target_of(env)
    if settings.database is not None:
        return target_of(settings.database)
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "relman" / "relman.db"


def load(path: Path, *, required: bool = False) -> Settings:
    """Read the user config; a missing file means defaults, a bad one is reported by path and key."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        if required:
            raise BadInput(f"config file {path} does not exist") from None
        return Settings()
    except OSError as exc:
        raise BadInput(f"cannot read config file {path}: {exc.strerror}") from exc
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise BadInput(f"bad TOML in {path}: {exc}") from exc
    unknown = set(data) - {key for key, _, _ in _DEFAULTS}
    if unknown:
        raise BadInput(f"{path}: unknown key {sorted(unknown)[0]!r} (known: {', '.join(k for k, _, _ in _DEFAULTS)})")
    tz = data.get("timezone", "")
    theme = data.get("theme", "textual-dark")
    poll = data.get("poll_interval", 0.25)
    database = data.get("database", "")
    if not isinstance(tz, str):
        raise BadInput(f"{path}: key 'timezone' must be a string")
    if tz:
        from relman_tui.timeutil import zone_info

        try:
            zone_info(tz)
        except BadInput as exc:
            raise BadInput(f"{path}: key 'timezone': {exc}") from exc
    if not isinstance(theme, str) or theme not in THEMES:
        raise BadInput(f"{path}: key 'theme' must be one of {', '.join(THEMES)}")
    if isinstance(poll, bool) or not isinstance(poll, int | float) or not 0.1 <= poll <= 10:
        raise BadInput(f"{path}: key 'poll_interval' must be a number of seconds from 0.1 to 10")
    if not isinstance(database, str):
        raise BadInput(f"{path}: key 'database' must be a string")
    try:
        target = target_of(database) if database else None
    except BadInput as exc:
        raise BadInput(f"{path}: key 'database': {exc}") from None
    return Settings(tz or None, theme, float(poll), target)


def default_config_text() -> str:
    """The commented default config that ``relman config init`` writes."""
    lines = ["# relman user settings — personal; the board itself lives in the database.", ""]
    for key, value, comment in _DEFAULTS:
        lines.append(f"# {comment}")
        lines.append(tomli_w.dumps({key: value}).rstrip("\n"))
        lines.append("")
    return "\n".join(lines)


def write_default(path: Path, *, overwrite: bool = False) -> None:
    if path.exists() and not overwrite:
        raise BadInput(f"{path} already exists; not overwriting it")
    from relman_tui.outfile import check_output

    check_output(path, "config init")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(default_config_text(), encoding="utf-8")
    except OSError as exc:
        raise BadInput(f"cannot write {path}: {exc.strerror}") from exc
