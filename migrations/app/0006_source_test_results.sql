-- The last connection test of each source (issue #12, the settings window's Sources table).
--
-- `lexica sources test` / the settings window's "Test connection" run the source doctor; the
-- table shows each source's last verdict and when, so an admin sees at a glance which sources
-- were never tested or failed last time. One row per source (the latest replaces the previous):
-- the history of tests is not a firm record the way search history is.
--
-- `status` is the report's worst check (ok / warning / error); `summary` is the first non-ok
-- check's sentence (or the count of checks passed), already redacted by the doctor (no password,
-- no full URL). The full report is shown when a test runs; only its verdict is kept. The row goes
-- with its source (ON DELETE CASCADE), and the tester's id is kept while that user exists.
CREATE TABLE source_test_results (
    data_source_id TEXT PRIMARY KEY NOT NULL REFERENCES data_sources (id) ON DELETE CASCADE,
    status TEXT NOT NULL CHECK (status IN ('ok', 'warning', 'error')),
    summary TEXT NOT NULL CHECK (length(summary) <= 2000),
    tested_at TEXT NOT NULL,
    tested_by TEXT REFERENCES users (id) ON DELETE SET NULL
);
