"""One key table per screen: the bindings, the footer, the ``?`` help, the palette and the guards come from it.

A key that is not in its screen's table does not exist. Each entry says what the key does in
a few words (the footer), in a sentence (the help), whether it writes (hidden on a read-only
board), whether it still acts behind the "terminal too small" notice, and its title in the
command palette.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from textual.actions import parse
from textual.binding import Binding, BindingType

# Footer ranks: PRIORITY keys are always shown, at the right; the others fill the room left, by rank.
PRIORITY = 1


@dataclass(frozen=True, slots=True)
class Key:
    keys: str  # Textual key names, comma-separated: "shift+right,greater_than_sign"
    action: str  # a screen action, with arguments: "cursor(0, -1)"
    show: str  # the key as people write it: "shift+→ >"
    help: str  # the line in the `?` help
    label: str = ""  # the footer's word(s); empty: not in the footer
    rank: int = 0  # footer order (PRIORITY: always shown); 0 with a label: shown when room is left
    writes: bool = False  # changes the database: hidden and refused on a read-only board
    small: bool = False  # still acts behind the "terminal too small" notice (quit)
    palette: str = ""  # the command palette's title; empty: not in the palette
    group: str = ""  # the help's heading
    short: str = ""  # the key in the footer, when not the first of ``show``

    @property
    def footer_key(self) -> str:
        return self.short or self.show.split()[0]

    @property
    def name(self) -> str:
        return parse(self.action)[1]

    @property
    def parameters(self) -> tuple[object, ...]:
        return parse(self.action)[2]


@dataclass(frozen=True, slots=True)
class Note:
    """A line of help that is not a key (the mouse, what a step is)."""

    show: str
    help: str
    writes: bool = False
    group: str = ""


Entry = Key | Note
Allowed = Callable[[Key], bool]


class KeyTable:
    """The keys of one screen, in the order the help lists them."""

    def __init__(self, *entries: Entry) -> None:
        self.entries = entries
        self._by_name: dict[str, Key] = {}
        for entry in entries:
            if isinstance(entry, Key):
                self._by_name.setdefault(entry.name, entry)

    def __add__(self, other: KeyTable) -> KeyTable:
        return KeyTable(*self.entries, *other.entries)

    @property
    def keys(self) -> Iterator[Key]:
        return (e for e in self.entries if isinstance(e, Key))

    def bindings(self) -> list[BindingType]:
        return [Binding(k.keys, k.action, k.label or k.help, show=False) for k in self.keys]

    def only(self, *action_names: str) -> KeyTable:
        """The entries of these actions, in this table's order (a screen that shares a few keys)."""
        return KeyTable(*(k for k in self.keys if k.name in action_names))

    def find(self, action_name: str) -> Key | None:
        """The entry of an action, by its name without arguments."""
        return self._by_name.get(action_name)

    def help_rows(self, read_only: bool) -> list[tuple[str, str, str]]:
        """``(group, key, description)`` of every key and note with a description, but those that write on
        a read-only board; grouped, the groups in the order they first appear."""
        rows = [(e.group, e.show, e.help) for e in self.entries if e.help and not (e.writes and read_only)]
        order = {group: i for i, group in reversed(list(enumerate(g for g, _, _ in rows)))}
        return sorted(rows, key=lambda row: order[row[0]])

    def footer(self, allowed: Allowed) -> tuple[list[Key], list[Key]]:
        """The keys for the footer that act now: ``(priority, others by rank)``."""
        shown = [k for k in self.keys if k.label and allowed(k)]
        first = [k for k in shown if k.rank == PRIORITY]
        rest = sorted((k for k in shown if k.rank != PRIORITY), key=lambda k: k.rank or 99)
        return first, rest

    def palette(self, allowed: Allowed) -> list[Key]:
        return [k for k in self.keys if k.palette and allowed(k)]


# Keys every full screen shares.
COMMON = KeyTable(
    Key("u", "toggle_utc", "u", "times in UTC / in your zone", palette="Show times in UTC / your zone", group="View"),
    Key(
        "ctrl+z",
        "undo",
        "ctrl+z",
        "undo your last change here (logged)",
        label="Undo",
        rank=40,
        writes=True,
        palette="Undo the last change",
        group="Change",
    ),
    Key(
        "ctrl+r",
        "reopen",
        "ctrl+r",
        "open the database again (after it was replaced)",
        palette="Open the database again",
        group="View",
    ),
    Key("ctrl+p", "palette", "ctrl+p", "palette: every action, jump to a release", group="Help"),
    Key(
        "question_mark",
        "help",
        "?",
        "every key of this screen",
        label="Keys",
        rank=PRIORITY,
        palette="Show every key",
        group="Help",
    ),
    Key("q", "quit", "q ctrl+c", "quit", label="Quit", rank=PRIORITY, small=True, palette="Quit relman", group="Help"),
)
