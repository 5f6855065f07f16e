"""What only a PostgreSQL board does: pg setup, who acts, read-only roles, a busy write lock, waiting without
polling, a server restart under a waiting board, URLs and passwords, init and demo, and `relman copy`."""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from backends import PgBackend
from conftest import NOW, Run, bad, refused
from pg_support import ADMIN_ROLE, SUPERUSER

from relman_tui import chain
from relman_tui.errors import BadInput, Refused
from relman_tui.service import Service
from relman_tui.settings import Settings, database_target
from relman_tui.store import Wake, open_store
from relman_tui.store.pg import PgStore
from relman_tui.timeutil import FixedClock

psycopg = pytest.importorskip("psycopg")


@pytest.fixture
def cli(pg: PgBackend, tmp_path: Path) -> Run:
    """The CLI on the test's PostgreSQL board; ``account=`` names the role it connects as."""
    return Run(pg.target(), tmp_path / "home", pg)


def person(pg: PgBackend, name: str) -> Service:
    return Service(pg.open(name), FixedClock(NOW), name)


# --- relman pg setup ---------------------------------------------------------------------------------------


def test_pg_setup_makes_a_board_and_is_safe_to_repeat(pg_cluster: Any, tmp_path: Path) -> None:
    pg_cluster.sql('CREATE DATABASE "setup_here"')
    # the admin role may already exist (another board on the same server), with its own attributes
    pg_cluster.sql(
        "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'ops_admin') THEN "
        "CREATE ROLE ops_admin LOGIN; END IF; END $$"
    )
    run = Run(pg_cluster.url("setup_here"), tmp_path / "home")
    try:
        first = run.raw("pg", "setup", pg_cluster.url("setup_here"), "--admin", "ops_admin", account=SUPERUSER)
        assert first.exit_code == 0, first.stderr
        assert "created schema relman in setup_here, owned by ops_admin" in first.stdout
        assert "applied m001_initial" in first.stdout
        assert "GRANT relman_operator TO alice" in first.stdout
        again = run.raw("pg", "setup", pg_cluster.url("setup_here"), "--admin", "ops_admin", account=SUPERUSER)
        assert again.exit_code == 0, again.stderr
        assert "created" not in again.stdout and "applied" not in again.stdout
        assert pg_cluster.sql("SELECT rolcanlogin FROM pg_roles WHERE rolname = 'ops_admin'") == [(True,)]
        assert pg_cluster.sql(
            "SELECT nspowner::regrole::text FROM pg_namespace WHERE nspname = 'relman'", database="setup_here"
        ) == [("ops_admin",)]
        owners = pg_cluster.sql(
            "SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = 'relman'", database="setup_here"
        )
        assert owners == [("ops_admin",)]
        # the board belongs to ops_admin: another admin is refused, nothing changed
        other = run.raw("pg", "setup", pg_cluster.url("setup_here"), "--admin", ADMIN_ROLE, account=SUPERUSER)
        assert "belongs to ops_admin" in bad(other)
    finally:
        pg_cluster.drop_database("setup_here")


def test_pg_setup_needs_a_role_that_may_act_as_the_admin(pg: PgBackend, cli: Run) -> None:
    result = cli.raw("pg", "setup", pg.target(), "--admin", ADMIN_ROLE, account="alice")
    assert "may not act as relman_admin" in bad(result)
    assert "needs a postgresql:// URL" in bad(cli.raw("pg", "setup", "board.db", "--admin", "x", account="alice"))


def test_a_database_without_a_board_or_a_role_without_access_is_told_what_to_do(pg_cluster: Any) -> None:
    pg_cluster.sql('CREATE DATABASE "no_board"')
    try:
        with pytest.raises(BadInput, match=r"holds no relman board yet: its admin runs `relman pg setup"):
            open_store(pg_cluster.url("no_board", SUPERUSER))
    finally:
        pg_cluster.drop_database("no_board")


def test_a_role_in_neither_group_is_told_how_to_get_access(pg: PgBackend, pg_cluster: Any) -> None:
    pg_cluster.sql(
        "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'newcomer') THEN "
        "CREATE ROLE newcomer LOGIN; END IF; END $$"
    )
    with pytest.raises(BadInput, match=r"newcomer has no access .* `GRANT relman_operator TO newcomer`"):
        open_store(pg.url("newcomer"))


