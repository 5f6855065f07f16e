"""The board as code: environments, freezes and gates round-trip through TOML; bad files are named by path and key."""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from conftest import NOW, default_environments, new_store

from relman_tui.boardfile import board_to_toml, export_board, import_board, read_board
from relman_tui.errors import BadInput
from relman_tui.model import BoardSettings, Environment
from relman_tui.service import Service
from relman_tui.store import Store
from relman_tui.timeutil import FixedClock

HOUR = timedelta(hours=1)


@pytest.fixture
def fresh(tmp_path: Path, clock: FixedClock) -> Iterator[Callable[[str], Service]]:
    """A Service on a brand-new, empty relman database (no environments at all)."""
    opened: list[Store] = []

    def make(name: str) -> Service:
        store = Store.open(tmp_path / f"{name}.db", create=True)
        opened.append(store)
        service = Service(store, clock, "alice")
        service.found_board()  # alice made it: its first admin
        return service

    yield make
    for store in opened:
        store.close()


def a_board(service: Service) -> None:
    service.add_environment("qa", "Quality assurance", 3, "test", approval=True)
    service.add_freeze(["all"], "year-end trading peak", start=NOW + 12 * 24 * HOUR, end=NOW + 13 * 24 * HOUR)
    service.add_freeze(["prod"], "weekend change freeze", cron="0 18 * * FRI", duration=62 * HOUR, zone="Europe/Berlin")
    service.add_freeze(["dev", "test"], "nightly backup", cron="30 1 * * *", duration=timedelta(minutes=45), zone="UTC")
    service.replace_board(service.environments(), service.freezes(), BoardSettings(four_eyes=False))


def test_round_trip(service: Service, fresh: Callable[[str], Service], tmp_path: Path) -> None:
    a_board(service)
    path = tmp_path / "board.toml"
    export_board(service, path)
    data = tomllib.loads(path.read_text())
    assert data["gates"] == {"four_eyes": False}
    assert [e["name"] for e in data["environments"]] == ["dev", "test", "qa", "staging", "preprod", "prod"]

    other = fresh("other")
    board = import_board(other, path)
    assert (len(board.environments), len(board.freezes)) == (6, 3)
    assert other.environments() == service.environments()
    assert [replace(f, id=0) for f in other.freezes()] == [replace(f, id=0) for f in service.freezes()]
    assert other.four_eyes() is False
    assert board_to_toml(other) == path.read_text()

    # and importing the same file again changes nothing but the log
    import_board(other, path)
    assert board_to_toml(other) == path.read_text()
    assert other.events()[-1].action == "imported"


def test_the_file_is_the_board_in_pipeline_order(service: Service, tmp_path: Path) -> None:
    path = tmp_path / "board.toml"
    path.write_text(
        """
        [gates]
        four_eyes = true

        [[environments]]
        name = "build"

        [[environments]]
        name = "dev"
        title = "Development"

        [[environments]]
        name = "live"
        capacity = 2

        [[freezes]]
        environments = "live"
        reason = "monthly close"
        cron = "0 0 1 * *"
        duration = 7200
        zone = "Europe/London"

        [[freezes]]
        environments = ["all"]
        reason = "migration"
        start = 2026-12-24T00:00:00+01:00
        end = "2026-12-27T00:00:00Z"
        """
    )
    import_board(service, path)
    assert service.environments() == [
        Environment("build", "Build", 1, 1, False),
        Environment("dev", "Development", 2, 1, False),
        Environment("live", "Live", 3, 2, True),  # approval defaults to the last environment only
    ]
    monthly, migration = service.freezes()
    assert (monthly.environments, monthly.cron, monthly.duration, monthly.zone) == (
        ("live",),
        "0 0 1 * *",
        2 * HOUR,
        "Europe/London",
    )
    assert (migration.environments, migration.start, migration.end) == (
        ("all",),
        NOW + timedelta(days=22, hours=13),
        NOW + timedelta(days=25, hours=14),
    )


