"""Insights: the delivery figures of one environment over a period, each with its weekly trend (key `3`)."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Static

from relman_tui.insights import DEFAULT_DAYS, Insights, Trend
from relman_tui.insights_text import rows
from relman_tui.service import Snapshot
from relman_tui.text import inert
from relman_tui.timeutil import format_local
from relman_tui.tui.keys import COMMON, Key, KeyTable
from relman_tui.tui.screens.base import KeyedScreen
from relman_tui.tui.session import Read, Session
from relman_tui.tui.widgets.topbar import TopBar
from relman_tui.tui.widgets.trend import Trend as TrendLine

PERIODS = (7, 30, DEFAULT_DAYS, 180, 365)
FIGURES = ("deployments", "lead_time", "change_failure_rate", "recovery_time", "forced")

KEYS = KeyTable(
    Key(
        "1,escape",
        "show_board",
        "1 esc",
        "back to the board",
        label="Board",
        rank=2,
        palette="Back to the board",
        group="Insights",
    ),
    Key(
        "e",
        "environment(1)",
        "e E",
        "the next (E: previous) environment",
        label="Env",
        rank=3,
        palette="Insights: next environment",
        group="Insights",
    ),
    Key("E", "environment(-1)", "E", "", group="Insights"),
    Key(
        "p",
        "period(1)",
        "p P",
        "a longer (P: shorter) period: 7, 30, 90, 180, 365 days",
        label="Period",
        rank=4,
        palette="Insights: a longer period",
        group="Insights",
    ),
    Key("P", "period(-1)", "P", "", group="Insights"),
    Key(
        "u",
        "toggle_utc",
        "u",
        "times in UTC / in your zone",
        palette="Show times in UTC / your zone",
        group="Insights",
    ),
) + COMMON.only("palette", "help", "quit")


class InsightsScreen(KeyedScreen):
    """The figures `relman insights` prints, for the chosen environment and period, each with a weekly trend.

    Computed by the session's worker, off the event loop, again whenever the log moves on.
    """

    KEYS = KEYS
    BINDINGS = KEYS.bindings()

    def __init__(self) -> None:
        super().__init__()
        self.environment: str | None = None  # None: the pipeline's last, once the board is known
        self.days = DEFAULT_DAYS
        self.shown: Insights | None = None
        self._asked: tuple[str | None, int, int] | None = None  # what the running computation is for
        self._seen_seq = -1

    @property
    def help_title(self) -> str:
        return "Insights: keys"

    def compose(self) -> ComposeResult:
        yield TopBar()
        with Vertical(id="insights"):
            yield Static("computing…", id="insights-title")
            yield Static("", id="insights-note")
            for name in FIGURES:
                with Vertical(classes="figure", id=f"figure-{name}"):
                    with Horizontal(classes="figure-head"):
                        yield Static("", classes="figure-label")
                        yield TrendLine([], classes="figure-trend")
                    yield Static("", classes="figure-value")
        yield from self.compose_guard()

    def on_mount(self) -> None:
        self.watch(self.app, "snapshot", self._board_changed)
        self.watch(self.app, "utc", lambda _: self._draw(), init=False)
        ascii_mode = bool(getattr(self.app, "ascii_only", False))  # the bars in ASCII (the driver would blank them)
        for line in self.query(TrendLine):
            line.ascii = ascii_mode

    # -- the keys ----------------------------------------------------------------------------------

    def action_show_board(self) -> None:
        self.host.show_board()

    def action_environment(self, step: int) -> None:
        names = self._environments()
        if not names:
            return
        here = names.index(self.environment) if self.environment in names else len(names) - 1
        self.environment = names[(here + step) % len(names)]
        self._compute()

    def action_period(self, step: int) -> None:
        here = PERIODS.index(self.days) if self.days in PERIODS else PERIODS.index(DEFAULT_DAYS)
        self.days = PERIODS[max(0, min(len(PERIODS) - 1, here + step))]
        self._compute()

    # -- computing, off the loop -------------------------------------------------------------------

    def _environments(self) -> list[str]:
        snapshot = self.host.snapshot
        if snapshot is None:
            return []
        return [env.name for env in sorted(snapshot.environments, key=lambda e: e.position)]

    def _board_changed(self, snapshot: Snapshot | None) -> None:
        if snapshot is None:
            return
        host = self.host
        self.query_one(TopBar).show(snapshot, host.tz, host.now(), host.read_only, host.board_name, host.identity)
        if snapshot.last_seq != self._seen_seq:
            self._seen_seq = snapshot.last_seq
            self._compute()

    def _compute(self) -> None:
        names = self._environments()
        if self.environment not in names:
            self.environment = names[-1] if names else None
        if self.environment is None:
            self.query_one("#insights-title", Static).update("no environments on this board")
            return
        asked = (self.environment, self.days, self._seen_seq)
        if self._asked == asked:
            return
        self._asked = asked
        environment, days = self.environment, self.days
        self.host.session.read(self, Read.INSIGHTS, lambda service: service.insights(environment, days), context=asked)

    def on_session_done(self, message: Session.Done[object]) -> None:
        if message.call.name != Read.INSIGHTS or not isinstance(message.result, Insights):
            return
        if message.call.context != self._asked:
            return  # an answer to an earlier question: a newer one is on its way
        self.shown = message.result
        self._draw()

    # -- drawing -----------------------------------------------------------------------------------

    def _draw(self) -> None:
        if self.shown is None:
            return
        f = self.shown.figures
        tz = self.host.tz
        title = f"Insights: {f.environment}, the {f.days} days to {format_local(f.end, tz)}"
        self.query_one("#insights-title", Static).update(Text(inert(title), style="bold"))
        self.query_one("#insights-note", Static).update(
            Text("each trend: one bar a week, the oldest left; e environment, p period", style="dim")
        )
        trend = self.shown.trend
        series = _series(trend)
        for name, (label, value) in zip(FIGURES, rows(f), strict=True):
            box = self.query_one(f"#figure-{name}", Vertical)
            box.query_one(".figure-label", Static).update(Text(label, style="bold"))
            box.query_one(".figure-value", Static).update(Text("  " + inert(value)))
            box.query_one(".figure-trend", TrendLine).data = series[name]


def _series(trend: Trend) -> dict[str, list[float]]:
    """Each figure's weekly values, a week with nothing to say drawn as zero."""

    def plain(values: tuple[float | None, ...]) -> list[float]:
        return [v or 0.0 for v in values]

    return {
        "deployments": plain(trend.deployments),
        "lead_time": plain(trend.lead_time),
        "change_failure_rate": plain(trend.change_failure_rate),
        "recovery_time": plain(trend.recovery_time),
        "forced": plain(trend.forced),
    }
