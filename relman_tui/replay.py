"""The board as the replay of its log: fold the events into a state, check each against the rules of its time,
and name the first difference from the stored tables (pure; DESIGN "The log is the truth")."""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TypeVar

from relman_tui import admins as admin_rules
from relman_tui import gates
from relman_tui.actions import HOOK_OUTCOMES, RULE_CHANGES, Action
from relman_tui.chain import StoredEvent
from relman_tui.details import (
    Details,
    EnvironmentRecord,
    FreezeRecord,
    HookRecord,
    ReleaseRecord,
    SettingValue,
    StateRecord,
    WindowRecord,
    parse,
)
from relman_tui.model import Environment, Freeze, Hook, Release, Risk, State
from relman_tui.records import environment_record, freeze_record, listed_hook, release_record, window_record
from relman_tui.timeutil import from_stamp

SETTING_KEYS = ("four_eyes", "delegates", admin_rules.ADMINS, admin_rules.FIXED_CLOCK)


@dataclass
class BoardState:
    """Releases, windows, environments, freezes, settings and hooks, as plain JSON-like records."""

    releases: dict[int, ReleaseRecord] = field(default_factory=dict)
    windows: dict[tuple[int, str], WindowRecord] = field(default_factory=dict)
    environments: dict[str, EnvironmentRecord] = field(default_factory=dict)
    freezes: dict[int, FreezeRecord] = field(default_factory=dict)
    settings: dict[str, SettingValue] = field(
        default_factory=lambda: {"four_eyes": True, "delegates": [], "admins": [], "fixed_clock": "off"}
    )
    hooks: dict[str, HookRecord] = field(default_factory=dict)  # each with its added_seq

    def as_json(self) -> StateRecord:
        """What a ``state_checkpoint`` event carries."""
        return {
            "releases": [self.releases[k] for k in sorted(self.releases)],
            "windows": [{"release": k[0], **self.windows[k]} for k in sorted(self.windows)],
            "environments": [self.environments[k] for k in sorted(self.environments)],
            "freezes": [self.freezes[k] for k in sorted(self.freezes)],
            "settings": dict(self.settings),
            "hooks": [self.hooks[k] for k in sorted(self.hooks)],
        }

    @classmethod
    def from_json(cls, data: StateRecord) -> BoardState:
        state = cls()
        state.releases = {r["id"]: r.copy() for r in data.get("releases", [])}
        for w in data.get("windows", []):
            state.windows[(w["release"], w["environment"])] = {
                "environment": w["environment"],
                "start": w["start"],
                "end": w["end"],
            }
        state.environments = {e["name"]: e.copy() for e in data.get("environments", [])}
        state.freezes = {f["id"]: f.copy() for f in data.get("freezes", [])}
        state.settings.update(data.get("settings", {}))
        state.hooks = {h["hook"]: h.copy() for h in data.get("hooks", [])}
        return state


def table_state(
    settings: Mapping[str, str],
    environments: Sequence[Environment],
    releases: Sequence[Release],
    freezes: Sequence[Freeze],
    hooks: Sequence[Hook],
) -> BoardState:
    """The stored tables as a :class:`BoardState` (every release, cancelled ones too)."""
    state = BoardState()
    state.releases = {r.id: release_record(r) for r in releases}
    state.windows = {(w.release_id, w.environment): window_record(w) for r in releases for w in r.windows}
    state.environments = {e.name: environment_record(e) for e in environments}
    state.freezes = {f.id: freeze_record(f) for f in freezes}
    state.settings = {
        "four_eyes": settings.get("four_eyes", "true") == "true",
        "delegates": list(admin_rules.accounts(settings.get("delegates", "[]"))),
        "admins": list(admin_rules.accounts(settings.get("admins", "[]"))),
        "fixed_clock": settings.get("fixed_clock", "off"),
    }
    state.hooks = {h.id: listed_hook(h) for h in hooks}
    return state


@dataclass(frozen=True, slots=True)
class Replayed:
    """What replaying a log found."""

    state: BoardState
    start: int  # seq of the checkpoint replay started from (0: from the board's first event)
    problem: str  # the first rule broken or event that cannot be replayed; empty when none
    at_seq: int | None  # that event's seq
    fixed_clock: bool  # whether the time-order check was skipped for some events (a fixed-clock board)
    kind: str = ""  # "time" or "rules"


