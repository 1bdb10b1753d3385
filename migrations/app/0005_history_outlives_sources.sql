-- A firm's record of what was searched where outlives the sources it names (issue #13, item 11).
--
-- Before, `search_executions.data_source_id` cascaded: `lexica sources remove` deleted the source's
-- part of every past search. Now each execution keeps the source's name as it was when it ran
-- (`data_source_name`, filled at insert), and removing the source only sets `data_source_id` to
-- NULL. The firm's original design (notes/firm-original-design.md) does not cascade this column
-- either; it would refuse the removal (no ON DELETE action), which would leave an admin unable to
-- remove a source that was ever searched, so Lexica sets NULL instead and keeps the name.
--
-- SQLite cannot change a foreign key's ON DELETE in place: the table is rebuilt, keeping every row
-- and column as it was. No other table references `search_executions`, so dropping the old table
-- triggers no foreign-key action (this runs inside the migration's transaction, where
-- `PRAGMA foreign_keys` cannot be switched off, and need not be).
--
-- Compared with the original design, the app schema keeps these differences on purpose:
-- * Types: UUIDs as hyphenated TEXT, timestamps as RFC 3339 UTC TEXT, booleans as INTEGER 0/1
--   with a CHECK; VARCHAR(n) lengths as CHECK (length(...) <= n) where the design gave one
--   (SQLite has no UUID, TIMESTAMP, BOOLEAN or VARCHAR types).
-- * `users`, `searches`, `app_settings` are Lexica's own (the design reuses the Phoenix app's
--   `users` and `searches` and does not list them), and so is `idx_searches_user_created`.
-- * `data_sources.database_url` may be NULL (a source can exist before it is configured: the
--   seeded `ny_appeals` starts without a URL, since the design's seed URL holds a placeholder
--   password, and passwords never go in the app database); `source_type` defaults to 'general';
--   `is_active` and `search_enabled` are NOT NULL.
-- * `data_sources` adds `pool_size`, `acquire_timeout_ms`, `query_timeout_ms` (the design's §2
--   per-source settings 5 / 15 000 / 30 000 ms, per source instead of in a config file) and
--   `credential_updated_at` (0002).
-- * `user_data_source_permissions.granted_by` is ON DELETE SET NULL (the design's plain
--   reference would forbid removing an admin who ever granted access); `permission_level` has a
--   CHECK for the design's two values.
-- * `search_executions`: six states, not four (`timed_out`, `cancelled` added: a deadline or a
--   cancel is not a failure), with a CHECK; `results_count` has no DEFAULT 0 (NULL = the source
--   did not answer, which 0 would misstate); UNIQUE (search_id, data_source_id); the columns
--   `match_count`, `match_count_estimated` (0003), `owner_id`, `owner_pid` (0004) and
--   `data_source_name` (here); `data_source_id` nullable, ON DELETE SET NULL (above).
-- * Index names: `idx_permissions_user`, `idx_permissions_source`, `idx_executions_search`,
--   `idx_executions_status` index the design's columns under shorter names (kept: renaming them
--   buys nothing); the one index the app lacked is added under the design's own name,
--   `idx_search_executions_source_id`.

CREATE TABLE search_executions_new (
    id                    TEXT PRIMARY KEY NOT NULL,
    search_id             TEXT NOT NULL REFERENCES searches (id) ON DELETE CASCADE,
    -- NULL once the source is removed; `data_source_name` still says which source it was.
    data_source_id        TEXT REFERENCES data_sources (id) ON DELETE SET NULL,
    -- The source's name when the search ran (names never change: they are a source's key).
    data_source_name      TEXT NOT NULL,
    status                TEXT NOT NULL DEFAULT 'pending'
                          CHECK (status IN ('pending', 'running', 'completed', 'failed', 'timed_out', 'cancelled')),
    results_count         INTEGER,
    execution_time_ms     INTEGER,
    error_message         TEXT,
    started_at            TEXT,
    completed_at          TEXT,
    created_at            TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    match_count           INTEGER CHECK (match_count >= 0),
    match_count_estimated INTEGER
        CHECK (match_count_estimated IN (0, 1) AND (match_count IS NULL) = (match_count_estimated IS NULL)),
    owner_id              TEXT,
    owner_pid             INTEGER,
    UNIQUE (search_id, data_source_id)
);

-- Every row, its source's name looked up now (every row has a live source: they cascaded until
-- this migration). The id stands in should a row somehow lack its source (foreign keys are
-- enforced per connection; an old tool might have written without them).
INSERT INTO search_executions_new (
    id, search_id, data_source_id, data_source_name, status, results_count, execution_time_ms, error_message,
    started_at, completed_at, created_at, match_count, match_count_estimated, owner_id, owner_pid
)
SELECT e.id, e.search_id, e.data_source_id, coalesce(s.name, e.data_source_id), e.status, e.results_count,
       e.execution_time_ms, e.error_message, e.started_at, e.completed_at, e.created_at, e.match_count,
       e.match_count_estimated, e.owner_id, e.owner_pid
  FROM search_executions e
  LEFT JOIN data_sources s ON s.id = e.data_source_id;

DROP TABLE search_executions;
ALTER TABLE search_executions_new RENAME TO search_executions;

-- The old table's two indexes went with it; rebuilt under their names, plus the design's third.
CREATE INDEX idx_executions_search ON search_executions (search_id);
CREATE INDEX idx_executions_status ON search_executions (status);
CREATE INDEX idx_search_executions_source_id ON search_executions (data_source_id);
