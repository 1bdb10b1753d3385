-- Lexica offline bundle schema (SQLite + FTS5). Same shape and meaning as the PostgreSQL source
-- schema (migrations/source-postgres): see its comments for why paragraphs and normalized text.
-- FTS5 tables are contentless-delete (SQLite >= 3.43): they index lexica_query::text::normalize(...)
-- of each column with the `unicode61` tokenizer (no stemming, diacritics kept), so token positions
-- equal Lexica's word indices.

CREATE TABLE IF NOT EXISTS opinions (
    id            INTEGER PRIMARY KEY,
    source_id     TEXT NOT NULL UNIQUE,
    case_name     TEXT NOT NULL,
    citation      TEXT,
    court         TEXT NOT NULL,
    jurisdiction  TEXT,
    decided_on    TEXT,                 -- YYYY-MM-DD
    docket_number TEXT,
    body          TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS opinion_paragraphs (
    id           INTEGER PRIMARY KEY,   -- rowid of paragraphs_fts
    opinion_id   INTEGER NOT NULL REFERENCES opinions (id) ON DELETE CASCADE,
    paragraph_no INTEGER NOT NULL,
    body         TEXT NOT NULL,
    UNIQUE (opinion_id, paragraph_no)
);

-- rowid = opinions.id. Columns in the PostgreSQL weight order (A case name, B citation, C court, D body).
CREATE VIRTUAL TABLE IF NOT EXISTS opinions_fts USING fts5(
    case_name, citation, court, body,
    content = '', contentless_delete = 1, tokenize = 'unicode61 remove_diacritics 0'
);

-- rowid = opinion_paragraphs.id
CREATE VIRTUAL TABLE IF NOT EXISTS paragraphs_fts USING fts5(
    body,
    content = '', contentless_delete = 1, tokenize = 'unicode61 remove_diacritics 0'
);

CREATE INDEX IF NOT EXISTS opinions_court_idx ON opinions (court);
CREATE INDEX IF NOT EXISTS opinions_decided_on_idx ON opinions (decided_on);
CREATE INDEX IF NOT EXISTS opinion_paragraphs_opinion_idx ON opinion_paragraphs (opinion_id);
