-- Ranking statistics (written by `lexica ingest`; read by search, never written by it).
--
-- Lexica ranks with BM25F (src-tauri/lexica-query/RANKING.md). Its inputs that depend on the whole
-- collection are kept here, current after every committed ingest batch, so a search reads a few rows
-- instead of scanning the table (`ts_stat` over a million opinions takes minutes):
-- - `lexica_corpus_stats`: one row, the opinion count and the word totals of each field (average
--   field lengths are these over `opinions`);
-- - `lexica_term_stats`: for every lexeme of `opinions.search_vector`, how many opinions hold it in
--   any field (document frequency). `COLLATE "C"` so a prefix (`object!`) is one index range scan;
-- - `opinion_lengths`: each opinion's field lengths in Lexica words (lexica_query::text::words),
--   for BM25's length normalization.
-- A search runs against several sources at once and adds their statistics up before scoring, so
-- the same opinion gets the same score wherever it is held (RANKING.md, "Shared statistics").
--
-- A database that lacks these tables still searches; its opinions are ranked without document
-- frequencies or lengths and the source doctor says so. Running `lexica ingest` into it builds them
-- (opinions already loaded are counted, not reloaded).

CREATE TABLE IF NOT EXISTS lexica_corpus_stats (
    id              smallint PRIMARY KEY DEFAULT 1 CHECK (id = 1),
    opinions        bigint NOT NULL CHECK (opinions >= 0),
    case_name_words bigint NOT NULL CHECK (case_name_words >= 0),
    citation_words  bigint NOT NULL CHECK (citation_words >= 0),
    court_words     bigint NOT NULL CHECK (court_words >= 0),
    body_words      bigint NOT NULL CHECK (body_words >= 0),
    updated_at      timestamptz NOT NULL DEFAULT now()
);

-- fillfactor 50: every ingest batch updates thousands of these rows; room on the page lets PostgreSQL
-- update them in place (HOT) — a first load's df upserts took 226 ms per batch without it, 86 ms with it.
CREATE TABLE IF NOT EXISTS lexica_term_stats (
    term text COLLATE "C" PRIMARY KEY,
    df   bigint NOT NULL CHECK (df >= 0)
) WITH (fillfactor = 50);

CREATE TABLE IF NOT EXISTS opinion_lengths (
    opinion_id      bigint PRIMARY KEY REFERENCES opinions (id) ON DELETE CASCADE,
    case_name_words integer NOT NULL,
    citation_words  integer NOT NULL,
    court_words     integer NOT NULL,
    body_words      integer NOT NULL
);