def test_an_import_that_drops_an_environment_in_use_is_refused_and_changes_nothing(
    service: Service, tmp_path: Path
) -> None:
    a_board(service)
    release = service.add_release("payments-api", "2.4.1")
    service.move(release.id, "dev")
    before = (service.environments(), service.freezes(), service.four_eyes(), service.events())

    smaller = [e for e in default_environments() if e.name != "dev"]
    path = tmp_path / "smaller.toml"
    path.write_text(
        "".join(f'[[environments]]\nname = "{e.name}"\n' for e in smaller)
        + '[[freezes]]\nenvironments = ["all"]\nreason = "x"\nstart = 2027-01-01T00:00:00Z\n'
        + "end = 2027-01-02T00:00:00Z\n"
    )
    with pytest.raises(BadInput, match="'dev' is missing from the file but still has releases"):
        import_board(service, path)
    assert (service.environments(), service.freezes(), service.four_eyes(), service.events()) == before


def test_a_window_also_keeps_an_environment(service: Service, tmp_path: Path) -> None:
    release = service.add_release("payments-api", "2.4.1")
    service.schedule(release.id, "prod", NOW + HOUR, NOW + 2 * HOUR)
    path = tmp_path / "no-prod.toml"
    path.write_text("".join(f'[[environments]]\nname = "{e.name}"\n' for e in default_environments()[:-1]))
    with pytest.raises(BadInput, match="'prod' is missing"):
        import_board(service, path)
    assert [e.name for e in service.environments()][-1] == "prod"


def test_an_unused_environment_may_be_dropped(service: Service, tmp_path: Path) -> None:
    path = tmp_path / "short.toml"
    path.write_text('[[environments]]\nname = "dev"\n[[environments]]\nname = "prod"\n')
    board = import_board(service, path)
    assert (len(board.environments), len(board.freezes)) == (2, 0)
    assert [(e.name, e.position, e.requires_approval) for e in service.environments()] == [
        ("dev", 1, False),
        ("prod", 2, True),
    ]


