-- Impact-ordered postings (written by `lexica ingest`; read by search). Same tables, columns and
-- meaning as migrations/source-postgres/0004_postings.sql: see its comments. Text compares bytewise
-- (BINARY) in SQLite by default, so a prefix is one range of the index here too. SQLite has no
-- INCLUDE: the index carries the columns a search reads as trailing keys, so reads are index-only.
--
-- SQLite has no `ADD COLUMN IF NOT EXISTS`: lexica-ingest runs each `ALTER TABLE … ADD COLUMN` below
-- only when the column is missing (one statement per line, as here).

CREATE TABLE IF NOT EXISTS lexica_postings (
    term       TEXT NOT NULL,
    impact     REAL NOT NULL,
    opinion_id INTEGER NOT NULL,
    body_tf    INTEGER NOT NULL
);

CREATE INDEX IF NOT EXISTS lexica_postings_term_impact_idx ON lexica_postings (term, impact DESC, opinion_id, body_tf);
CREATE INDEX IF NOT EXISTS lexica_postings_opinion_idx ON lexica_postings (opinion_id);

ALTER TABLE lexica_term_stats ADD COLUMN floor REAL NOT NULL DEFAULT 0;
ALTER TABLE lexica_term_stats ADD COLUMN postings INTEGER NOT NULL DEFAULT 0;
ALTER TABLE lexica_corpus_stats ADD COLUMN postings_per_term INTEGER;
ALTER TABLE lexica_corpus_stats ADD COLUMN postings_backfill_after INTEGER;
