"""The board as code: environments, freezes and gate settings as TOML (tomllib in, tomli-w out)."""

from __future__ import annotations

import tomllib
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import tomli_w

from relman_tui import freezes as freeze_rules
from relman_tui.actions import HOOK_ACTIONS
from relman_tui.errors import BadInput, RelmanError
from relman_tui.limits import (
    BOARD_FILE_BYTES,
    BOARD_ITEMS_MAX,
    CAPACITY_MAX,
    ENV_NAME,
    ENVIRONMENTS_MAX,
    clean_login,
    clean_name,
    clean_text,
)
from relman_tui.model import PLANNED, BoardSettings, Environment, Freeze, Hook
from relman_tui.service import Service, build_freeze
from relman_tui.timeutil import UTC, format_duration, parse_duration

FORMAT = 1
HOOKS_MAX = 100
HOOK_TIMEOUT_DEFAULT_S = 600
HOOK_TIMEOUT_MAX = timedelta(hours=24)


def board_to_toml(service: Service) -> str:
    envs: list[dict[str, Any]] = [
        {"name": e.name, "title": e.title, "capacity": e.capacity, "requires_approval": e.requires_approval}
        for e in service.environments()
    ]
    freezes: list[dict[str, Any]] = []
    for f in service.freezes():
        item: dict[str, Any] = {"environments": list(f.environments), "reason": f.reason}
        if f.recurring:
            assert f.duration is not None
            item |= {"cron": f.cron, "duration": format_duration(f.duration), "zone": f.zone}
        else:
            item |= {"start": f.start, "end": f.end}
        freezes.append(item)
    settings = service.board_settings()
    data: dict[str, Any] = {
        "relman_board": FORMAT,
        "gates": {"four_eyes": settings.four_eyes},
        "access": {"delegates": list(settings.delegates)},
        "environments": envs,
    }
    hooks = [
        {
            "on": h.on,
            **({"environment": h.environment} if h.environment else {}),
            "run": list(h.run),
            "timeout": format_duration(h.timeout),
        }
        for h in service.hooks()
    ]
    if freezes:
        data["freezes"] = freezes
    if hooks:
        data["hooks"] = hooks
    header = (
        "# relman board: environments in pipeline order, freezes, gate settings and the accounts that may\n"
        "# act for others (delegates, `--as`).\n"
    )
    return header + tomli_w.dumps(data)


def export_board(service: Service, path: Path) -> None:
    from relman_tui.outfile import check_output

    check_output(path, "an export", service.store)
    text = board_to_toml(service)
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise BadInput(f"cannot write {path}: {exc.strerror}") from exc


@dataclass(frozen=True, slots=True)
class Board:
    """What a board file holds."""

    environments: list[Environment]
    freezes: list[Freeze]
    settings: BoardSettings
    hooks: list[Hook]


def import_board(service: Service, path: Path) -> Board:
    """Replace the pipeline, freezes and settings with the file's; all or nothing."""
    board = read_board(path)
    service.replace_board(board.environments, board.freezes, board.settings, board.hooks)
    return board


