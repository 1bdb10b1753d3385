-- Impact-ordered postings (written by `lexica ingest`; read by search, never written by it).
--
-- Why: ranking every match of a common word costs time linear in its matches (every match's tsvector
-- is read back and scored: 1.3 s for `court` at 100k opinions). Instead a search reads, for each query
-- term, that term's postings with the highest BM25F term weight (`impact`), a few thousand rows whatever
-- the number of matches, and rescores only the opinions they name (lexica-core search/topk.rs).
-- - `lexica_postings`: one row per (term, opinion) kept. `impact` = lexica_query::bm25f::weight of the
--   term's per-field counts under the opinion's field lengths and the source's average field lengths as
--   of the ingest batch that wrote the row (after adding that batch); it only orders postings, the
--   search recomputes exact scores. `body_tf` = occurrences of the term among the body's Lexica words.
--   Terms are exactly those of lexica_term_stats. Per term, at least the R highest-impact postings are
--   kept (R = `lexica_corpus_stats.postings_per_term`), every posting of a term held by at most R
--   opinions; lower ones are dropped once a term holds more than 2R, so the table stays bounded.
-- - `lexica_term_stats.floor`: no posting of the term that is not stored has an impact above it
--   (0 = none was ever dropped: every posting of the term is stored); `postings`: rows stored for it.
-- - `lexica_corpus_stats.postings_per_term`: NULL while the postings are not complete for every opinion
--   of the source (not built yet, or being built from the opinions of a source loaded by an older
--   Lexica); otherwise the R they were built with. `postings_backfill_after`: how far that build got
--   (the last opinion id done), so an interrupted build resumes.
-- `COLLATE "C"` as in lexica_term_stats: a prefix (`object!`) is one range of the index.

CREATE TABLE IF NOT EXISTS lexica_postings (
    term       text COLLATE "C" NOT NULL,
    impact     real NOT NULL,
    opinion_id bigint NOT NULL,
    body_tf    integer NOT NULL
);

-- What a search reads: a term's postings by impact, index-only.
CREATE INDEX IF NOT EXISTS lexica_postings_term_impact_idx ON lexica_postings (term, impact DESC) INCLUDE (opinion_id, body_tf);
-- What the ingest needs to replace an opinion's postings (built after a first load: see lexica-ingest).
CREATE INDEX IF NOT EXISTS lexica_postings_opinion_idx ON lexica_postings (opinion_id);

ALTER TABLE lexica_term_stats ADD COLUMN IF NOT EXISTS floor real NOT NULL DEFAULT 0;
ALTER TABLE lexica_term_stats ADD COLUMN IF NOT EXISTS postings integer NOT NULL DEFAULT 0;
ALTER TABLE lexica_corpus_stats ADD COLUMN IF NOT EXISTS postings_per_term integer;
ALTER TABLE lexica_corpus_stats ADD COLUMN IF NOT EXISTS postings_backfill_after bigint;
