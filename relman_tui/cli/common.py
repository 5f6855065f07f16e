"""What every `relman` command shares: the context, option types, output helpers."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click

from relman_tui import settings as user_settings
from relman_tui.dburl import Target, check_url, is_url
from relman_tui.details import EventRecord, FreezeRecord
from relman_tui.done import is_done
from relman_tui.done import positions as done_positions
from relman_tui.errors import BadInput
from relman_tui.model import Event, Freeze, Release, Window
from relman_tui.text import cell_len, inert, one_line, pad
from relman_tui.timeutil import Clock, FixedClock, SystemClock, local_zone_name, parse_time, to_stamp, zone_info

if TYPE_CHECKING:
    from relman_tui.service import Service

F = TypeVar("F", bound=Callable[..., Any])

# Ids, revisions and counts end up in SQLite, whose integers are 64-bit: a bigger number
# is bad input, said as such, not an OverflowError from deep inside.
INT_MAX = 2**63 - 1


class _DbInt(click.types.IntParamType):
    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        number = super().convert(value, param, ctx)
        if isinstance(number, int) and abs(number) > INT_MAX:
            self.fail(f"{number} is too large", param, ctx)
        return number


DB_INT = _DbInt()


class _DbTarget(click.ParamType):  # type: ignore[type-arg]  # generic from click 8.2 on
    """``--db``: a ``postgresql://`` URL kept as text (checked for a password), else a file path."""

    name = "PATH|URL"
    _path = click.Path(path_type=Path, dir_okay=False)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, str) and is_url(value):
            try:
                check_url(value.strip())
            except BadInput as exc:
                self.fail(str(exc), param, ctx)
            return value.strip()
        return self._path.convert(value, param, ctx)


DB_TARGET = _DbTarget()


@dataclass
class Context:
    """What the global options decided; the service is opened on first use."""

    db: Target | None
    tz_option: str | None
    actor_option: str | None
    config: Path | None
    _settings: user_settings.Settings | None = None
    _service: Service | None = None
    _stores: list[Any] = field(default_factory=list)

    @property
    def settings(self) -> user_settings.Settings:
        if self._settings is None:
            path = user_settings.config_path(self.config)
            self._settings = user_settings.load(path, required=self.config is not None)
        return self._settings

    @property
    def tz(self) -> str:
        name = self.tz_option or self.settings.timezone or os.environ.get("RELMAN_TZ") or local_zone_name()
        zone_info(name)
        return name

    @property
    def target(self) -> Target:
        """The board to open: a file path, or a postgresql:// URL."""
        return user_settings.database_target(self.db, self.settings)

    def target_name(self) -> str:
        """The board as shown to a person (a URL without secrets)."""
        from relman_tui.dburl import describe

        target = self.target
        return describe(target) if isinstance(target, str) else str(target)

    def clock(self) -> Clock:
        # RELMAN_NOW fixes the clock for reproducible screenshots, demos and tests.
        fixed = os.environ.get("RELMAN_NOW")
        if fixed:
            from relman_tui.limits import check_time

            at = check_time(parse_time(fixed, "UTC", SystemClock().now()), "$RELMAN_NOW")
            return FixedClock(at, from_environment=True)
        return SystemClock()

    def service(self, *, create: bool = False, read_only: bool = False) -> Service:
        if self._service is None:
            from relman_tui.identity import resolve
            from relman_tui.service import Service, board_delegates
            from relman_tui.store import open_store

            store = open_store(self.target, create=create, read_only=read_only)
            self._stores.append(store)
            # who acts is decided here, once: the OS account (on a server, the role it authenticated),
            # or a delegate acting for --as
            who = resolve(self.actor_option, board_delegates(store), account=store.server_account())
            self._service = Service(store, self.clock(), who.actor, who.via, zone=lambda: self.tz)
        return self._service

    def close(self) -> None:
        for store in self._stores:
            store.close()
        self._stores.clear()

    def reset(self) -> None:
        """Forget the opened service: the next :meth:`service` opens the database afresh."""
        self._service = None

    def when(self, text: str) -> datetime:
        return parse_time(text, self.tz, self.clock().now())


pass_ctx = click.make_pass_decorator(Context)


def json_option(func: F) -> F:
    return click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")(func)


def echo_json(data: Any) -> None:
    click.echo(inert_json(json.dumps(data, indent=2, ensure_ascii=False)))


_NOT_ASCII = re.compile(r"[^\n\x20-\x7e]")


def inert_json(text: str) -> str:
    """JSON text with every character a terminal would act on (DEL, C1 controls, bidi overrides,
    zero-width) written as a ``\\uXXXX`` escape: the same JSON value, shown inert.

    ``json.dumps`` escapes only U+0000..U+001F; a name holding U+202E or U+009B would still
    reorder or steer the terminal a script's output is read in.
    """
    if text.replace("\n", "").isprintable():
        return text
    return _NOT_ASCII.sub(lambda m: m[0] if inert(m[0]) == m[0] else json.dumps(m[0])[1:-1], text)


def fail(message: str) -> NoReturn:
    """Bad usage found by a command itself: exit 2 with the message, like any bad input."""
    raise BadInput(message)


# -- printing ----------------------------------------------------------------------------------


def window_done(obj: Context) -> Callable[[Release, Window], bool]:
    """DESIGN "Conflicts": is this window done, on this board, now."""
    reached = done_positions(obj.service().environments())
    now = obj.clock().now()
    return lambda release, window: is_done(release, window, reached, now)


def release_json(
    r: Release, full: bool = False, done: Callable[[Release, Window], bool] | None = None
) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": r.id,
        "name": r.name,
        "version": r.version,
        "stage": r.stage,
        "state": str(r.state),
        "components": list(r.components),
        "owner": r.owner,
        "risk": str(r.risk),
        "approved_by": r.approved_by,
        "unapproved": r.unapproved,
        "rev": r.rev,
        "changed_at": to_stamp(r.changed_at) if r.changed_at else None,
        "windows": {
            w.environment: {"start": to_stamp(w.start), "end": to_stamp(w.end)}
            | ({"done": done(r, w)} if done is not None else {})
            for w in r.windows
        },
    }
    if full:
        item |= {
            "approved_at": to_stamp(r.approved_at) if r.approved_at else None,
            "notes": r.notes,
            "created_at": to_stamp(r.created_at),
            "updated_at": to_stamp(r.updated_at),
            "created_by": r.created_by,
        }
    return item


def freeze_json(f: Freeze) -> FreezeRecord:
    from relman_tui.service import freeze_record

    return freeze_record(f)


def event_json(e: Event) -> EventRecord:
    from relman_tui.service import event_record

    return event_record(e)


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], max_width: int = 48) -> None:
    """A plain aligned table; every cell is made inert and cut to ``max_width`` cells."""
    cells = [[inert(one_line(cell)) for cell in row] for row in rows]
    widths = [min(max_width, max([cell_len(h)] + [cell_len(r[i]) for r in cells])) for i, h in enumerate(headers)]
    last = len(headers) - 1

    def line(values: Sequence[str]) -> str:
        return "  ".join(v if i == last else pad(v, widths[i]) for i, v in enumerate(values)).rstrip()

    click.echo("\n".join([line(headers), *map(line, cells)]))  # one write, not one per row


def pinned(service: Service) -> bool:
    """Whether the service's clock is `$RELMAN_NOW`'s: a board made under it is a fixed-clock board."""
    return bool(getattr(service.clock, "from_environment", False))