def read_board(path: Path) -> Board:
    try:
        with path.open("rb") as handle:
            raw = handle.read(BOARD_FILE_BYTES + 1)
    except FileNotFoundError:
        raise BadInput(f"{path} does not exist") from None
    except IsADirectoryError:
        raise BadInput(f"{path} is a directory, not a board file") from None
    except OSError as exc:
        raise BadInput(f"cannot read {path}: {exc.strerror}") from exc
    if len(raw) > BOARD_FILE_BYTES:
        limit = BOARD_FILE_BYTES // (1024 * 1024)
        raise BadInput(f"{path} is larger than {limit} MB; a board file is refused past that")
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise BadInput(f"{path} is not UTF-8 text ({exc.reason})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise BadInput(f"bad TOML in {path}: {exc}") from exc
    except RecursionError:
        raise BadInput(f"bad TOML in {path}: nested too deeply") from None
    return parse_board(data, str(path))


def parse_board(data: dict[str, Any], where: str) -> Board:
    def bad(key: str, problem: str) -> BadInput:
        return BadInput(f"{where}: key {key!r}: {problem}")

    unknown = set(data) - {"relman_board", "gates", "access", "environments", "freezes", "hooks"}
    if unknown:
        raise bad(sorted(unknown)[0], "unknown key")
    version = data.get("relman_board", FORMAT)
    if isinstance(version, bool) or not isinstance(version, int) or version != FORMAT:
        raise bad("relman_board", f"format {version!r} is not supported (expected {FORMAT})")
    access = _table(data.get("access", {}), "access", bad)
    if set(access) - {"delegates"}:
        raise bad(f"access.{sorted(set(access) - {'delegates'})[0]}", "unknown key (only delegates is known)")
    raw_delegates = access.get("delegates", [])
    if not isinstance(raw_delegates, list) or not all(isinstance(d, str) for d in raw_delegates):
        raise bad("access.delegates", "must be a list of account names")
    if len(raw_delegates) > BOARD_ITEMS_MAX:
        raise bad("access.delegates", f"has {len(raw_delegates)} entries; at most {BOARD_ITEMS_MAX} are allowed")
    try:
        delegates = tuple(dict.fromkeys(clean_login(d, "delegate") for d in raw_delegates))
    except BadInput as exc:
        raise bad("access.delegates", str(exc)) from exc
    gates = _table(data.get("gates", {}), "gates", bad)
    if set(gates) - {"four_eyes"}:
        raise bad(f"gates.{sorted(set(gates) - {'four_eyes'})[0]}", "unknown key (only four_eyes is known)")
    four_eyes = gates.get("four_eyes", True)
    if not isinstance(four_eyes, bool):
        raise bad("gates.four_eyes", "must be true or false")

    raw_envs = data.get("environments")
    if not isinstance(raw_envs, list) or not raw_envs:
        raise bad("environments", "must be a non-empty array of tables ([[environments]])")
    if len(raw_envs) > ENVIRONMENTS_MAX:
        raise bad("environments", f"has {len(raw_envs)} environments; at most {ENVIRONMENTS_MAX} are allowed")
    envs: list[Environment] = []
    for i, raw in enumerate(raw_envs):
        key = f"environments[{i}]"
        item = _table(raw, key, bad)
        extra = set(item) - {"name", "title", "capacity", "requires_approval"}
        if extra:
            raise bad(f"{key}.{sorted(extra)[0]}", "unknown key")
        name = item.get("name")
        if not isinstance(name, str):
            raise bad(f"{key}.name", "missing or not a string")
        capacity = item.get("capacity", 1)
        if isinstance(capacity, bool) or not isinstance(capacity, int) or not 1 <= capacity <= CAPACITY_MAX:
            raise bad(f"{key}.capacity", f"must be a whole number from 1 to {CAPACITY_MAX}")
        last = i == len(raw_envs) - 1
        approval = item.get("requires_approval", last)
        if not isinstance(approval, bool):
            raise bad(f"{key}.requires_approval", "must be true or false")
        title = item.get("title", name.capitalize())
        if not isinstance(title, str):
            raise bad(f"{key}.title", "must be a string")
        if not ENV_NAME.fullmatch(name) or name in ("planned", "all"):
            raise bad(f"{key}.name", "must be a lowercase slug such as 'staging' (not 'planned' or 'all')")
        try:
            envs.append(Environment(name, clean_name(title, "title"), i + 1, capacity, approval))
        except BadInput as exc:
            raise bad(f"{key}.title", str(exc)) from exc
    names = [e.name for e in envs]
    if len(set(names)) != len(names):
        raise bad("environments", "names must be unique")

    freezes: list[Freeze] = []
    raw_freezes = data.get("freezes", [])
    if not isinstance(raw_freezes, list):
        raise bad("freezes", "must be an array of tables ([[freezes]])")
    if len(raw_freezes) > BOARD_ITEMS_MAX:
        raise bad("freezes", f"has {len(raw_freezes)} freezes; at most {BOARD_ITEMS_MAX} are allowed")
    for i, raw in enumerate(raw_freezes):
        key = f"freezes[{i}]"
        item = _table(raw, key, bad)
        extra = set(item) - {"environments", "reason", "start", "end", "cron", "duration", "zone"}
        if extra:
            raise bad(f"{key}.{sorted(extra)[0]}", "unknown key")
        fenvs = item.get("environments")
        if isinstance(fenvs, str):
            fenvs = [fenvs]
        if not isinstance(fenvs, list) or not all(isinstance(e, str) for e in fenvs):
            raise bad(f"{key}.environments", 'must be a list of environment names, or ["all"]')
        reason = item.get("reason")
        if not isinstance(reason, str) or not reason.strip():
            raise bad(f"{key}.reason", "missing or empty")
        try:  # the same rule as `relman freeze add`: no control characters to steer a terminal
            reason = clean_text(reason, "reason")
        except BadInput as exc:
            raise bad(f"{key}.reason", str(exc)) from exc
        unknown_envs = [e for e in fenvs if e != "all" and e not in names]
        if unknown_envs:
            raise bad(f"{key}.environments", f"unknown environment {unknown_envs[0]!r}")
        cron = _opt_str(item.get("cron"), f"{key}.cron", bad)
        zone = _opt_str(item.get("zone"), f"{key}.zone", bad)
        checks = (("cron", cron, freeze_rules.parse_cron), ("zone", zone, freeze_rules.validate_zone))
        for field, value, check in checks:
            if value is not None:
                try:
                    check(value)
                except BadInput as exc:
                    raise bad(f"{key}.{field}", str(exc)) from exc
        try:
            duration = item.get("duration")
            freezes.append(
                build_freeze(
                    0,
                    fenvs,
                    reason.strip(),
                    start=_when(item.get("start"), f"{key}.start", bad),
                    end=_when(item.get("end"), f"{key}.end", bad),
                    cron=cron,
                    duration=_duration(duration, f"{key}.duration", bad) if duration is not None else None,
                    zone=zone,
                )
            )
        except RelmanError as exc:
            if str(exc).startswith(where):
                raise
            raise bad(key, str(exc)) from exc
    hooks = _hooks(data.get("hooks", []), [PLANNED, *names], bad)
    return Board(envs, freezes, BoardSettings(four_eyes, delegates), hooks)


def parse_hook(item: dict[str, Any], stages: Sequence[str], key: str, bad: Any) -> Hook:
    """One hook, checked as a board file's ``[[hooks]]`` entry is (and as `relman hooks add` is)."""
    extra = set(item) - {"on", "environment", "run", "timeout"}
    if extra:
        raise bad(f"{key}.{sorted(extra)[0]}", "unknown key")
    on = item.get("on")
    if not isinstance(on, str) or on not in HOOK_ACTIONS:
        raise bad(f"{key}.on", f"must be an event action: {', '.join(sorted(HOOK_ACTIONS))}")
    environment = _opt_str(item.get("environment"), f"{key}.environment", bad)
    if environment is not None and environment not in stages:
        raise bad(f"{key}.environment", f"unknown stage {environment!r} (stages: {', '.join(stages)})")
    run = item.get("run")
    if (
        not isinstance(run, list)
        or not run
        or len(run) > 100
        or not all(isinstance(a, str) and a and len(a) <= 4096 for a in run)
    ):
        raise bad(f"{key}.run", "must be a command as a list of 1 to 100 non-empty strings (argv; no shell)")
    for arg in run:
        if "\x00" in arg or any(unicodedata.category(c) == "Cc" for c in arg):
            raise bad(f"{key}.run", "must not contain control characters")
    timeout = item.get("timeout", HOOK_TIMEOUT_DEFAULT_S)
    length = _duration(timeout, f"{key}.timeout", bad)
    if length > HOOK_TIMEOUT_MAX:
        raise bad(f"{key}.timeout", f"is longer than {format_duration(HOOK_TIMEOUT_MAX)}")
    return Hook(on, tuple(run), length, environment)


def _hooks(raw_hooks: Any, stages: list[str], bad: Any) -> list[Hook]:
    if not isinstance(raw_hooks, list):
        raise bad("hooks", "must be an array of tables ([[hooks]])")
    if len(raw_hooks) > HOOKS_MAX:
        raise bad("hooks", f"has {len(raw_hooks)} hooks; at most {HOOKS_MAX} are allowed")
    hooks = [parse_hook(_table(raw, f"hooks[{i}]", bad), stages, f"hooks[{i}]", bad) for i, raw in enumerate(raw_hooks)]
    ids = [h.id for h in hooks]
    if len(set(ids)) != len(ids):
        raise bad("hooks", "the same hook is listed twice")
    return hooks


def _table(value: Any, key: str, bad: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise bad(key, "must be a table")
    return value


def _opt_str(value: Any, key: str, bad: Any) -> str | None:
    if value is not None and not isinstance(value, str):
        raise bad(key, "must be a string")
    return value


def _when(value: Any, key: str, bad: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise bad(key, f"bad time {value!r}") from None
    if not isinstance(value, datetime):
        raise bad(key, "must be a date-time such as 2026-12-24T00:00:00Z")
    if value.tzinfo is None:
        raise bad(key, "needs an offset or Z (times in board files are absolute)")
    return value.astimezone(UTC)


def _duration(value: Any, key: str, bad: Any) -> timedelta:
    if isinstance(value, int) and not isinstance(value, bool):
        if value <= 0:
            raise bad(key, "must be positive")
        return timedelta(seconds=value)
    if not isinstance(value, str):
        raise bad(key, 'must be a duration such as "62h" or a number of seconds')
    try:
        return parse_duration(value)
    except BadInput as exc:
        raise bad(key, str(exc)) from exc
