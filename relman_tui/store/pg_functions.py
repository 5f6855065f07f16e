"""The PostgreSQL board's only way in for writes: admin-owned ``SECURITY DEFINER`` functions (migration m004).

Operators and readers hold no INSERT, UPDATE, DELETE or TRUNCATE on any relman table. Each
change is one call that writes the event and its effect together, the effect read from what
the event carries (a release event's ``details.release`` is the release after the change), and
refuses what the server can check. Following PostgreSQL's "Writing SECURITY DEFINER Functions
Safely": ``search_path`` is ``pg_catalog, relman, pg_temp`` (pg_temp last) and every relation
and function is named with its schema, so a temporary table named ``settings`` or
``pg_namespace`` changes nothing. Writers queue on a row of ``relman.locks`` (``FOR UPDATE``
needs a grant no operator has), not on advisory keys anybody could take.
"""

from __future__ import annotations

from relman_tui.store.pg_definer import DEFINER, REFUSE, SAFE_PATH
from relman_tui.store.pg_release_functions import RELEASE_FUNCTIONS

# Write functions operators may call, and the runner's (granted to relman_runner only).
OPERATOR_FUNCTIONS = (
    "relman.release_event(jsonb)",
    "relman.freeze_event(jsonb)",
    "relman.admin_event(jsonb,jsonb)",
    "relman.reserve_id(text)",
    "relman.take_board_lock()",
    "relman.is_admin()",
    "relman.lock_holders()",
)
RUNNER_FUNCTIONS = ("relman.runner_event(jsonb,bigint,jsonb)", "relman.runner_lock(boolean)")