ENVS = '[[environments]]\nname = "dev"\n[[environments]]\nname = "prod"\n'
FREEZE = '[[freezes]]\nenvironments = ["prod"]\nreason = "weekend"\n'


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("colour = 'red'\n" + ENVS, "'colour'"),
        ("relman_board = 2\n" + ENVS, "'relman_board'"),
        ("[gates]\nfour_eyes = 'no'\n" + ENVS, "'gates.four_eyes'"),
        ("[gates]\nfive_eyes = true\n" + ENVS, "'gates.five_eyes'"),
        ("gates = 1\n" + ENVS, "'gates'"),
        ("", "'environments'"),
        ("environments = []\n", "'environments'"),
        ('[[environments]]\ntitle = "Dev"\n', "'environments[0].name'"),
        ('[[environments]]\nname = "Dev Env"\n', "'environments[0].name'"),
        ('[[environments]]\nname = "planned"\n', "'environments[0].name'"),
        (ENVS + 'title = "bad\\u001b[31m"\n', "'environments[1].title'"),
        (ENVS + "title = 3\n", "'environments[1].title'"),
        (ENVS + "capacity = 0\n", "'environments[1].capacity'"),
        (ENVS + "capacity = true\n", "'environments[1].capacity'"),
        (ENVS + 'requires_approval = "yes"\n', "'environments[1].requires_approval'"),
        (ENVS + "colour = 'red'\n", "'environments[1].colour'"),
        (ENVS + '[[environments]]\nname = "dev"\n', "'environments'"),
        ("freezes = 1\n" + ENVS, "'freezes'"),
        (
            ENVS + '[[freezes]]\nenvironments = ["prod"]\nstart = 2027-01-01T00:00:00Z\nend = 2027-01-02T00:00:00Z\n',
            "'freezes[0].reason'",
        ),
        (
            ENVS + FREEZE.replace('"weekend"', '"bell\\u0007"') + "start = 2027-01-01T00:00:00Z\n"
            "end = 2027-01-02T00:00:00Z\n",
            "'freezes[0].reason'",
        ),
        (
            ENVS + FREEZE.replace('["prod"]', '["qa"]') + "cron = '0 18 * * FRI'\nduration = '62h'\n",
            "'freezes[0].environments'",
        ),
        (
            ENVS + FREEZE.replace('["prod"]', "[1]") + "cron = '0 18 * * FRI'\nduration = '62h'\n",
            "'freezes[0].environments'",
        ),
        (ENVS + FREEZE + "cron = '0 18 * *'\nduration = '62h'\n", "'freezes[0].cron'"),
        (ENVS + FREEZE + "cron = 5\nduration = '62h'\n", "'freezes[0].cron'"),
        (ENVS + FREEZE + "cron = '0 18 * * FRI'\nduration = '2x'\n", "'freezes[0].duration'"),
        (ENVS + FREEZE + "cron = '0 18 * * FRI'\nduration = 0\n", "'freezes[0].duration'"),
        (ENVS + FREEZE + "cron = '0 18 * * FRI'\nduration = 1.5\n", "'freezes[0].duration'"),
        (ENVS + FREEZE + "cron = '0 18 * * FRI'\nduration = '62h'\nzone = 'Mars/Base'\n", "'freezes[0].zone'"),
        (ENVS + FREEZE + "cron = '0 18 * * FRI'\n", "'freezes[0]'"),
        (ENVS + FREEZE + "start = 2027-01-01T00:00:00\nend = 2027-01-02T00:00:00Z\n", "'freezes[0].start'"),
        (ENVS + FREEZE + "start = 2027-01-01T00:00:00Z\nend = 'soon'\n", "'freezes[0].end'"),
        (ENVS + FREEZE + "start = 2027-01-01\nend = 2027-01-02T00:00:00Z\n", "'freezes[0].start'"),
        (ENVS + FREEZE + "start = 2027-01-02T00:00:00Z\nend = 2027-01-01T00:00:00Z\n", "'freezes[0]'"),
        (ENVS + FREEZE + "start = 2027-01-01T00:00:00Z\n", "'freezes[0]'"),
        (ENVS + FREEZE + "colour = 'red'\n", "'freezes[0].colour'"),
    ],
)
def test_every_validation_error_names_the_file_and_the_key(
    service: Service, tmp_path: Path, text: str, key: str
) -> None:
    path = tmp_path / "board.toml"
    path.write_text(text)
    before = (service.environments(), service.freezes(), service.four_eyes(), service.events())
    with pytest.raises(BadInput) as caught:
        import_board(service, path)
    message = str(caught.value)
    assert message.startswith(f"{path}: key {key}"), message
    assert "\n" not in message and "\x1b" not in message and "\x07" not in message
    assert (service.environments(), service.freezes(), service.four_eyes(), service.events()) == before


@pytest.mark.parametrize(
    ("raw", "where"),
    [
        (b"[[environments]\nname = 'dev'\n", "line 1"),
        (b"[[environments]]\nname = 'dev'\nname = 'test'\n", "line 3"),
        (b"[[environments]]\nname = \xff\n", "UTF-8"),
    ],
)
def test_malformed_toml_names_the_file_and_the_line(tmp_path: Path, raw: bytes, where: str) -> None:
    path = tmp_path / "board.toml"
    path.write_bytes(raw)
    with pytest.raises(BadInput) as caught:
        read_board(path)
    assert str(path) in str(caught.value)
    assert where in str(caught.value)


def test_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(BadInput, match="does not exist"):
        read_board(tmp_path / "nothing.toml")


def test_export_to_an_unwritable_place_is_bad_input(service: Service, tmp_path: Path) -> None:
    with pytest.raises(BadInput, match="cannot write"):
        export_board(service, tmp_path / "no" / "such" / "dir" / "board.toml")


def test_import_into_an_empty_database_builds_the_pipeline(
    fresh: Callable[[str], Service], tmp_path: Path, db_path: Path
) -> None:
    source = Service(new_store(db_path), FixedClock(NOW), "alice")
    try:
        export_board(source, tmp_path / "board.toml")
    finally:
        source.store.close()
    empty = fresh("empty")
    assert empty.environments() == []
    import_board(empty, tmp_path / "board.toml")
    assert empty.environments() == default_environments()
    assert empty.four_eyes() is True
