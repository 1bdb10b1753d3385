-- Lexica app database (embedded SQLite). Tables and indexes follow the firm's original design
-- (design.md §2): users, data_sources, user_data_source_permissions, searches, search_executions.
-- Ids are UUIDs stored as hyphenated text so the file stays readable with the sqlite3 shell.
-- Timestamps are RFC 3339 UTC text. Passwords are never stored here: they live in the OS keychain.

CREATE TABLE users (
    id           TEXT PRIMARY KEY NOT NULL,
    username     TEXT NOT NULL UNIQUE,
    display_name TEXT,
    is_admin     INTEGER NOT NULL DEFAULT 0 CHECK (is_admin IN (0, 1)),
    created_at   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

CREATE TABLE data_sources (
    id                 TEXT PRIMARY KEY NOT NULL,
    name               TEXT NOT NULL UNIQUE,
    display_name       TEXT NOT NULL,
    -- postgres://user@host/db or sqlite:/path (never with a password); NULL = not configured yet.
    database_url       TEXT,
    source_type        TEXT NOT NULL DEFAULT 'general' CHECK (length(source_type) <= 50),
    jurisdiction       TEXT CHECK (length(jurisdiction) <= 100),
    is_active          INTEGER NOT NULL DEFAULT 1 CHECK (is_active IN (0, 1)),
    search_enabled     INTEGER NOT NULL DEFAULT 1 CHECK (search_enabled IN (0, 1)),
    pool_size          INTEGER NOT NULL DEFAULT 5 CHECK (pool_size BETWEEN 1 AND 100),
    acquire_timeout_ms INTEGER NOT NULL DEFAULT 15000 CHECK (acquire_timeout_ms > 0),
    query_timeout_ms   INTEGER NOT NULL DEFAULT 30000 CHECK (query_timeout_ms > 0),
    created_at         TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at         TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

CREATE TABLE user_data_source_permissions (
    id               TEXT PRIMARY KEY NOT NULL,
    user_id          TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    data_source_id   TEXT NOT NULL REFERENCES data_sources (id) ON DELETE CASCADE,
    permission_level TEXT NOT NULL DEFAULT 'read' CHECK (permission_level IN ('read', 'admin')),
    granted_at       TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    -- Who granted it; kept (as NULL) when that admin is later removed.
    granted_by       TEXT REFERENCES users (id) ON DELETE SET NULL,
    UNIQUE (user_id, data_source_id)
);

CREATE TABLE searches (
    id         TEXT PRIMARY KEY NOT NULL,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    query_text TEXT NOT NULL,
    mode       TEXT NOT NULL CHECK (mode IN ('boolean', 'statements')),
    filters    TEXT NOT NULL DEFAULT '{}',   -- JSON: court, jurisdiction, date range, sort, sources
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

CREATE TABLE search_executions (
    id                TEXT PRIMARY KEY NOT NULL,
    search_id         TEXT NOT NULL REFERENCES searches (id) ON DELETE CASCADE,
    data_source_id    TEXT NOT NULL REFERENCES data_sources (id) ON DELETE CASCADE,
    status            TEXT NOT NULL DEFAULT 'pending'
                      CHECK (status IN ('pending', 'running', 'completed', 'failed', 'timed_out', 'cancelled')),
    results_count     INTEGER,
    execution_time_ms INTEGER,
    error_message     TEXT,
    started_at        TEXT,
    completed_at      TEXT,
    created_at        TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    UNIQUE (search_id, data_source_id)
);

-- The seed's five indexes.
CREATE INDEX idx_permissions_user ON user_data_source_permissions (user_id);
CREATE INDEX idx_permissions_source ON user_data_source_permissions (data_source_id);
CREATE INDEX idx_searches_user_created ON searches (user_id, created_at);
CREATE INDEX idx_executions_search ON search_executions (search_id);
CREATE INDEX idx_executions_status ON search_executions (status);

-- Install-wide facts, e.g. whether first-start setup has run (so a source an admin deleted is not re-created).
CREATE TABLE app_settings (
    key   TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);