def test_a_board_written_by_a_newer_relman_is_refused_and_not_altered(pg: PgBackend, pg_cluster: Any) -> None:
    pg.query("INSERT INTO migrations (name, applied_at) VALUES ('m099_future', 'x')")
    for kwargs in ({}, {"create": True}, {"read_only": True}):
        with pytest.raises(BadInput, match="newer relman"):
            open_store(pg.url("alice"), **kwargs)
    from relman_tui.store.pg_schema import MIGRATIONS, setup

    with pytest.raises(BadInput, match="newer relman"):
        setup(pg.url(SUPERUSER), ADMIN_ROLE)
    assert pg.query("SELECT count(*) FROM migrations") == [(len(MIGRATIONS) + 1,)]


# --- who acts ------------------------------------------------------------------------------------------------


def test_the_actor_is_the_role_the_server_authenticated_not_the_os_account(cli: Run) -> None:
    rid = cli.raw(
        "--db", str(cli.db), "release", "add", "ledger", "1.0", account="mallory", env={"PGUSER": "alice"}
    ).stdout.strip()
    item = cli.json("release", "show", rid, actor="bob")
    assert (item["owner"], item["created_by"], item["history"][0]["actor"]) == ("alice", "alice", "alice")
    # and four-eyes follows the role: alice may not approve her release, whatever the OS account says
    result = cli.raw("--db", str(cli.db), "approve", rid, account="bob", env={"PGUSER": "alice"})
    assert "four-eyes rule: alice owns ledger 1.0" in refused(result)


def test_delegation_works_for_roles_the_admin_names(cli: Run) -> None:
    rid = cli.ok("release", "add", "ledger", "1.0", actor="bob").stdout.strip()
    assert "may not act for others" in refused(
        cli.raw("--db", str(cli.db), "--as", "carol", "approve", rid, account="ci")
    )
    cli.ok("settings", "delegates", "add", "ci", actor="admin")
    cli.ok("--as", "carol", "approve", rid, actor="ci")
    event = cli.json("log", rid)[-1]
    assert (event["actor"], event["via"]) == ("carol", "ci")


def test_an_operator_may_not_change_board_settings_or_environments(cli: Run) -> None:
    before = cli.dump()
    assert (
        "only the board's admin role (relman_admin) may change the board's settings; alice is not a member of it"
        in refused(cli("settings", "four-eyes", "off"))
    )
    assert (
        "only the board's admin role (relman_admin) may add, change or remove environments; alice is not a member"
        in refused(cli("env", "add", "qa"))
    )
    assert (
        "only the board's admin role (relman_admin) may add, change or remove environments; alice is not a member"
        in refused(cli("env", "edit", "prod", "--no-approval"))
    )
    assert cli.dump() == before
    cli.ok("settings", "four-eyes", "off", actor="admin")
    assert cli.json("settings")["four_eyes"] is False


def test_operators_add_and_remove_freezes(cli: Run) -> None:
    fid = cli.ok(
        "freeze", "add", "prod", "--start", "2026-12-24T00:00", "--end", "2026-12-27T00:00", "--reason", "incident"
    ).stdout.strip()
    cli.ok("freeze", "remove", fid)
    assert [e["action"] for e in cli.json("log")][-2:] == ["freeze_added", "freeze_removed"]


def test_a_reader_role_gets_the_board_read_only(pg: PgBackend) -> None:
    person(pg, "bob").add_release("ledger", "1.0")
    pg.account("wallboard")
    store = open_store(pg.url("wallboard"))
    try:
        assert store.read_only
        reader = Service(store, FixedClock(NOW), "wallboard")
        assert [r.name for r in reader.releases()] == ["ledger"]
        changes: list[Callable[[], object]] = [lambda: reader.move(1, "dev"), lambda: reader.add_release("x", "1")]
        for change in changes:
            with pytest.raises(BadInput, match="read-only"):
                change()
    finally:
        store.close()


# --- a busy board ----------------------------------------------------------------------------------------------


