-- The first schema of the SQLite store. Times are ISO 8601 text (see tron.store.codec);
-- `record` columns hold the whole record as JSON, the other columns are for queries.
-- Action output never goes in the database.

CREATE TABLE config_versions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    namespace TEXT NOT NULL,
    version INTEGER NOT NULL,
    text TEXT NOT NULL,
    hash TEXT NOT NULL,
    saved_at TEXT NOT NULL,
    UNIQUE (namespace, version)
);

CREATE TABLE job_state (
    job_name TEXT PRIMARY KEY,
    enabled INTEGER,                      -- NULL: never set, the config decides
    next_run_num INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE job_runs (
    job_name TEXT NOT NULL,
    run_num INTEGER NOT NULL,
    run_time TEXT NOT NULL,
    manual INTEGER NOT NULL,
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
CREATE TRIGGER transitions_append_only BEFORE UPDATE ON transitions
BEGIN
    SELECT RAISE(ABORT, 'transitions are append-only');
END;

CREATE TABLE handles (
    action_run_id TEXT PRIMARY KEY,
    handle TEXT NOT NULL
);

CREATE TABLE events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id TEXT NOT NULL UNIQUE
);