def replay(events: Sequence[StoredEvent], *, server_admins: bool = False) -> Replayed:
    """Fold ``events`` (oldest first) into a state, checking each against the rules in force at its time.

    Replay starts at the first ``state_checkpoint`` (history before it is not replayable: a board from before
    replayable events, or a demo's made-up history); on any other board, and after it, a checkpoint
    must hold the state the log replays to there, or anyone who can append a chained event could vouch
    for tables changed behind the log's back. ``server_admins``: a server decides who its admins are (its
    admin role); the log cannot show role membership, so who made rule changes is left to the server.
    """
    start_index = 0
    start = 0
    for index, event in enumerate(events):
        if event.action == Action.BOARD_CREATED and parse(event.details).get("history") != "made up":
            break  # a board made by a relman that logs replayable events (not a demo): every event replays
        if event.action == Action.STATE_CHECKPOINT:
            start_index, start = index, event.seq
            break
    state = BoardState()
    skipped_time = False
    last_at: str | None = None
    first: tuple[int, str, str] | None = None
    for event in events[start_index:]:
        details = parse(event.details)
        fixed = state.settings.get("fixed_clock") == "on"
        if fixed:
            skipped_time = True
        elif last_at is not None and event.at < last_at and first is None:
            first = (
                event.seq,
                f"event #{event.seq} is dated {event.at}, before the event it follows ({last_at})",
                "time",
            )
        last_at = event.at
        problem = _rules(state, event, details, server_admins)
        if event.action == Action.STATE_CHECKPOINT and event.seq != start:
            problem = problem or _checkpoint_problem(state, event, details)
        try:
            _apply(state, event, details)
        except (KeyError, TypeError, ValueError) as exc:
            problem = problem or f"event #{event.seq} ({event.action}) cannot be replayed: {exc} missing or malformed"
        if problem and first is None:
            first = (event.seq, problem, "rules")
    if state.settings.get("fixed_clock") == "on":
        skipped_time = True
    if first is None:
        return Replayed(state, start, "", None, skipped_time)
    return Replayed(state, start, first[1], first[0], skipped_time, first[2])


def _checkpoint_problem(state: BoardState, event: StoredEvent, details: Details) -> str:
    """Why a checkpoint after the first does not hold the state the log replays to before it ("" when it does)."""
    try:
        claimed = BoardState.from_json(details["state"])
    except (KeyError, TypeError, ValueError):
        return ""  # _apply names it
    difference = first_difference(claimed, state, this="the checkpoint")
    if difference is None:
        return ""
    return f"event #{event.seq} (state_checkpoint) does not hold the state the log replays to: {difference}"


def first_difference(table: BoardState, log: BoardState, *, this: str = "the table") -> str | None:
    """The first place the stored tables (or what ``this`` names) differ from the replayed log, in words, or
    ``None``."""
    for key in SETTING_KEYS:
        a, b = _norm(table.settings.get(key)), _norm(log.settings.get(key))
        if a != b:
            return f"setting {key}: {_show(a)} in {this}, {_show(b)} in the log"
    found = (
        _row_difference("environment", table.environments, log.environments, this)
        or _row_difference("release", table.releases, log.releases, this)
        or _row_difference("freeze", table.freezes, log.freezes, this)
        or _row_difference("hook", table.hooks, log.hooks, this)
    )
    if found:
        return found
    for spot in sorted(set(table.windows) | set(log.windows)):
        a, b = table.windows.get(spot), log.windows.get(spot)
        if a != b:
            where = f"window of release {spot[0]} in {spot[1]}"
            if a is None or b is None:
                return f"{where}: {f'in {this}, not in the log' if b is None else f'in the log, not in {this}'}"
            name = next(k for k in ("start", "end") if a.get(k) != b.get(k))
            return f"{where}: {name} is {_show(a.get(name))} in {this}, {_show(b.get(name))} in the log"
    return None


Key = TypeVar("Key", bound=Hashable)