def test_a_writer_waits_for_the_write_lock_and_says_so_in_one_line_if_it_never_comes(
    pg: PgBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    from relman_tui.store import pg_connect as store_pg

    alice = person(pg, "alice")
    rid = alice.add_release("ledger", "1.0").id
    monkeypatch.setattr(store_pg, "LOCK_TIMEOUT_S", 0.2)
    pg.account("admin")
    holder = psycopg.connect(pg.url("admin") + "&application_name=nightly-job", autocommit=True)
    try:
        holder.execute("BEGIN")
        holder.execute("SELECT relman.take_board_lock()")  # a writer in the middle of its change
        with pytest.raises(BadInput) as caught:
            person(pg, "alice").move(rid, "dev")
        said = str(caught.value)
        assert "is busy: admin (application nightly-job) holds a lock on locks; waited" in said
        assert "nothing was changed" in said and "\n" not in said
        assert alice.release(rid).stage == "planned"  # readers are not blocked
        holder.execute("ROLLBACK")
        assert alice.move(rid, "dev").stage == "dev"
    finally:
        holder.close()


# --- live updates ----------------------------------------------------------------------------------------------


def test_a_waiting_board_asks_the_server_nothing_while_nothing_changes(pg: PgBackend) -> None:
    watcher = pg.open("bob")
    try:
        assert watcher.wait_for_change(0, after_seq=0) is Wake.TIMEOUT
        assert isinstance(watcher, PgStore) and watcher._listener.connection is not None
        pid = watcher._listener.connection.info.backend_pid

        def seen() -> list[tuple[Any, ...]]:
            return pg.query("SELECT query, state_change FROM pg_stat_activity WHERE pid = ?", pid)

        before = seen()
        assert before and "relman" in before[0][0]  # its last query: LISTEN, or the look at the log after it
        assert watcher.wait_for_change(0.3) is Wake.TIMEOUT
        assert seen() == before  # no query since it began listening: it waited on its socket
    finally:
        watcher.close()


def test_a_server_restart_under_a_waiting_board_is_reconnected_and_said(pg: PgBackend, pg_cluster: Any) -> None:
    watcher = pg.open("bob")
    try:
        seen = watcher.last_seq()
        assert watcher.wait_for_change(0, after_seq=seen) is Wake.TIMEOUT
        woke: list[Wake] = []
        waiting = threading.Thread(target=lambda: woke.append(watcher.wait_for_change(120)))
        waiting.start()
        pg_cluster.stop_server()  # every connection is cut …
        pg_cluster.start_server()  # … and the server comes back
        waiting.join(120)
        assert woke == [Wake.RECONNECTED]
        person(pg, "alice").add_release("ledger", "1.0")
        assert watcher.wait_for_change(30) is Wake.CHANGED  # listening again
        assert [r.name for r in watcher.releases()] == ["ledger"]  # and its own connection was made again
        assert [e.seq for e in watcher.events(after_seq=seen)] == [seen + 1]
    finally:
        watcher.close()


def test_a_store_whose_server_restarted_writes_again(pg: PgBackend, pg_cluster: Any) -> None:
    alice = person(pg, "alice")
    rid = alice.add_release("ledger", "1.0").id
    pg_cluster.stop_server()
    pg_cluster.start_server()
    assert alice.move(rid, "dev").stage == "dev"


def test_a_server_that_stays_away_is_reported_not_waited_for_forever(pg: PgBackend, pg_cluster: Any) -> None:
    watcher = pg.open("bob")
    try:
        watcher.wait_for_change(0, after_seq=0)
        pg_cluster.stop_server()
        try:
            assert watcher.wait_for_change(0.5) is Wake.DISCONNECTED
            with pytest.raises(BadInput, match=r"lost the connection|cannot connect"):
                watcher.last_seq()
        finally:
            pg_cluster.start_server()
        assert watcher.wait_for_change(30) is Wake.RECONNECTED
    finally:
        watcher.close()


# --- URLs and passwords ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    ["postgresql://alice:s3cret@db.example/relman", "postgres://db.example/relman?password=s3cret&sslmode=require"],
)
def test_a_password_in_the_url_is_refused_and_never_shown(run: Run, url: str, tmp_path: Path) -> None:
    for result in (run.raw("--db", url, "release", "list"), run.raw("release", "list", env={"RELMAN_DB": url})):
        line = bad(result)
        assert "~/.pgpass" in line and "service file" in line
        assert "s3cret" not in result.stderr + result.stdout
    config = tmp_path / "config.toml"
    config.write_text(f'database = "{url}"\n')
    result = run.raw("--config", str(config), "release", "list")
    assert "key 'database'" in bad(result) and "s3cret" not in result.stderr


