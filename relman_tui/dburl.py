"""Where a board lives: a SQLite path or a PostgreSQL URL; URLs checked and shown without secrets (pure)."""

from __future__ import annotations

import urllib.parse
from pathlib import Path

from relman_tui.errors import BadInput

SCHEMES = ("postgresql://", "postgres://")
INSTALL_HINT = "pip install 'relman-tui[postgres]'"

Target = Path | str  # a path (SQLite) or a postgresql:// URL, kept as text so it is never mangled into a path


def is_url(target: object) -> bool:
    """Whether ``target`` names a PostgreSQL database rather than a file."""
    return isinstance(target, str) and target.strip().lower().startswith(SCHEMES)


def target_of(text: str | Path) -> Target:
    """A ``--db`` value, ``$RELMAN_DB`` or the config's ``database``: a URL as given, else a path."""
    if is_url(text):
        url = str(text).strip()
        check_url(url)
        return url
    return Path(text).expanduser()


def check_url(url: str) -> None:
    """Refuse a URL that carries a password: it would show in the process list and the shell's history."""
    try:
        parts = urllib.parse.urlsplit(url)
        query = urllib.parse.parse_qs(parts.query, keep_blank_values=True)
        has_password = parts.password is not None
    except ValueError as exc:
        raise BadInput(f"bad database URL ({exc})") from None
    if has_password or "password" in {key.lower() for key in query}:
        raise BadInput(
            "a password in the database URL would show in the process list: keep it in ~/.pgpass or a service "
            "file (PGSERVICE / ?service=NAME) and leave it out of the URL"
        )


def describe(url: str) -> str:
    """The URL as shown to a person: scheme, user, host, port, database; never a password or other options."""
    try:
        parts = urllib.parse.urlsplit(url)
        user = parts.username
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return "a PostgreSQL database"
    netloc = host
    if user:
        netloc = f"{urllib.parse.unquote(user)}@{host}"
    if port:
        netloc += f":{port}"
    shown = f"postgresql://{netloc}{parts.path}"
    service = urllib.parse.parse_qs(parts.query).get("service")
    return f"{shown} (service {service[0]})" if service else shown