def _row_difference(
    what: str, table: Mapping[Key, Mapping[str, object]], log: Mapping[Key, Mapping[str, object]], this: str
) -> str | None:
    for key in sorted(set(table) | set(log), key=str):
        a, b = table.get(key), log.get(key)
        if a is None:
            return f"{what} {key}: in the log, not in {this}"
        if b is None:
            return f"{what} {key}: in {this}, not in the log"
        for name in dict.fromkeys([*a, *b]):
            if _norm(a.get(name)) != _norm(b.get(name)):
                return f"{what} {key}: {name} is {_show(a.get(name))} in {this}, {_show(b.get(name))} in the log"
    return None


def _norm(value: object) -> object:
    if isinstance(value, list):
        return [_norm(v) for v in value]
    if isinstance(value, str) and value.casefold() in ("true", "false"):
        return value.casefold() == "true"
    return value


def _show(value: object) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(map(str, value)) + "]"
    return str(value)


def _apply(state: BoardState, event: StoredEvent, d: Details) -> None:
    """Change ``state`` as ``event`` did (raises KeyError/TypeError/ValueError for one that cannot be replayed)."""
    action = event.action
    if action == Action.STATE_CHECKPOINT:
        fresh = BoardState.from_json(d["state"])
        state.__dict__.update(fresh.__dict__)
    elif action == Action.BOARD_CREATED:
        state.settings["admins"] = list(d["admins"])
        state.settings["fixed_clock"] = d.get("fixed_clock", "off")
    elif action == Action.BOARD_COPIED:
        state.settings["admins"] = list(d["admins"])
    elif "release" in d and event.release is not None:
        release = d["release"].copy()
        if release["id"] != event.release:
            raise ValueError(f"its release record is of release {release['id']}, not {event.release}")
        state.releases[event.release] = release
        if action == Action.SCHEDULED:
            window = d["window"]
            state.windows[(event.release, window["environment"])] = window.copy()
        elif action == Action.UNSCHEDULED:
            state.windows.pop((event.release, d["window"]["environment"]), None)
    elif event.release is not None and action not in HOOK_OUTCOMES:
        raise KeyError("the release's record (details.release) is")
    elif action in (Action.ENV_ADDED, Action.ENV_CHANGED):
        environment = _environment_record(d).copy()
        state.environments[environment["name"]] = environment
        _positions(state, d)
    elif action == Action.ENV_REMOVED:
        state.environments.pop(_environment_record(d)["name"], None)
        _positions(state, d)
    elif action == Action.FREEZE_ADDED:
        freeze = d["freeze"].copy()
        state.freezes[freeze["id"]] = freeze
    elif action == Action.FREEZE_REMOVED:
        state.freezes.pop(d["freeze"]["id"], None)
    elif action == Action.SETTING_CHANGED:
        key = d["key"]
        if key in SETTING_KEYS:
            state.settings[key] = d["new"]
    elif action == Action.HOOK_ADDED:
        hook = _hook_record(d)
        state.hooks[hook["hook"]] = {**hook, "added_seq": event.seq}
    elif action == Action.HOOK_REMOVED:
        state.hooks.pop(_hook_record(d)["hook"], None)


def _environment_record(d: Details) -> EnvironmentRecord:
    """An environment event's record (``environment`` is a name in a window's event, a record here)."""
    record = d.get("environment")
    if not isinstance(record, dict):
        raise KeyError("environment")
    return record


def _hook_record(d: Details) -> HookRecord:
    """A hook change's record (``hook`` is the hook's id in a hook's outcome, its record here)."""
    record = d.get("hook")
    if not isinstance(record, dict):
        raise KeyError("hook")
    return record


def _accounts(value: SettingValue | None) -> list[str]:
    """A setting that lists accounts, as a list (none: empty)."""
    return value if isinstance(value, list) else []


def _positions(state: BoardState, d: Details) -> None:
    order = d.get("pipeline", [])
    for name, record in state.environments.items():
        if name in order:
            record["position"] = order.index(name) + 1


