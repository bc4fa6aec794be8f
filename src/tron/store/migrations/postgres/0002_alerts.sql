-- Alerts and their history, the notification outbox, the operators' audit log and job
-- silences: SQLite's 0002_alerts.sql with PostgreSQL's types. Times are ISO 8601 text and
-- `record` columns whole records as JSON text, as in SQLite, so `trond migrate-state` copies
-- rows unchanged.

CREATE TABLE alerts (
    id TEXT PRIMARY KEY,
    job TEXT NOT NULL,
    kind TEXT NOT NULL,
    state TEXT NOT NULL,                  -- open, resolved
    record TEXT NOT NULL,
    position BIGSERIAL NOT NULL           -- the order alerts opened in (SQLite's rowid)
);

CREATE INDEX alerts_by_job ON alerts (job, state);
CREATE INDEX alerts_by_state ON alerts (state);
CREATE INDEX alerts_by_position ON alerts (position);

-- A notification is written here before it is sent, and marked delivered after the
-- receiver accepted it; `seq` orders deliveries, `key` is the idempotency key.
CREATE TABLE outbox (
    seq BIGSERIAL PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,
    alert_id TEXT NOT NULL,
    job TEXT NOT NULL,
    state TEXT NOT NULL,                  -- pending, delivered
    created_at TEXT NOT NULL,
    record TEXT NOT NULL
);

CREATE INDEX outbox_by_state ON outbox (state, seq);
CREATE INDEX outbox_by_alert ON outbox (alert_id);

CREATE TABLE audit_log (
    seq BIGSERIAL PRIMARY KEY,
    at TEXT NOT NULL,
    who TEXT NOT NULL,
    command TEXT NOT NULL,
    target TEXT NOT NULL,
    result TEXT NOT NULL,
    ok BOOLEAN NOT NULL
);

CREATE INDEX audit_by_target ON audit_log (target);

CREATE TABLE silences (
    job TEXT PRIMARY KEY,
    until TEXT NOT NULL
);