M004_DEFINER_WRITES = [
    # -- the old triggers did the checking, with a search_path that searched pg_temp first: gone ----------
    "DROP TRIGGER IF EXISTS releases_guard ON relman.releases",
    "DROP TRIGGER IF EXISTS events_append ON relman.events",
    "DROP FUNCTION IF EXISTS relman.releases_guard()",
    "DROP FUNCTION IF EXISTS relman.events_append()",
    "DROP FUNCTION IF EXISTS relman.may_name(text)",
    "DROP FUNCTION IF EXISTS relman.check_actor(text, text)",
    "DROP FUNCTION IF EXISTS relman.copying()",
    "DROP FUNCTION IF EXISTS relman.acts_for_others()",
    "DROP FUNCTION IF EXISTS relman.requires_approval(text)",
    "DROP FUNCTION IF EXISTS relman.is_admin()",
    f"ALTER FUNCTION relman.events_append_only() SET search_path = {SAFE_PATH}",
    f"ALTER FUNCTION relman.events_notify() SET search_path = {SAFE_PATH}",
    f"ALTER FUNCTION relman.genesis(text) SET search_path = {SAFE_PATH}",
    f"ALTER FUNCTION relman.link(text, relman.events) SET search_path = {SAFE_PATH}",
    # -- locks: rows of relman's own, locked FOR UPDATE by the functions ------------------------------------
    "CREATE TABLE relman.locks (name text PRIMARY KEY)",
    "INSERT INTO relman.locks (name) VALUES ('board'), ('runner')",
    # -- who is who ---------------------------------------------------------------------------------------
    f"""CREATE FUNCTION relman.setting(wanted text, fallback text) RETURNS text {DEFINER} STABLE AS $$
    BEGIN
        RETURN coalesce((SELECT s.value FROM relman.settings AS s WHERE s.key = wanted), fallback);
    END $$""",
    f"""CREATE FUNCTION relman.names(raw text) RETURNS SETOF text {DEFINER} STABLE AS $$
    BEGIN
        IF raw IS NULL OR pg_catalog.jsonb_typeof(raw::jsonb) <> 'array' THEN
            RETURN;
        END IF;
        RETURN QUERY SELECT pg_catalog.lower(d.name) FROM pg_catalog.jsonb_array_elements_text(raw::jsonb) AS d(name);
    EXCEPTION WHEN others THEN
        RETURN;  -- a setting that is not JSON names nobody
    END $$""",
    # An admin: named in the `admins` setting, or a member of a role named there (`pg setup --admin`).
    f"""CREATE FUNCTION relman.is_admin() RETURNS boolean {DEFINER} STABLE AS $$
    BEGIN
        RETURN EXISTS (
            SELECT 1 FROM relman.names(relman.setting('admins', '[]')) AS a(name)
            WHERE a.name = pg_catalog.lower(session_user::text)
               OR EXISTS (SELECT 1 FROM pg_catalog.pg_roles AS r WHERE pg_catalog.lower(r.rolname::text) = a.name
                          AND pg_catalog.pg_has_role(session_user, r.oid, 'MEMBER')));
    END $$""",
    f"""CREATE FUNCTION relman.is_delegate() RETURNS boolean {DEFINER} STABLE AS $$
    BEGIN
        RETURN EXISTS (SELECT 1 FROM relman.names(relman.setting('delegates', '[]')) AS d(name)
                       WHERE d.name = pg_catalog.lower(session_user::text));
    END $$""",
    f"""CREATE FUNCTION relman.require_admin(what text) RETURNS void {DEFINER} STABLE AS $$
    BEGIN
        IF NOT relman.is_admin() THEN
            RAISE EXCEPTION 'only an admin of the board may change %: % is not one (the admins setting: %)',
                what, session_user, relman.setting('admins', '[]') {REFUSE};
        END IF;
    END $$""",
    # -- who else holds a lock relman waits for (for the message that replaces a hang) ------------------
    f"""CREATE FUNCTION relman.lock_holders() RETURNS text {DEFINER} STABLE AS $$
    BEGIN
        RETURN (SELECT pg_catalog.string_agg(h.said, '; ') FROM (
                    SELECT pg_catalog.format('%s (application %s) holds a lock on %s', a.usename,
                        COALESCE(NULLIF(a.application_name, ''), 'unnamed'),
                        pg_catalog.string_agg(DISTINCT c.relname::text, ', ')) AS said
                    FROM pg_catalog.pg_locks AS l
                    JOIN pg_catalog.pg_stat_activity AS a ON a.pid = l.pid
                    JOIN pg_catalog.pg_class AS c ON c.oid = l.relation
                    WHERE l.granted AND l.pid <> pg_catalog.pg_backend_pid()
                      AND c.relnamespace = 'relman'::pg_catalog.regnamespace
                      AND (l.mode IN ('ShareLock', 'ShareRowExclusiveLock', 'ExclusiveLock', 'AccessExclusiveLock')
                           OR (c.relname = 'locks' AND l.mode = 'RowShareLock'))
                    GROUP BY a.pid, a.usename, a.application_name) AS h);
    END $$""",
    # -- the log: one appender at a time, seq, time and hash set here ------------------------------------
    f"""CREATE FUNCTION relman.take_board_lock() RETURNS void {DEFINER} AS $$
    BEGIN
        PERFORM 1 FROM relman.locks AS k WHERE k.name = 'board' FOR UPDATE;
    END $$""",
    # The actor and via of a change: the authenticated role, or a person it names as one of the delegates.
    f"""CREATE FUNCTION relman.acting(event jsonb, OUT actor text, OUT via text) {DEFINER} STABLE AS $$
    BEGIN
        actor := COALESCE(event->>'actor', session_user::text);
        via := event->>'via';
        IF pg_catalog.lower(actor) = pg_catalog.lower(session_user::text) AND via IS NULL THEN
            actor := session_user::text;
            RETURN;
        END IF;
        IF via IS NULL OR pg_catalog.lower(via) <> pg_catalog.lower(session_user::text) THEN
            RAISE EXCEPTION 'an event''s actor is the role the server authenticated (%), or a person it names '
                'as a delegate (via %); not % via %', session_user, session_user, actor,
                COALESCE(via, 'nobody') {REFUSE};
        END IF;
        IF NOT (relman.is_delegate() OR relman.is_admin()) THEN
            RAISE EXCEPTION '% may not act for others: it is not one of the board''s delegates', session_user
                {REFUSE};
        END IF;
        IF actor !~ '^[A-Za-z0-9._@-]{{1,64}}$' THEN
            RAISE EXCEPTION 'bad actor name %', actor {REFUSE};
        END IF;
        via := session_user::text;
    END $$""",
    # The event's time: the server's clock, never earlier than the last event's (a clock stepped back
    # would break the log's order); the client's only on a board whose admin turned fixed_clock on.
    f"""CREATE FUNCTION relman.event_time(event jsonb) RETURNS text {DEFINER} STABLE AS $$
    DECLARE
        stamp text;
        last_at text;
    BEGIN
        IF relman.setting('fixed_clock', 'off') = 'on' THEN
            stamp := event->>'at';
            IF stamp IS NULL OR stamp !~ '^\\d{{4}}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ$' THEN
                RAISE EXCEPTION 'an event''s time is YYYY-MM-DDTHH:MM:SSZ, not %', stamp {REFUSE};
            END IF;
            RETURN stamp;
        END IF;
        stamp := pg_catalog.to_char(pg_catalog.now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"');
        SELECT e.at INTO last_at FROM relman.events AS e ORDER BY e.seq DESC LIMIT 1;
        IF last_at IS NOT NULL AND last_at > stamp THEN
            RETURN last_at;
        END IF;
        RETURN stamp;
    END $$""",
    f"""CREATE FUNCTION relman.append(event jsonb, actor text, via text, at text, details text)
        RETURNS bigint {DEFINER} AS $$
    DECLARE
        e relman.events;
        previous text;
    BEGIN
        SELECT COALESCE(pg_catalog.max(x.seq), 0) + 1 INTO e.seq FROM relman.events AS x;
        SELECT x.hash INTO previous FROM relman.events AS x WHERE x.hash IS NOT NULL ORDER BY x.seq DESC LIMIT 1;
        IF previous IS NULL THEN
            previous := relman.genesis(relman.setting('board_id', ''));
        END IF;
        e.at := at;
        e.actor := actor;
        e.via := via;
        e.release := (event->>'release')::bigint;
        e.action := event->>'action';
        e."from" := event->>'from';
        e."to" := event->>'to';
        e.forced := COALESCE((event->>'forced')::boolean, false);
        e.reason := NULLIF(event->>'reason', '');
        e.details := details;
        IF e.action IS NULL OR e.action !~ '^[a-z_]{{1,40}}$' THEN
            RAISE EXCEPTION 'bad event action %', e.action {REFUSE};
        END IF;
        e.hash := relman.link(previous, e);
        INSERT INTO relman.events (seq, at, actor, via, release, action, "from", "to", forced, reason, details, hash)
        VALUES (e.seq, e.at, e.actor, e.via, e.release, e.action, e."from", e."to", e.forced, e.reason, e.details,
                e.hash);
        RETURN e.seq;
    END $$""",
    f"""CREATE FUNCTION relman.details_text(event jsonb) RETURNS text {DEFINER} IMMUTABLE AS $$
    BEGIN
        IF pg_catalog.jsonb_typeof(event->'details') = 'object' AND event->'details' <> '{{}}'::jsonb THEN
            RETURN (event->'details')::text;
        END IF;
        RETURN NULL;
    END $$""",
    # A stored time is the text relman writes (YYYY-MM-DDTHH:MM:SSZ) of a real instant: anything else would
    # break every board that reads it.
    f"""CREATE FUNCTION relman.stamp(t text) RETURNS timestamptz {DEFINER} IMMUTABLE AS $$
    BEGIN
        IF t IS NULL OR t !~ '^\\d{{4}}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ$' THEN
            RAISE EXCEPTION 'a time is stored as YYYY-MM-DDTHH:MM:SSZ, not %', t {REFUSE};
        END IF;
        RETURN t::timestamptz;
    EXCEPTION WHEN datetime_field_overflow OR invalid_datetime_format THEN
        RAISE EXCEPTION 'no such time: %', t {REFUSE};
    END $$""",
    f"""CREATE FUNCTION relman.span(start text, finish text, longest interval, what text) RETURNS void
        {DEFINER} IMMUTABLE AS $$
    BEGIN
        IF relman.stamp(finish) <= relman.stamp(start) OR relman.stamp(finish) - relman.stamp(start) > longest THEN
            RAISE EXCEPTION '% runs from before its end, for at most % (not % to %)', what, longest, start, finish
                {REFUSE};
        END IF;
    END $$""",
    f"""CREATE FUNCTION relman.reserve_id(kind text) RETURNS bigint {DEFINER} AS $$
    BEGIN
        IF kind = 'release' THEN
            RETURN pg_catalog.nextval(pg_catalog.pg_get_serial_sequence('relman.releases', 'id')::regclass);
        ELSIF kind = 'freeze' THEN
            RETURN pg_catalog.nextval(pg_catalog.pg_get_serial_sequence('relman.freezes', 'id')::regclass);
        END IF;
        RAISE EXCEPTION 'nothing to reserve an id for: %', kind {REFUSE};
    END $$""",
    f"""CREATE FUNCTION relman.stage_position(stage text) RETURNS integer {DEFINER} STABLE AS $$
    BEGIN
        IF stage = 'planned' THEN
            RETURN 0;
        END IF;
        RETURN (SELECT e.position FROM relman.environments AS e WHERE e.name = stage);
    END $$""",
    f"""CREATE FUNCTION relman.requires_approval(stage text) RETURNS boolean {DEFINER} STABLE AS $$
    BEGIN
        RETURN COALESCE((SELECT e.requires_approval FROM relman.environments AS e WHERE e.name = stage),
                                   false);
    END $$""",
    *RELEASE_FUNCTIONS,
    # -- freezes: an operator's, added and removed with everything about them ----------------------------
    f"""CREATE FUNCTION relman.freeze_event(event jsonb) RETURNS bigint {DEFINER} AS $$
    DECLARE
        who record;
        at text;
        f jsonb := event->'details'->'freeze';
        fid bigint := (event->'details'->'freeze'->>'id')::bigint;
    BEGIN
        PERFORM relman.take_board_lock();
        who := relman.acting(event);
        at := relman.event_time(event);
        IF f IS NULL OR pg_catalog.jsonb_typeof(f) <> 'object' OR fid IS NULL THEN
            RAISE EXCEPTION 'a freeze event carries the freeze (details.freeze)' {REFUSE};
        END IF;
        IF event->>'action' = 'freeze_added' THEN
            IF fid > (SELECT s.last_value FROM relman.freezes_id_seq AS s) THEN
                RAISE EXCEPTION 'a new freeze takes an id the server reserved (relman.reserve_id)' {REFUSE};
            END IF;
            IF pg_catalog.jsonb_typeof(f->'environments') <> 'array'
               OR pg_catalog.jsonb_array_length(f->'environments') = 0
               OR EXISTS (SELECT 1 FROM pg_catalog.jsonb_array_elements(f->'environments') AS x(name)
                          WHERE pg_catalog.jsonb_typeof(x.name) <> 'string'
                             OR ((x.name #>> '{{}}') <> 'all'
                                 AND NOT EXISTS (SELECT 1 FROM relman.environments AS e
                                                 WHERE e.name = x.name #>> '{{}}')))
               OR COALESCE(pg_catalog.btrim(f->>'reason'), '') = '' OR pg_catalog.length(f->>'reason') > 10000 THEN
                RAISE EXCEPTION 'a freeze names environments of the pipeline (or all) and a reason' {REFUSE};
            END IF;
            IF f ? 'cron' THEN
                IF f->>'cron' !~ '^[0-9A-Za-z*/,-]+( [0-9A-Za-z*/,-]+){{4}}$'
                   OR (f->>'duration')::bigint NOT BETWEEN 1 AND 366 * 86400
                   OR NOT EXISTS (SELECT 1 FROM pg_catalog.pg_timezone_names AS z WHERE z.name = f->>'zone') THEN
                    RAISE EXCEPTION 'a recurring freeze has a cron of five fields, a duration of up to 366 days and a '
                        'time zone' {REFUSE};
                END IF;
            ELSE
                PERFORM relman.span(f->>'start', f->>'end', interval '366 days', 'a freeze');
            END IF;
            INSERT INTO relman.freezes (id, environments, reason, start, "end", cron, duration, zone)
            VALUES (fid, (f->'environments')::text, f->>'reason', f->>'start', f->>'end', f->>'cron',
                    (f->>'duration')::bigint, f->>'zone');
        ELSIF event->>'action' = 'freeze_removed' THEN
            DELETE FROM relman.freezes AS x WHERE x.id = fid;
            IF NOT FOUND THEN
                RAISE EXCEPTION 'no freeze with id %', fid {REFUSE};
            END IF;
        ELSE
            RAISE EXCEPTION 'not a freeze event: %', event->>'action' {REFUSE};
        END IF;
        RETURN relman.append(event, who.actor, who.via, at, relman.details_text(event));
    END $$""",
    # -- the admin's: settings, environments, hooks, import (and what the admin logs beside them) ---------
    f"""CREATE FUNCTION relman.admin_event(event jsonb, ops jsonb) RETURNS bigint {DEFINER} AS $$
    DECLARE
        who record;
        at text;
        op jsonb;
        env jsonb;
    BEGIN
        PERFORM relman.take_board_lock();
        PERFORM relman.require_admin(CASE WHEN ops @> '[{{"op": "environments"}}]' THEN 'environments'
                                          WHEN ops @> '[{{"op": "setting"}}]' THEN 'the board''s settings'
                                          ELSE 'the board''s rules (settings, environments, hooks, import)' END);
        FOR op IN SELECT x.value FROM pg_catalog.jsonb_array_elements(COALESCE(ops, '[]')) AS x LOOP
            IF op->>'op' = 'setting' THEN
                IF op->>'key' = 'board_id' THEN
                    RAISE EXCEPTION 'a board keeps its id' {REFUSE};
                END IF;
                INSERT INTO relman.settings (key, value) VALUES (op->>'key', op->>'value')
                ON CONFLICT (key) DO UPDATE SET value = excluded.value;
            ELSIF op->>'op' = 'environments' THEN
                DELETE FROM relman.environments AS e
                WHERE e.name <> ALL (ARRAY(SELECT x->>'name' FROM pg_catalog.jsonb_array_elements(op->'list') AS x));
                FOR env IN SELECT x.value FROM pg_catalog.jsonb_array_elements(op->'list') AS x LOOP
                    INSERT INTO relman.environments (name, title, position, capacity, requires_approval)
                    VALUES (env->>'name', env->>'title', (env->>'position')::integer, (env->>'capacity')::integer,
                            (env->>'requires_approval')::boolean)
                    ON CONFLICT (name) DO UPDATE SET title = excluded.title, position = excluded.position,
                        capacity = excluded.capacity, requires_approval = excluded.requires_approval;
                END LOOP;
            ELSE
                RAISE EXCEPTION 'not a change an admin makes here: %', op->>'op' {REFUSE};
            END IF;
        END LOOP;
        IF event IS NULL THEN
            RETURN NULL;
        END IF;
        IF event->>'action' IN ('created', 'edited', 'moved', 'rolled_back', 'verified', 'failed', 'approved',
                                'cancelled', 'scheduled', 'unscheduled', 'freeze_added', 'freeze_removed',
                                'hook_ran', 'hook_failed') AND relman.setting('demo', '') <> 'true' THEN
            RAISE EXCEPTION 'a % event is written with its change, by relman.release_event or freeze_event',
                event->>'action' {REFUSE};
        END IF;
        who := relman.acting(event);
        IF relman.setting('demo', '') = 'true' AND event ? 'at' THEN
            at := event->>'at';  -- the demo's made-up past, on a board marked as a demo
        ELSE
            at := relman.event_time(event);
        END IF;
        RETURN relman.append(event, who.actor, who.via, at, relman.details_text(event));
    END $$""",
    # A copied history must chain from the board's id, every link checked here before it is committed.
    f"""CREATE FUNCTION relman.verify_chain() RETURNS void {DEFINER} STABLE AS $$
    DECLARE
        e relman.events;
        previous text := relman.genesis(relman.setting('board_id', ''));
        started boolean := false;
    BEGIN
        PERFORM relman.require_admin('the board''s history (copy)');
        FOR e IN SELECT x.* FROM relman.events AS x ORDER BY x.seq LOOP
            IF e.hash IS NULL THEN
                IF started THEN
                    RAISE EXCEPTION 'event #% has no hash though the chain had started', e.seq {REFUSE};
                END IF;
                CONTINUE;
            END IF;
            IF e.hash <> relman.link(previous, e) THEN
                RAISE EXCEPTION 'event #% does not match its hash', e.seq {REFUSE};
            END IF;
            started := true;
            previous := e.hash;
        END LOOP;
    END $$""",
    # -- the hook runner's: its outcomes and its cursor, for relman_runner only -----------------------------
    f"""CREATE FUNCTION relman.runner_event(event jsonb, cursor_seq bigint, done jsonb) RETURNS bigint
        {DEFINER} AS $$
    DECLARE
        who record;
        at text;
        seq bigint := NULL;
    BEGIN
        PERFORM relman.take_board_lock();
        IF event IS NOT NULL THEN
            IF event->>'action' NOT IN ('hook_ran', 'hook_failed') THEN
                RAISE EXCEPTION 'the runner logs what its hooks did, not %', event->>'action' {REFUSE};
            END IF;
            who := relman.acting(event);
            at := relman.event_time(event);
            seq := relman.append(event, who.actor, who.via, at, relman.details_text(event));
        END IF;
        IF cursor_seq IS NOT NULL THEN
            IF cursor_seq < 0 OR cursor_seq > (SELECT COALESCE(pg_catalog.max(e.seq), 0) + 1
                                                FROM relman.events AS e) THEN
                RAISE EXCEPTION 'the hook cursor stays within the log (not %)', cursor_seq {REFUSE};
            END IF;
            INSERT INTO relman.hook_cursor (id, seq, done) VALUES (1, cursor_seq, COALESCE(done, '[]')::text)
            ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, done = excluded.done;
        END IF;
        RETURN seq;
    END $$""",
    # The one runner of a board: a row lock held by its transaction (waiting at most lock_timeout).
    f"""CREATE FUNCTION relman.runner_lock(wait boolean) RETURNS boolean {DEFINER} AS $$
    BEGIN
        IF wait THEN
            PERFORM 1 FROM relman.locks AS k WHERE k.name = 'runner' FOR UPDATE;
            RETURN true;
        END IF;
        PERFORM 1 FROM relman.locks AS k WHERE k.name = 'runner' FOR UPDATE SKIP LOCKED;
        RETURN FOUND;
    END $$""",
]


def grants() -> list[str]:
    """What each group role may do, granted afresh by every `relman pg setup` (so drift is undone)."""
    everything = ", ".join(("PUBLIC", "relman_operator", "relman_reader", "relman_runner"))
    return [
        f"REVOKE ALL ON ALL TABLES IN SCHEMA relman FROM {everything}",
        f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA relman FROM {everything}",
        f"REVOKE ALL ON ALL FUNCTIONS IN SCHEMA relman FROM {everything}",
        "GRANT USAGE ON SCHEMA relman TO relman_operator, relman_reader, relman_runner",
        "GRANT SELECT ON ALL TABLES IN SCHEMA relman TO relman_operator, relman_reader, relman_runner",
        "REVOKE SELECT ON relman.locks FROM relman_operator, relman_reader, relman_runner",
        f"GRANT EXECUTE ON FUNCTION {', '.join(OPERATOR_FUNCTIONS)} TO relman_operator",
        "GRANT EXECUTE ON FUNCTION relman.lock_holders(), relman.is_admin() TO relman_reader",
        f"GRANT EXECUTE ON FUNCTION {', '.join(RUNNER_FUNCTIONS)} TO relman_runner",
    ]
