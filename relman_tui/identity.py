"""Who acts: the operating-system account running relman, and delegation with ``--as`` (DESIGN "Who acts").

This is the one place that reads the identity. Nothing here looks at ``$USER``, ``$LOGNAME``
or any other variable a shell can set to anything: the account is the name of the
effective uid, from the password database. Tests fake it by patching :func:`os_account`.
"""

from __future__ import annotations

import os
import pwd
from collections.abc import Iterable
from dataclasses import dataclass

from relman_tui.errors import BadInput, Refused
from relman_tui.limits import clean_login


@dataclass(frozen=True, slots=True)
class Identity:
    """``actor`` did it; ``via`` is the OS account that acted for them (``None`` when it is the actor)."""

    actor: str
    via: str | None = None

    def __str__(self) -> str:
        return f"{self.actor} (via {self.via})" if self.via else self.actor


def os_account() -> str:
    """The account of the effective uid; under sudo (euid 0), the real account that ran sudo.

    ``SUDO_USER`` is trusted only when the process already runs as root: root could be
    anyone it likes anyway, and sudo sets it to the invoking account.
    """
    euid = os.geteuid()
    if euid == 0:
        invoker = os.environ.get("SUDO_USER", "")
        if invoker and invoker != "root" and _account_exists(invoker):
            return invoker
    try:
        return pwd.getpwuid(euid).pw_name
    except KeyError:  # a uid with no name (a container's arbitrary uid): the number is the name
        return f"uid{euid}"


def _account_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def resolve(requested: str | None, delegates: Iterable[str], account: str | None = None) -> Identity:
    """The identity of this process, acting for ``requested`` (``--as``) if it may.

    Only accounts listed in the board's ``delegates`` setting may act for someone else; the
    change is then recorded as ``actor = requested``, ``via = account``.
    """
    me = account if account is not None else os_account()
    try:
        me = clean_login(me, "your account name")
    except BadInput as exc:
        raise BadInput(f"{exc}; relman records actors by login name") from None
    if requested is None or requested.strip().casefold() == me.casefold():
        return Identity(me)
    name = clean_login(requested, "--as")
    allowed = {d.casefold() for d in delegates}
    if me.casefold() not in allowed:
        raise Refused(
            f"--as {name}: your account {me} may not act for others. relman records the account that runs it; "
            f"an account that authenticates people upstream (a CI runner, say) can be made a delegate by one of "
            f"the board's admins (`relman settings delegates add {me}`), and its changes are then logged as "
            f"{name} via {me}"
        )
    return Identity(name, me)
