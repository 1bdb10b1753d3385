-- Ranking statistics (written by `lexica ingest`; read by search). Same tables and meaning as
-- migrations/source-postgres/0003_statistics.sql: see its comments. Text compares bytewise in
-- SQLite by default, so a prefix is one range scan of the primary key here too.

CREATE TABLE IF NOT EXISTS lexica_corpus_stats (
    id              INTEGER PRIMARY KEY CHECK (id = 1),
    opinions        INTEGER NOT NULL CHECK (opinions >= 0),
    case_name_words INTEGER NOT NULL CHECK (case_name_words >= 0),
    citation_words  INTEGER NOT NULL CHECK (citation_words >= 0),
    court_words     INTEGER NOT NULL CHECK (court_words >= 0),
    body_words      INTEGER NOT NULL CHECK (body_words >= 0),
    updated_at      TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);

CREATE TABLE IF NOT EXISTS lexica_term_stats (
    term TEXT PRIMARY KEY,
    df   INTEGER NOT NULL CHECK (df >= 0)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS opinion_lengths (
    opinion_id      INTEGER PRIMARY KEY REFERENCES opinions (id) ON DELETE CASCADE,
    case_name_words INTEGER NOT NULL,
    citation_words  INTEGER NOT NULL,
    court_words     INTEGER NOT NULL,
    body_words      INTEGER NOT NULL
);
