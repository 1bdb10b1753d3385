-- Lexica ingest bookkeeping (written by `lexica ingest`; never read by search). Same meaning as
-- migrations/source-postgres/0002_ingest_runs.sql: one row per completed ingest into this bundle.

CREATE TABLE IF NOT EXISTS ingest_runs (
    id             INTEGER PRIMARY KEY,
    finished_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    input          TEXT NOT NULL,
    records        INTEGER NOT NULL,
    inserted       INTEGER NOT NULL,
    updated        INTEGER NOT NULL,
    unchanged      INTEGER NOT NULL,
    rejected       INTEGER NOT NULL,
    elapsed_secs   REAL NOT NULL,
    lexica_version TEXT NOT NULL
);
