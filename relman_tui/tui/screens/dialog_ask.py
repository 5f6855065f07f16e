"""Dialogs that ask: confirm, give a reason, explain a refused move, pick a stage; help and errors."""

from __future__ import annotations

from collections.abc import Sequence

from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.validation import ValidationResult, Validator
from textual.widgets import Button, Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from relman_tui.errors import BadInput
from relman_tui.limits import clean_text
from relman_tui.tui.screens.dialog_base import Dialog, _literal


class ConfirmDialog(Dialog[bool]):
    def __init__(self, title: str, body: str, confirm: str = "Yes", *, default_yes: bool = False) -> None:
        super().__init__()
        self._title, self._body, self._confirm = title, body, confirm
        self._default_yes = default_yes  # enter confirms (a step the operator already chose), else it declines

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(_literal(self._title), classes="dialog-title")
            yield Static(_literal(self._body), classes="dialog-body")
            with Horizontal(classes="dialog-buttons"):
                yield Button(compact=True, label=self._confirm, variant="error", id="confirm")
                yield Button(compact=True, label="No", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#confirm" if self._default_yes else "#cancel", Button).focus()

    @on(Button.Pressed, "#confirm")
    def _yes(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#cancel")
    def _no(self) -> None:
        self.dismiss(None)


class _NotBlank(Validator):
    def validate(self, value: str) -> ValidationResult:
        try:
            if not clean_text(value, "reason"):
                return self.failure("a reason is required")
        except BadInput as exc:
            return self.failure(str(exc))
        return self.success()


class ReasonDialog(Dialog[str]):
    """Ask why (rollback, failure, cancellation); returns the reason."""

    def __init__(self, title: str, body: str, action: str, *, required: bool = True) -> None:
        super().__init__()
        self._title, self._body, self._action, self._required = title, body, action, required

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(_literal(self._title), classes="dialog-title")
            yield Static(_literal(self._body), classes="dialog-body")
            yield Input(
                compact=True,
                placeholder="reason" if self._required else "reason (optional)",
                validators=[_NotBlank()] if self._required else [],
                id="reason",
            )
            yield Static("", classes="dialog-error", id="error")
            with Horizontal(classes="dialog-buttons"):
                yield Button(self._action, variant="primary", id="ok", disabled=self._required, compact=True)
                yield Button(compact=True, label="Cancel", id="cancel")

    @on(Input.Changed, "#reason")
    def _changed(self, event: Input.Changed) -> None:
        result = event.validation_result
        ok = result is None or result.is_valid
        self.query_one("#ok", Button).disabled = not ok
        message = "" if result is None or ok or not event.value else "; ".join(result.failure_descriptions)
        self.query_one("#error", Static).update(message)

    ENTER_SUBMITS = True  # else Enter in the reason field only goes on to the button

    @on(Input.Submitted, "#reason")
    def _entered(self) -> None:
        if self.query_one("#ok", Button).disabled:
            # enter on an empty reason says so, rather than nothing
            self.query_one("#error", Static).update("a reason is needed: type why, then enter (esc cancels)")
        elif self.ENTER_SUBMITS:
            self._submit()
        else:
            self.query_one("#ok", Button).focus()

    @on(Button.Pressed, "#ok")
    def _submit(self) -> None:
        if self.query_one("#ok", Button).disabled:
            return
        self.dismiss(self.query_one("#reason", Input).value.strip())

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.dismiss(None)


class RefusedMoveDialog(ReasonDialog):
    """A move was refused by a gate: say which, and offer a forced move with a reason.

    Forcing takes pressing the button: Enter in the reason field only moves to it.
    """

    ENTER_SUBMITS = False

    def __init__(self, title: str, explanation: str) -> None:
        super().__init__(
            title,
            f"{explanation}\n\nTo move it anyway, give the reason, then press Force move; "
            "the move is logged as forced.",
            "Force move",
        )
        self.add_class("refused")


class StageList(OptionList):
    """An option list that stops at its first and last stage instead of wrapping around."""

    def _step(self, direction: int) -> None:
        here = self.highlighted
        index = (here if here is not None else -direction) + direction
        while 0 <= index < self.option_count:
            if not self.get_option_at_index(index).disabled:
                self.highlighted = index
                return
            index += direction

    def action_cursor_down(self) -> None:
        self._step(1)

    def action_cursor_up(self) -> None:
        self._step(-1)


class StagePicker(Dialog[str]):
    """Choose a stage to move the release to."""

    def __init__(self, title: str, stages: Sequence[str], current: str) -> None:
        super().__init__()
        self._title, self._stages, self._current = title, list(stages), current

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(_literal(self._title), classes="dialog-title")
            yield StageList(
                *(
                    Option(f"{s}  (here)" if s == self._current else s, id=s, disabled=s == self._current)
                    for s in self._stages
                ),
                id="stages",
            )
            yield Static("enter chooses (you confirm next) · esc cancels", classes="dialog-hint")

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        here = self._stages.index(self._current) if self._current in self._stages else 0
        options.highlighted = min(here + 1, len(self._stages) - 1)
        options.focus()

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)


class HelpScreen(Dialog[None]):
    """Every key of the screen it was opened from, by group, from that screen's key table.

    On a wide terminal the groups stand in two columns, so the whole list fits without scrolling.
    """

    BINDINGS = [Binding("escape,question_mark,q", "dismiss_none", "Close")]
    TWO_COLUMNS = 110  # terminal width from which the groups are laid out side by side

    def __init__(self, title: str, rows: Sequence[tuple[str, str, str]], read_only: bool = False) -> None:
        super().__init__()
        self._title = title
        self.rows = list(rows)
        self._read_only = read_only

    @staticmethod
    def _table(rows: Sequence[tuple[str, str, str]]) -> Table:
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold", no_wrap=True)
        table.add_column()
        group = None
        for heading, keys, description in rows:
            if heading != group:
                if group is not None:
                    table.add_row("", "")
                table.add_row(Text(heading, style="bold underline"), "")
                group = heading
            table.add_row(Text(keys), Text(description))
        return table

    def compose(self) -> ComposeResult:
        rows = self.rows
        halves = [rows]
        if self.app.size.width >= self.TWO_COLUMNS and len(rows) > 12:
            # split near the middle: between groups if one ends close to it
            middle = (len(rows) + 1) // 2
            starts = [i for i, row in enumerate(rows) if i > 0 and row[0] != rows[i - 1][0]]
            near = [i for i in starts if abs(i - middle) <= 3]
            cut = min(near, key=lambda i: abs(i - middle)) if near else middle
            halves = [rows[:cut], rows[cut:]]
        with Vertical(classes=f"dialog help{' wide' if len(halves) == 2 else ''}"):
            yield Label(self._title, classes="dialog-title")
            if self._read_only:
                yield Static("Read-only board: the keys that change things are off.", classes="dialog-body")
            with VerticalScroll(), Horizontal(classes="help-columns"):
                for half in halves:
                    yield Static(self._table(half), classes="help-column")
            yield Label("esc closes · ctrl+p lists every action", classes="dialog-hint")


class ErrorDialog(Dialog[None]):
    """An unexpected error: what it was, that the board goes on, and where the details are."""

    BINDINGS = [Binding("escape,enter", "dismiss_none", "Close")]

    def __init__(self, error: BaseException, log: str) -> None:
        super().__init__()
        self._error = error
        self._log = log
        self._more = 0

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog error"):
            yield Label("Something went wrong", classes="dialog-title")
            yield Static(_literal(f"{type(self._error).__name__}: {self._error}"), classes="dialog-body")
            yield Static(
                _literal(f"The board goes on. The details, with the traceback, are in\n{self._log}"),
                classes="dialog-body",
            )
            yield Static("", id="more", classes="dialog-hint")
            with Horizontal(classes="dialog-buttons"):
                yield Button(compact=True, label="OK", variant="primary", id="ok")

    def on_mount(self) -> None:
        self.query_one("#ok", Button).focus()

    def another(self, error: BaseException) -> None:
        """A further error while this one is shown: counted, not stacked."""
        self._more += 1
        self.query_one("#more", Static).update(f"and {self._more} more since (in the log too)")

    @on(Button.Pressed, "#ok")
    def _ok(self) -> None:
        self.dismiss(None)
