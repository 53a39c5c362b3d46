"""The server-side half of PostgreSQL isolation: SQL text installed in schema ``_stackrig``.

Objects (all owned by the installing superuser):

- ``ddl``: a sequence the event trigger calls on every non-temporary DDL;
- ``tracked``: one row per user table: its tracker sequence ``t_<oid>`` and
  the tables a change to it may touch (``members``: itself and its
  partitions/inheritance children);
- ``s_<oid>``: a copy of each table's baseline rows;
- ``sequences``: every user sequence's baseline ``last_value``/``is_called``;
- ``mark()``: the statement-level trigger function; ``on_ddl()``: the event
  trigger function; ``restore_rel()``: generated per database with one static
  branch per table (so plans are cached); ``reset()``: the whole reset, one call.

A mark is a sequence that has been called (``pg_sequence_last_value`` is not
NULL); reset clears it with ``setval(seq, 1, false)``.  Sequences are NOT
transactional:
a write is seen by ``reset()`` as soon as its statement starts, even while its
transaction is still open, and a rolled-back write still counts (a harmless
extra restore).  That is what lets reset wait for (and name) open writers.
"""

from __future__ import annotations

SCHEMA = "_stackrig"

# Extra schemas never tracked, besides pg_catalog, information_schema, pg_toast*, pg_temp*.
USER_SCHEMAS_FILTER = """
    n.nspname NOT IN ('pg_catalog', 'information_schema', '_stackrig')
    AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%'
"""

TABLES_QUERY = f"""
SELECT c.oid::bigint, c.relkind::text, format('%I.%I', n.nspname, c.relname),
       (SELECT coalesce(array_agg(format('%I', a.attname) ORDER BY a.attnum), '{{}}')
          FROM pg_attribute a
         WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''),
       (SELECT coalesce(array_agg(format('%I', a.attname) ORDER BY k.ord), '{{}}')
          FROM pg_index i CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
          JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
         WHERE i.indrelid = c.oid AND i.indisprimary)
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind IN ('r', 'p') AND c.relpersistence IN ('p', 'u') AND {USER_SCHEMAS_FILTER}
 ORDER BY c.oid
"""

INHERITS_QUERY = "SELECT inhparent::bigint, inhrelid::bigint FROM pg_inherits"

SEQUENCES_QUERY = f"""
SELECT c.oid::bigint, format('%I.%I', n.nspname, c.relname)
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind = 'S' AND {USER_SCHEMAS_FILTER}
 ORDER BY c.oid
"""

BASE = """
CREATE SCHEMA _stackrig;
REVOKE ALL ON SCHEMA _stackrig FROM PUBLIC;
CREATE SEQUENCE _stackrig.ddl;  -- called at all = the schema changed
CREATE TABLE _stackrig.tracked (
    relid    oid PRIMARY KEY,
    tracker  regclass NOT NULL,  -- called at all = the table may have changed
    members  oid[] NOT NULL      -- what to lock and restore: itself and its descendants
);
CREATE TABLE _stackrig.sequences (
    seq          regclass PRIMARY KEY,
    last_value   bigint NOT NULL,
    is_called    boolean NOT NULL,
    called_value bigint  -- what pg_sequence_last_value() shows at the baseline (NULL if not called)
);

-- Statement-level trigger: mark the table once per table per transaction.
CREATE FUNCTION _stackrig.mark() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $mark$
BEGIN
    IF current_setting('stackrig.m' || TG_RELID, true) IS DISTINCT FROM '1' THEN
        PERFORM nextval(TG_ARGV[0]::regclass);
        PERFORM set_config('stackrig.m' || TG_RELID, '1', true);
    END IF;
    RETURN NULL;
END
$mark$;

-- Event trigger: any DDL on a non-temporary object outside _stackrig marks the schema changed.
CREATE FUNCTION _stackrig.on_ddl() RETURNS event_trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $ddl$
BEGIN
    IF TG_EVENT = 'sql_drop' THEN
        IF EXISTS (SELECT 1 FROM pg_event_trigger_dropped_objects() d
                    WHERE NOT d.is_temporary
                      -- a dropped table's TOAST table is listed too, under pg_toast
                      AND d.schema_name IS DISTINCT FROM '_stackrig' AND d.schema_name IS DISTINCT FROM 'pg_toast') THEN
            PERFORM nextval('_stackrig.ddl');
        END IF;
    ELSIF TG_TAG NOT LIKE 'DROP %' THEN  -- drops are judged by sql_drop above
        IF NOT EXISTS (SELECT 1 FROM pg_event_trigger_ddl_commands())
           OR EXISTS (SELECT 1 FROM pg_event_trigger_ddl_commands() c
                       WHERE c.schema_name IS NULL
                          OR (c.schema_name <> '_stackrig' AND c.schema_name NOT LIKE 'pg\\_temp%')) THEN
            PERFORM nextval('_stackrig.ddl');
        END IF;
    END IF;
END
$ddl$;
"""