def _rules(state: BoardState, event: StoredEvent, d: Details, server_admins: bool) -> str:
    """The rule ``event`` broke, judged by the state before it; empty when it broke none."""
    seq, actor, via = event.seq, event.actor, event.via
    settings = state.settings
    if via is not None and via.casefold() not in {x.casefold() for x in _accounts(settings.get("delegates"))}:
        return f"event #{seq}: {actor} acted via {via}, which was not a delegate then"
    if event.action == Action.BOARD_CREATED:
        if settings.get("admins") or state.releases or state.environments:
            return f"event #{seq}: a board_created event in the middle of a board's history"
        # on a server the first admin is the role `pg setup` named (the server checks membership)
        if not server_admins and [a.casefold() for a in d.get("admins", [])] != [actor.casefold()]:
            return f"event #{seq}: a board's first admin is the account that created it ({actor})"
        return ""
    if event.action in RULE_CHANGES and not server_admins:
        words: dict[str, str] = {Action.SETTING_CHANGED: "change settings", Action.IMPORTED: "import a board file"}
        what = words.get(event.action, "change environments" if event.action.startswith("env_") else "change hooks")
        problem = admin_rules.admin_problem(actor, via, _accounts(settings.get("admins")), what)
        if problem:
            return f"event #{seq}: {problem} then"
    if event.action == Action.SETTING_CHANGED:
        key = str(d.get("key"))
        if key in admin_rules.GRANTS:
            problem = admin_rules.self_grant_problem(
                actor, via, key, _accounts(settings.get(key)), _accounts(d.get("new"))
            )
            if problem:
                return f"event #{seq}: {problem}"
    if event.release is None or event.release not in state.releases:
        return ""
    before = _release(state, event.release)
    if event.action == Action.APPROVED:
        problem = gates.check_approval(before, actor, bool(settings.get("four_eyes", True)), via)
        if problem:
            return f"event #{seq}: {problem}"
    elif event.action == Action.MOVED and event.to is not None:
        envs = [_environment(e) for e in state.environments.values()]
        check = gates.check_move(before, event.to, envs, [_freeze(f) for f in state.freezes.values()], _at(event))
        if check.failures and not event.forced:
            return f"event #{seq}: {before.label} moved to {event.to} past its gates ({check.explain()}), not forced"
        target = next((e for e in envs if e.name == event.to), None)
        after = d.get("release")
        if target and target.requires_approval and before.approved_by is None and not (after and after["unapproved"]):
            return f"event #{seq}: {before.label} entered {event.to} unapproved without the break-glass mark"
    return ""


def _at(event: StoredEvent) -> datetime:
    return from_stamp(event.at)


def _release(state: BoardState, release_id: int) -> Release:
    r = state.releases[release_id]
    return Release(
        id=int(r["id"]),
        name=str(r["name"]),
        version=str(r["version"]),
        components=tuple(r.get("components") or ()),
        owner=str(r["owner"]),
        risk=Risk(r.get("risk", "low")),
        stage=str(r["stage"]),
        state=State(r["state"]),
        approved_by=r.get("approved_by"),
        approved_at=from_stamp(approved_at) if (approved_at := r["approved_at"]) else None,
        notes=str(r.get("notes", "")),
        created_at=from_stamp(r["created_at"]),
        updated_at=from_stamp(r["updated_at"]),
        rev=int(r.get("rev", 1)),  # no windows: no rule replay checks looks at them
        created_by=str(r.get("created_by") or r["owner"]),
        unapproved=bool(r.get("unapproved")),
    )


def _environment(e: EnvironmentRecord) -> Environment:
    return Environment(
        str(e["name"]), str(e["title"]), int(e["position"]), int(e["capacity"]), bool(e["requires_approval"])
    )


def _freeze(f: FreezeRecord) -> Freeze:
    if f.get("cron"):
        return Freeze(
            int(f["id"]),
            tuple(f["environments"]),
            str(f["reason"]),
            cron=str(f["cron"]),
            duration=timedelta(seconds=int(f["duration"])),
            zone=str(f["zone"]),
        )
    return Freeze(
        int(f["id"]),
        tuple(f["environments"]),
        str(f["reason"]),
        start=from_stamp(f["start"]),
        end=from_stamp(f["end"]),
    )