def test_a_url_stays_a_url_wherever_it_is_given(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = "postgresql://db.example:5433/relman?sslmode=verify-full&service=relman"
    assert database_target(url, Settings()) == url
    monkeypatch.setenv("RELMAN_DB", url)
    assert database_target(None, Settings()) == url
    monkeypatch.delenv("RELMAN_DB")
    assert database_target(None, Settings(database=url)) == url
    assert database_target(None, Settings(database=Path("~/b.db"))) == Path.home() / "b.db"


def test_sslmode_and_other_options_reach_libpq(pg: PgBackend) -> None:
    with pytest.raises(BadInput, match=r"cannot connect to .*invalid sslmode value"):
        open_store(pg.url("alice") + "&sslmode=sometimes")  # libpq itself reads it
    store = open_store(pg.url("alice") + "&sslmode=prefer&connect_timeout=3")
    store.close()


def test_without_psycopg_a_url_says_what_to_install(run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    import relman_tui.store

    monkeypatch.setitem(sys.modules, "psycopg", None)  # as if it were not installed
    for name in [m.removeprefix("relman_tui.store.") for m in sys.modules if m.startswith("relman_tui.store.pg")]:
        monkeypatch.delitem(sys.modules, f"relman_tui.store.{name}", raising=False)
        monkeypatch.delattr(relman_tui.store, name, raising=False)
    for argv in (
        ["--db", "postgresql://db.example/relman", "release", "list"],
        ["pg", "setup", "postgresql://db.example/relman", "--admin", "relman_admin"],
    ):
        line = bad(run.raw(*argv))
        assert "pip install 'relman-tui[postgres]'" in line


# --- init, demo and log --verify over PostgreSQL ----------------------------------------------------------------


def test_init_is_the_admins_and_runs_once(pg: PgBackend, tmp_path: Path) -> None:
    empty = PgBackend(pg.cluster)
    run = Run(empty.make("empty"), tmp_path / "home", empty)
    try:
        assert (
            "only the board's admin role (relman_admin) may add, change or remove environments; alice is not a member"
            in refused(run("init", actor="alice"))
        )
        out = run.ok("init", actor="admin").stdout
        assert out.startswith("created postgresql://") and "with environments dev, test, staging, preprod, prod" in out
        assert "already holds a board" in bad(run("init", actor="admin"))
        assert run.ok("log", "--verify").stdout.startswith("log verified: 6 events")  # board_created + 5 envs
    finally:
        empty.close()


def test_the_demo_runs_on_postgresql_with_its_history_via_the_connecting_role(pg: PgBackend, tmp_path: Path) -> None:
    empty = PgBackend(pg.cluster)
    run = Run(empty.make("empty"), tmp_path / "home", empty)
    try:
        result = run.ok("demo", "--no-tui", actor="admin")
        assert result.stderr.startswith("seeded 30 releases into postgresql://")
        assert {c["kind"] for c in run.json("conflicts")} == {"capacity", "freeze", "order", "component", "missed"}
        log = run.json("log")
        assert {e["via"] for e in log if e["action"] in ("created", "approved", "moved")} == {"admin"}
        assert run.ok("log", "--verify").exit_code == 0
        assert "already has a pipeline" in bad(run("demo", "--no-tui", actor="admin"))
        big = PgBackend(pg.cluster)
        try:
            other = Run(big.make("empty"), tmp_path / "home2", big)
            assert other.ok("demo", "--no-tui", "--releases", "300", actor="admin").stderr.startswith("seeded 300")
            assert len(other.json("release", "list")) == 300
        finally:
            big.close()
    finally:
        empty.close()


# --- relman copy -------------------------------------------------------------------------------------------------


def board_state(run: Run, db: Any) -> dict[str, Any]:
    """Everything a copy must carry: releases (all fields), environments, freezes, settings and the log —
    but the ``board_copied`` events a copy appends and the admins it names (its copier first, issue 18)."""
    releases = run.json("release", "list", "--all", db=db)
    settings = run.json("settings", db=db)
    settings.pop("admins")
    return {
        "releases": [run.json("release", "show", str(r["id"]), db=db) for r in releases],
        "environments": run.json("env", "list", db=db),
        "freezes": run.json("freeze", "list", db=db),
        "settings": settings,
        "log": [e for e in run.json("log", db=db) if e["action"] != "board_copied"],
    }


def test_a_demo_board_goes_sqlite_to_postgresql_to_sqlite_and_comes_back_the_same(
    pg_cluster: Any, tmp_path: Path
) -> None:
    server = PgBackend(pg_cluster)
    url = server.make("empty")
    run = Run(tmp_path / "a.db", tmp_path / "home", server)
    try:
        first, back = tmp_path / "a.db", tmp_path / "b.db"
        run.ok("demo", "--no-tui", db=first)
        run.ok("release", "add", "ledger", "9.9", "--owner", "erin", db=first)
        run.ok(
            "freeze",
            "add",
            "dev",
            "--start",
            "2026-12-02T00:00",
            "--end",
            "2026-12-03T00:00",
            "--reason",
            "x",
            db=first,
        )
        original = board_state(run, first)

        out = run.raw("copy", str(first), url, account="admin")
        assert out.exit_code == 0, out.stderr
        assert "the log verifies on both sides" in out.stdout
        on_server = board_state(run, url)
        assert on_server == original
        assert run.ok("log", "--verify", db=url).exit_code == 0

        out = run.raw("copy", url, str(back), account="bob")  # reading the server board needs no admin
        assert out.exit_code == 0, out.stderr
        assert board_state(run, back) == original
        assert run.ok("log", "--verify", db=back).exit_code == 0
        source_hash = json.loads(run.ok("log", "--verify", "--json", db=first).stdout)["last_hash"]
        assert source_hash in [e["hash"] for e in run.json("log", db=back)]  # the history, then the copies' events
        assert run.json("settings", db=back)["admins"][0] == "bob"  # the copier is the copy's first admin

        # the copy on the server is a working board: the chain goes on from the copied history
        rid = str(original["releases"][-1]["id"])
        run.ok("approve", rid, db=url, actor="carol")
        assert run.json("log", db=url)[-1]["actor"] == "carol"
        assert run.ok("log", "--verify", db=url).exit_code == 0
        run.ok("release", "add", "fresh", "1.0", db=url, actor="carol")  # new ids follow the copied ones
        assert run.json("release", "list", "--all", db=url)[-1]["id"] == int(rid) + 1
    finally:
        server.close()


def test_copy_refuses_a_target_that_is_not_empty_and_changes_nothing(pg: PgBackend, tmp_path: Path) -> None:
    run = Run(pg.target(), tmp_path / "home", pg)
    source = tmp_path / "a.db"
    run.ok("init", db=source)
    run.ok("release", "add", "ledger", "1.0", db=source)
    before = run.dump()
    line = bad(run.raw("copy", str(source), str(pg.target()), account="admin"))
    assert "is not empty (it has environments)" in line
    assert run.dump() == before
    other = tmp_path / "b.db"
    run.ok("init", db=other)
    file_before = other.read_bytes()
    assert "is not empty" in bad(run.raw("copy", str(source), str(other)))
    assert other.read_bytes() == file_before


def test_copying_into_postgresql_needs_the_admin_role(pg_cluster: Any, tmp_path: Path) -> None:
    server = PgBackend(pg_cluster)
    url = server.make("empty")
    run = Run(url, tmp_path / "home", server)
    try:
        source = tmp_path / "a.db"
        run.ok("init", db=source)
        assert "needs its admin role (relman_admin); alice is not a member" in refused(
            run.raw("copy", str(source), url, account="alice")
        )
        assert run.json("env", "list") == []
    finally:
        server.close()


def test_a_tampered_source_is_not_copied(pg_cluster: Any, tmp_path: Path) -> None:
    import sqlite3

    server = PgBackend(pg_cluster)
    url = server.make("empty")
    run = Run(url, tmp_path / "home", server)
    try:
        source = tmp_path / "a.db"
        run.ok("init", db=source)
        conn = sqlite3.connect(source, isolation_level=None)
        conn.execute("DROP TRIGGER events_no_update")
        conn.execute("UPDATE events SET actor = 'mallory' WHERE seq = 2")
        conn.close()
        assert "does not verify (event #2 does not match its hash" in refused(
            run.raw("copy", str(source), url, account="admin")
        )
        assert run.json("log") == []
        target = tmp_path / "never.db"
        refused(run.raw("copy", str(source), str(target)))
        assert not target.exists()  # a file made for the copy is taken away again
    finally:
        server.close()


def test_the_server_checks_every_copied_link_itself(pg_cluster: Any, tmp_path: Path) -> None:
    """Even past relman's own check, a history whose hashes do not chain is refused by the server."""
    from dataclasses import replace

    server = PgBackend(pg_cluster)
    server.make("empty")
    source = tmp_path / "a.db"
    Run(source, tmp_path / "home").ok("init")
    src = open_store(source)
    dst = server.open("admin")
    try:
        dump = src.dump()
        forged = replace(dump, events=[replace(e, actor="mallory") if e.seq == 3 else e for e in dump.events])
        with pytest.raises(Refused, match="event #3 does not match its hash"):
            dst.load_copy(forged)
        assert dst.last_seq() == 0
        assert chain.verify(dump.settings["board_id"], dump.events).ok
    finally:
        src.close()
        dst.close()
        server.close()
