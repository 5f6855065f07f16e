"""What a screen may ask of the app that hosts it: a small protocol, so screens never import the app."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Protocol, TypeGuard, runtime_checkable

if TYPE_CHECKING:
    from textual.dom import DOMNode

    from relman_tui.service import Snapshot
    from relman_tui.tui.session import Session


@runtime_checkable
class Host(Protocol):
    """The app, as screens, widgets and the palette see it.

    ``snapshot``, ``utc``, ``release_id`` and ``minute`` are reactives: watch them with
    ``self.watch(self.app, "snapshot", …)``.
    """

    snapshot: Snapshot | None  # the board as last read
    utc: bool  # times in UTC rather than the operator's zone
    release_id: int | None  # the release the operator is on, shared by the board and the scheduler
    minute: datetime  # changes on each minute boundary of the clock
    alerts: tuple[str, ...]  # what the warning bar says: a broken log, a replaced file, a lost server

    @property
    def tz(self) -> str:
        """The zone times are shown in now: the operator's, or UTC."""

    @property
    def read_only(self) -> bool: ...

    @property
    def session(self) -> Session: ...

    @property
    def identity(self) -> str:
        """Who is at the keyboard and where: ``alice@jump1``."""

    @property
    def board_name(self) -> str:
        """Which board: the database file's name."""

    def now(self) -> datetime: ...

    def toggle_utc(self) -> None: ...

    def reopen(self) -> None:
        """Close the board and open the database again (after its file was replaced)."""

    def show_scheduler(self) -> None: ...

    def show_board(self) -> None: ...

    def show_insights(self) -> None: ...


_HOSTS: set[type] = set()  # the app classes seen to be hosts: the protocol check runs once per class


def _is_host(app: object) -> TypeGuard[Host]:
    if type(app) in _HOSTS:
        return True
    if not isinstance(app, Host):
        return False
    _HOSTS.add(type(app))
    return True


def host(node: DOMNode) -> Host:
    """The app that ``node`` runs in, as a :class:`Host` (``RelmanApp``: relman_tui.tui.app checks that it is one)."""
    app = node.app
    if not _is_host(app):
        raise TypeError(f"{type(app).__name__} is not a relman host")
    return app