EVENT_TRIGGERS = """
CREATE EVENT TRIGGER _stackrig_ddl ON ddl_command_end EXECUTE FUNCTION _stackrig.on_ddl();
CREATE EVENT TRIGGER _stackrig_drop ON sql_drop EXECUTE FUNCTION _stackrig.on_ddl();
ALTER EVENT TRIGGER _stackrig_ddl ENABLE ALWAYS;
ALTER EVENT TRIGGER _stackrig_drop ENABLE ALWAYS;
"""

# One call per test.  Fast path: one read of the DDL mark, of every tracker and
# of every user sequence; no write.  Restore path: lock the changed tables
# against writers (EXCLUSIVE: readers are not blocked), rewrite them from their
# snapshots with FK triggers off (session_replication_role = replica), put
# changed sequences back, clear the marks.  One transaction.
RESET = """
CREATE FUNCTION _stackrig.reset() RETURNS jsonb
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $reset$
DECLARE
    v_members oid[];
    v_seqs    regclass[];
    v_rel     oid;
BEGIN
    IF pg_sequence_last_value('_stackrig.ddl'::regclass) IS NOT NULL THEN
        RETURN '{"mode": "full"}'::jsonb;
    END IF;
    @MEMBERS_QUERY@
    IF v_members IS NULL THEN
        IF NOT EXISTS (SELECT 1 FROM _stackrig.sequences s
                        WHERE pg_sequence_last_value(s.seq) IS DISTINCT FROM s.called_value) THEN
            RETURN '{"mode": "noop"}'::jsonb;
        END IF;
        v_members := '{}';
    ELSE
        -- FK triggers and our own mark triggers off.  PgIsolation's session stays in replica
        -- mode: flipping the setting flushes the session's plan cache, which costs more than
        -- the restore itself.
        IF current_setting('session_replication_role') <> 'replica' THEN
            PERFORM set_config('session_replication_role', 'replica', true);
        END IF;
        FOREACH v_rel IN ARRAY v_members LOOP
            PERFORM _stackrig.restore_rel(v_rel);  -- in oid order: no lock-order deadlock between resets
        END LOOP;
    END IF;
    SELECT array_agg(s.seq ORDER BY s.seq) INTO v_seqs
      FROM _stackrig.sequences s
     WHERE pg_sequence_last_value(s.seq) IS DISTINCT FROM s.called_value;
    IF v_seqs IS NOT NULL THEN
        PERFORM setval(s.seq, s.last_value, s.is_called) FROM _stackrig.sequences s WHERE s.seq = ANY (v_seqs);
    END IF;
    -- Last, once the tables are locked and restored: clear the marks (not transactional,
    -- so nothing that can fail comes after it but COMMIT).
    PERFORM setval(t.tracker, 1, false) FROM _stackrig.tracked t
      WHERE t.relid = ANY (v_members) AND pg_sequence_last_value(t.tracker) IS NOT NULL;
    RETURN jsonb_build_object('mode', 'restore',
                              'tables', to_jsonb(v_members::regclass[]::text[]),
                              'sequences', coalesce(to_jsonb(v_seqs::text[]), '[]'::jsonb));
END
$reset$;
"""

# What to restore: the marked tables and, when tables have partitions or inheritance
# children, their descendants too (a statement on a parent fires only the parent's trigger).
MEMBERS_FLAT = """SELECT array_agg(t.relid ORDER BY t.relid) INTO v_members
      FROM _stackrig.tracked t
     WHERE pg_sequence_last_value(t.tracker) IS NOT NULL;"""
MEMBERS_TREE = """SELECT array_agg(DISTINCT m ORDER BY m) INTO v_members
      FROM _stackrig.tracked t CROSS JOIN LATERAL unnest(t.members) AS m
     WHERE pg_sequence_last_value(t.tracker) IS NOT NULL;"""


def reset_function(*, has_descendants: bool) -> str:
    return RESET.replace("@MEMBERS_QUERY@", MEMBERS_TREE if has_descendants else MEMBERS_FLAT)


# The relations a pending reset must lock: used to name blockers after a lock timeout.
PENDING_RELATIONS = """
SELECT coalesce(array_agg(DISTINCT m), '{}')
  FROM _stackrig.tracked t CROSS JOIN LATERAL unnest(t.members) AS m
 WHERE pg_sequence_last_value(t.tracker) IS NOT NULL
"""

BLOCKERS = """
SELECT a.pid, coalesce(a.application_name, ''), a.state, coalesce(a.query, ''), a.xact_start,
       array_agg(DISTINCT format('%%s on %%I.%%I', l.mode, n.nspname, c.relname))
  FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
  JOIN pg_class c ON c.oid = l.relation JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE l.granted AND l.locktype = 'relation' AND l.mode <> 'AccessShareLock'
   AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
   AND l.relation = ANY (%s::oid[]) AND l.pid <> pg_backend_pid()
 GROUP BY a.pid, a.application_name, a.state, a.query, a.xact_start
 ORDER BY a.pid
"""
