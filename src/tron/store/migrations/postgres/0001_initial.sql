-- The first schema of the PostgreSQL store: SQLite's tables (0001_initial.sql one level up)
-- with PostgreSQL's types, plus the leader's lease. Times of records are the same ISO 8601
-- text as in SQLite (see tron.store.codec), so a zone name comes back exactly and a state
-- copies between the two stores unchanged; `record` columns hold whole records as JSON text.

CREATE TABLE config_versions (
    id BIGSERIAL PRIMARY KEY,
    namespace TEXT NOT NULL,
    version INTEGER NOT NULL,
    text TEXT NOT NULL,
    hash TEXT NOT NULL,
    saved_at TEXT NOT NULL,
    UNIQUE (namespace, version)
);

CREATE TABLE job_state (
    job_name TEXT PRIMARY KEY,
    enabled BOOLEAN,                      -- NULL: never set, the config decides
    next_run_num INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE job_runs (
    job_name TEXT NOT NULL,
    run_num INTEGER NOT NULL,
    run_time TEXT NOT NULL,
    manual BOOLEAN NOT NULL,
    node TEXT,
    start_time TEXT,
    end_time TEXT,
    slot TEXT,                            -- the launch this run stands for; NULL: none
    record TEXT NOT NULL,                 -- the JobRun header, without its action runs
    PRIMARY KEY (job_name, run_num),
    UNIQUE (job_name, slot)
);

CREATE TABLE action_runs (
    job_name TEXT NOT NULL,
    run_num INTEGER NOT NULL,
    action_name TEXT NOT NULL,
    position INTEGER NOT NULL,            -- keeps the run's action order
    state TEXT NOT NULL,
    attempt_count INTEGER NOT NULL,
    exit_status INTEGER,
    record TEXT NOT NULL,
    PRIMARY KEY (job_name, run_num, action_name),
    FOREIGN KEY (job_name, run_num) REFERENCES job_runs (job_name, run_num) ON DELETE CASCADE
);

CREATE INDEX action_runs_by_state ON action_runs (state);

CREATE TABLE transitions (
    action_run_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    state TEXT NOT NULL,
    at TEXT NOT NULL,
    exit_status INTEGER,
    node TEXT,
    reason TEXT,
    PRIMARY KEY (action_run_id, seq)
);

-- The log is history: rows are added, or removed with their run, never rewritten.
CREATE FUNCTION transitions_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'transitions are append-only';
END;
$$;

CREATE TRIGGER transitions_append_only BEFORE UPDATE ON transitions
FOR EACH ROW EXECUTE FUNCTION transitions_append_only();

CREATE TABLE handles (
    action_run_id TEXT PRIMARY KEY,
    handle TEXT NOT NULL
);

CREATE TABLE events (
    id BIGSERIAL PRIMARY KEY,
    event_id TEXT NOT NULL UNIQUE
);

-- The leader's lease: one row. `epoch` grows by one at every takeover; each write of a
-- leader checks it in its own transaction (fencing). Times are the server's clock, so the
-- daemons' clocks need not agree.
CREATE TABLE lease (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    holder TEXT,                          -- NULL: nobody leads yet
    address TEXT,                         -- where the leader's API answers
    epoch BIGINT NOT NULL,
    acquired_at TIMESTAMPTZ,
    renewed_at TIMESTAMPTZ,
    expires_at TIMESTAMPTZ
);

INSERT INTO lease (id, epoch) VALUES (1, 0);
