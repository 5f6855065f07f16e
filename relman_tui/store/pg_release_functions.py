"""The PostgreSQL board's release writes: ``relman.release_event``, each change taken from the record its event
carries (part of migration m004, see :mod:`relman_tui.store.pg_functions`)."""

from __future__ import annotations

from relman_tui.store.pg_definer import DEFINER, REFUSE, STALE

RELEASE_FUNCTIONS = [
    # -- releases: every change from the record the event carries -----------------------------------------
    f"""CREATE FUNCTION relman.release_event(event jsonb) RETURNS bigint {DEFINER} AS $$
    DECLARE
        who record;
        at text;
        act text := event->>'action';
        rec jsonb := event->'details'->'release';
        old relman.releases;
        new relman.releases;
        details jsonb := event->'details';
        win jsonb := event->'details'->'window';
        forced boolean := COALESCE((event->>'forced')::boolean, false);
        why text := NULLIF(pg_catalog.btrim(COALESCE(event->>'reason', '')), '');
        four_eyes boolean;
        here integer;
        there integer;
        described boolean;
    BEGIN
        PERFORM relman.take_board_lock();
        who := relman.acting(event);
        at := relman.event_time(event);
        IF act NOT IN ('created', 'edited', 'moved', 'rolled_back', 'verified', 'failed', 'approved', 'cancelled',
                       'scheduled', 'unscheduled') THEN
            RAISE EXCEPTION 'not a release event: %', act {REFUSE};
        END IF;
        IF rec IS NULL OR pg_catalog.jsonb_typeof(rec) <> 'object' THEN
            RAISE EXCEPTION 'a release event carries the release after the change (details.release)' {REFUSE};
        END IF;
        IF (rec->>'id')::bigint IS DISTINCT FROM (event->>'release')::bigint THEN
            RAISE EXCEPTION 'the event is about release #% but carries release #%', event->>'release', rec->>'id'
                {REFUSE};
        END IF;
        new := pg_catalog.jsonb_populate_record(NULL::relman.releases, rec - 'components');
        new.components := (rec->'components')::text;
        IF pg_catalog.jsonb_typeof(rec->'components') <> 'array' OR pg_catalog.jsonb_array_length(rec->'components') = 0
           OR EXISTS (SELECT 1 FROM pg_catalog.jsonb_array_elements(rec->'components') AS c(name)
                      WHERE pg_catalog.jsonb_typeof(c.name) <> 'string'
                         OR pg_catalog.length(c.name #>> '{{}}') > 120) THEN
            RAISE EXCEPTION 'a release''s components are a list of names' {REFUSE};
        END IF;
        IF pg_catalog.length(new.name) NOT BETWEEN 1 AND 120 OR pg_catalog.length(new.version) NOT BETWEEN 1 AND 60
           OR new.owner !~ '^[A-Za-z0-9._@-]{{1,64}}$' OR pg_catalog.length(new.notes) > 10000 THEN
            RAISE EXCEPTION 'a release has a name, a version, an owner''s login name and notes within relman''s limits'
                {REFUSE};
        END IF;
        new.updated_at := at;
        IF act = 'created' THEN
            IF new.id IS NULL OR new.id > (SELECT s.last_value FROM relman.releases_id_seq AS s)
               OR EXISTS (SELECT 1 FROM relman.releases AS r WHERE r.id = new.id) THEN
                RAISE EXCEPTION 'a new release takes an id the server reserved (relman.reserve_id)' {REFUSE};
            END IF;
            IF new.stage <> 'planned' OR new.state <> 'pending' OR new.approved_by IS NOT NULL
               OR new.approved_at IS NOT NULL OR COALESCE(new.unapproved, false) OR new.rev <> 1 THEN
                RAISE EXCEPTION 'a new release starts planned, pending, at revision 1 and without an approval'
                    {REFUSE};
            END IF;
            IF pg_catalog.lower(new.created_by) <> pg_catalog.lower(who.actor) THEN
                RAISE EXCEPTION 'a release is created by the one who acts (%), not %', who.actor, new.created_by
                    {REFUSE};
            END IF;
            new.created_by := who.actor;
            new.created_at := at;
            new.unapproved := false;
            INSERT INTO relman.releases SELECT new.*;
        ELSE
            SELECT r.* INTO old FROM relman.releases AS r WHERE r.id = new.id FOR UPDATE;
            IF NOT FOUND THEN
                RAISE EXCEPTION 'no release #%', new.id {REFUSE};
            END IF;
            IF new.rev IS DISTINCT FROM old.rev + 1 THEN
                RAISE EXCEPTION 'release #% changed since it was read (revision %, now %)', old.id, new.rev - 1,
                    old.rev {STALE};
            END IF;
            IF old.state = 'cancelled' THEN
                RAISE EXCEPTION 'release #% is cancelled', old.id {REFUSE};
            END IF;
            IF (new.created_by, new.created_at) IS DISTINCT FROM (old.created_by, old.created_at) THEN
                RAISE EXCEPTION 'who created release #% and when is history: it cannot be changed', old.id {REFUSE};
            END IF;
            described := (new.name, new.version, new.components::jsonb, new.owner)
                IS NOT DISTINCT FROM (old.name, old.version, old.components::jsonb, old.owner);
            IF described THEN
                new.components := old.components;  -- the stored text stays byte for byte
            END IF;
            IF act <> 'edited' AND (NOT described OR (new.risk, new.notes, new.changed_at)
                                                    IS DISTINCT FROM (old.risk, old.notes, old.changed_at)) THEN
                RAISE EXCEPTION 'only an edit changes what release #% is (%)', old.id, act {REFUSE};
            END IF;
            IF act NOT IN ('approved', 'edited', 'rolled_back')
               AND (new.approved_by, new.approved_at) IS DISTINCT FROM (old.approved_by, old.approved_at) THEN
                RAISE EXCEPTION 'only an approval gives release #% its approval (%)', old.id, act {REFUSE};
            END IF;
            IF act NOT IN ('moved', 'rolled_back') AND new.stage IS DISTINCT FROM old.stage THEN
                RAISE EXCEPTION 'only a move changes the stage of release #% (%)', old.id, act {REFUSE};
            END IF;
            IF act NOT IN ('moved', 'rolled_back', 'approved')
               AND new.unapproved IS DISTINCT FROM old.unapproved THEN
                RAISE EXCEPTION 'the unapproved mark on release #% is set by a move and cleared by an approval',
                    old.id {REFUSE};
            END IF;
            here := relman.stage_position(old.stage);
            there := relman.stage_position(new.stage);
            IF act = 'edited' THEN
                IF new.state IS DISTINCT FROM old.state THEN
                    RAISE EXCEPTION 'an edit does not change the state of release #%', old.id {REFUSE};
                END IF;
                IF NOT described AND new.approved_by IS NOT NULL THEN
                    RAISE EXCEPTION 'changing the name, version, components or owner of release #% withdraws its '
                        'approval', old.id {REFUSE};
                END IF;
                IF new.approved_by IS NOT NULL
                   AND (new.approved_by, new.approved_at) IS DISTINCT FROM (old.approved_by, old.approved_at) THEN
                    RAISE EXCEPTION 'an edit only withdraws an approval of release #%', old.id {REFUSE};
                END IF;
                new.approved_at := CASE WHEN new.approved_by IS NULL THEN NULL ELSE old.approved_at END;
            ELSIF act = 'moved' THEN
                IF there IS NULL OR there <= here THEN
                    RAISE EXCEPTION 'a move of release #% goes forward to a stage of the pipeline (not %)', old.id,
                        new.stage {REFUSE};
                END IF;
                IF NOT forced AND there <> here + 1 THEN
                    RAISE EXCEPTION 'moving release #% to % skips a stage: releases move one stage at a time '
                        '(or force it with a reason)', old.id, new.stage {REFUSE};
                END IF;
                IF NOT forced AND old.stage <> 'planned' AND old.state <> 'verified' THEN
                    RAISE EXCEPTION 'release #% is % in %, not verified (or force it with a reason)', old.id,
                        old.state, old.stage {REFUSE};
                END IF;
                IF NOT forced AND relman.requires_approval(new.stage) AND old.approved_by IS NULL THEN
                    RAISE EXCEPTION '% requires approval and release #% is not approved (or force it with a reason)',
                        new.stage, old.id {REFUSE};
                END IF;
                IF forced AND why IS NULL THEN
                    RAISE EXCEPTION 'a forced move needs a reason' {REFUSE};
                END IF;
                IF new.state <> 'deployed' THEN
                    RAISE EXCEPTION 'a moved release is deployed' {REFUSE};
                END IF;
                IF new.unapproved IS DISTINCT FROM (relman.requires_approval(new.stage) AND old.approved_by IS NULL)
                THEN
                    RAISE EXCEPTION 'release #% enters % %: the unapproved mark must say so (break-glass)', old.id,
                        new.stage, CASE WHEN old.approved_by IS NULL THEN 'without an approval' ELSE 'approved' END
                        {REFUSE};
                END IF;
            ELSIF act = 'rolled_back' THEN
                IF there IS NULL OR there >= here THEN
                    RAISE EXCEPTION 'a rollback of release #% goes to an earlier stage (not %)', old.id, new.stage
                        {REFUSE};
                END IF;
                IF why IS NULL THEN
                    RAISE EXCEPTION 'a rollback needs a reason' {REFUSE};
                END IF;
                IF new.approved_by IS NOT NULL OR new.approved_at IS NOT NULL THEN
                    RAISE EXCEPTION 'a rollback withdraws the approval of release #%', old.id {REFUSE};
                END IF;
                IF new.state <> (CASE WHEN new.stage = 'planned' THEN 'pending' ELSE 'deployed' END)
                   OR new.unapproved IS DISTINCT FROM relman.requires_approval(new.stage) THEN
                    RAISE EXCEPTION 'release #% rolled back to % is % and %', old.id, new.stage,
                        CASE WHEN new.stage = 'planned' THEN 'pending' ELSE 'deployed' END,
                        CASE WHEN relman.requires_approval(new.stage) THEN 'marked unapproved' ELSE 'unmarked' END
                        {REFUSE};
                END IF;
            ELSIF act = 'verified' THEN
                IF old.stage = 'planned' OR old.state NOT IN ('deployed', 'failed') OR new.state <> 'verified' THEN
                    RAISE EXCEPTION 'only a deployed release is verified (release #% is % in %)', old.id, old.state,
                        old.stage {REFUSE};
                END IF;
            ELSIF act = 'failed' THEN
                IF old.stage = 'planned' OR old.state = 'failed' OR new.state <> 'failed' THEN
                    RAISE EXCEPTION 'only a deployed release is marked failed (release #% is % in %)', old.id,
                        old.state, old.stage {REFUSE};
                END IF;
            ELSIF act = 'approved' THEN
                four_eyes := relman.setting('four_eyes', 'true') <> 'false';
                IF old.approved_by IS NOT NULL THEN
                    RAISE EXCEPTION 'release #% is already approved by %', old.id, old.approved_by {REFUSE};
                END IF;
                IF new.approved_by IS NULL OR pg_catalog.lower(new.approved_by) <> pg_catalog.lower(who.actor) THEN
                    RAISE EXCEPTION 'an approval is given by the one who acts (%), not %', who.actor,
                        new.approved_by {REFUSE};
                END IF;
                IF four_eyes AND (pg_catalog.lower(who.actor) IN (pg_catalog.lower(old.owner),
                                                                  pg_catalog.lower(old.created_by))) THEN
                    RAISE EXCEPTION 'four-eyes rule: % may not approve release #% (owner %, created by %)',
                        who.actor, old.id, old.owner, old.created_by {REFUSE};
                END IF;
                IF four_eyes AND who.via IS NOT NULL AND pg_catalog.lower(who.via) IN (pg_catalog.lower(old.owner),
                                                                                      pg_catalog.lower(old.created_by))
                THEN
                    RAISE EXCEPTION 'four-eyes rule: % may not approve release #% (owner %, created by %), not even '
                        'by naming %', who.via, old.id, old.owner, old.created_by, who.actor {REFUSE};
                END IF;
                IF new.state IS DISTINCT FROM old.state OR COALESCE(new.unapproved, false) THEN
                    RAISE EXCEPTION 'an approval changes only the approval of release #% (and clears its mark)',
                        old.id {REFUSE};
                END IF;
                new.approved_by := who.actor;
                new.approved_at := at;
            ELSIF act = 'cancelled' THEN
                IF new.state <> 'cancelled' THEN
                    RAISE EXCEPTION 'a cancelled release is cancelled' {REFUSE};
                END IF;
            ELSIF act IN ('scheduled', 'unscheduled') THEN
                IF new.state IS DISTINCT FROM old.state THEN
                    RAISE EXCEPTION 'a window does not change the state of release #%', old.id {REFUSE};
                END IF;
                IF win IS NULL OR pg_catalog.jsonb_typeof(win) <> 'object' THEN
                    RAISE EXCEPTION 'a window event carries its window (details.window)' {REFUSE};
                END IF;
                IF act = 'scheduled' THEN
                    PERFORM relman.span(win->>'start', win->>'end', interval '90 days', 'a window');
                    INSERT INTO relman.windows (release_id, environment, start, "end")
                    VALUES (old.id, win->>'environment', win->>'start', win->>'end')
                    ON CONFLICT (release_id, environment) DO UPDATE SET start = excluded.start, "end" = excluded."end";
                ELSE
                    DELETE FROM relman.windows AS w WHERE w.release_id = old.id AND w.environment = win->>'environment';
                    IF NOT FOUND THEN
                        RAISE EXCEPTION 'release #% has no window in %', old.id, win->>'environment' {REFUSE};
                    END IF;
                END IF;
            END IF;
            IF act IN ('moved', 'rolled_back') AND ((event->>'from') IS DISTINCT FROM old.stage
                                                    OR (event->>'to') IS DISTINCT FROM new.stage) THEN
                RAISE EXCEPTION 'the event says % to %, the release goes % to %', event->>'from', event->>'to',
                    old.stage, new.stage {REFUSE};
            END IF;
            UPDATE relman.releases AS r SET name = new.name, version = new.version, components = new.components,
                owner = new.owner, risk = new.risk, stage = new.stage, state = new.state,
                approved_by = new.approved_by, approved_at = new.approved_at, notes = new.notes,
                updated_at = new.updated_at, rev = new.rev, unapproved = new.unapproved, changed_at = new.changed_at
            WHERE r.id = old.id;
        END IF;
        -- the event carries the row as stored: the server's time and the one who acts
        details := pg_catalog.jsonb_set(details, '{{release}}', pg_catalog.jsonb_set(
            pg_catalog.to_jsonb(new) - 'components', '{{components}}', new.components::jsonb));
        RETURN relman.append(event, who.actor, who.via, at, details::text);
    END $$""",
]
