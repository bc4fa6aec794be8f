-- What a standby needs to follow the runs without reading them all every refresh: the id of
-- the transaction that last wrote each run and action run row, and the runs deleted (kept a
-- day). A standby asks for rows written by transactions its previous read could not see
-- (ids at or above that snapshot's xmin), so a transaction that commits late is not missed.
-- There is no SQLite counterpart: only a shared PostgreSQL store has standbys.

ALTER TABLE job_runs ADD COLUMN changed xid8 NOT NULL DEFAULT pg_current_xact_id();
ALTER TABLE action_runs ADD COLUMN changed xid8 NOT NULL DEFAULT pg_current_xact_id();
CREATE INDEX job_runs_by_change ON job_runs (changed);
CREATE INDEX action_runs_by_change ON action_runs (changed);

CREATE FUNCTION mark_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.changed := pg_current_xact_id();
    RETURN NEW;
END;
$$;

CREATE TRIGGER job_runs_changed BEFORE UPDATE ON job_runs
FOR EACH ROW EXECUTE FUNCTION mark_changed();
CREATE TRIGGER action_runs_changed BEFORE UPDATE ON action_runs
FOR EACH ROW EXECUTE FUNCTION mark_changed();

CREATE TABLE run_deletions (
    job_name TEXT NOT NULL,
    run_num INTEGER NOT NULL,
    changed xid8 NOT NULL DEFAULT pg_current_xact_id(),
    at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX run_deletions_by_change ON run_deletions (changed);
CREATE INDEX run_deletions_by_time ON run_deletions (at);

CREATE FUNCTION note_run_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO run_deletions (job_name, run_num) VALUES (OLD.job_name, OLD.run_num);
    RETURN OLD;
END;
$$;

CREATE TRIGGER job_runs_deleted AFTER DELETE ON job_runs
FOR EACH ROW EXECUTE FUNCTION note_run_deleted();

-- A standby more than an hour behind reads everything again, so a day of deletions is plenty.
CREATE FUNCTION prune_run_deletions() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM run_deletions WHERE at < now() - interval '1 day';
    RETURN NULL;
END;
$$;

CREATE TRIGGER job_runs_prune_deletions AFTER DELETE ON job_runs
FOR EACH STATEMENT EXECUTE FUNCTION prune_run_deletions();
