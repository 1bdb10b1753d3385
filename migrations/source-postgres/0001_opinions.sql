-- Lexica source schema for PostgreSQL (created by `lexica ingest`; read-only to the app).
--
-- Why paragraph rows: a tsvector stores positions only up to 16,383, and the longest opinions run past
-- 49,000 words, so document-level positions are useless for proximity deep in a long opinion. Each
-- paragraph (at most 8,000 words, see lexica_query::text) gets its own row and vector, which also makes
-- `/p` (same paragraph) a plain row-level AND, and `/s` a check inside one short paragraph.
--
-- Why the `simple` configuration on normalized text: every vector is built from
-- lexica_query::text::normalize(...) (lower-case words joined by single spaces) with `simple`, so a
-- word's tsvector position equals its index in Lexica's own tokenizer and in SQLite's FTS5 index.
-- Unstemmed lexemes give exact matching for quoted phrases and root expansion; the query compiler adds
-- plural and possessive forms itself (as Westlaw does), identically for every backend.

CREATE TABLE IF NOT EXISTS opinions (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source_id     text NOT NULL UNIQUE,          -- the ingest key, e.g. 'courtlistener-opinion:101010'
    case_name     text NOT NULL,
    citation      text,
    court         text NOT NULL,
    jurisdiction  text,
    decided_on    date,
    docket_number text,
    body          text NOT NULL,
    -- Document-level vector for retrieval (ranking: lexica-query/RANKING.md). Weights: case name A,
    -- citation B, court C, body D; field restrictions compile to weight-restricted lexemes.
    -- Positions past 16,383 are clipped here, which is why proximity uses opinion_paragraphs.
    search_vector tsvector NOT NULL
);

CREATE TABLE IF NOT EXISTS opinion_paragraphs (
    opinion_id   bigint  NOT NULL REFERENCES opinions (id) ON DELETE CASCADE,
    paragraph_no integer NOT NULL,               -- 0-based, in body order
    body         text    NOT NULL,               -- the paragraph's original text (for /s and snippets)
    search_vector tsvector NOT NULL,             -- to_tsvector('simple', normalize(body)), see below
    PRIMARY KEY (opinion_id, paragraph_no)
);

-- How lexica-ingest fills the vectors: it sends them as tsvector literals built from
-- lexica_query::text::words (src-tauri/lexica-ingest/src/tsvector.rs). For ordinary words that is exactly
-- to_tsvector('simple', normalize(text)) (same lexemes, positions, weights, 16,383 clamp, 256 positions per
-- lexeme); where PostgreSQL's parser would split or drop a word Lexica keeps as one, the literal keeps
-- Lexica's word and numbering. Parsing a literal also costs the server far less than the text parser.

-- Indexes are created after bulk loads by the ingest (see lexica-ingest); kept here so a schema
-- created empty is complete.
CREATE INDEX IF NOT EXISTS opinions_search_vector_idx ON opinions USING gin (search_vector);
CREATE INDEX IF NOT EXISTS opinion_paragraphs_search_vector_idx ON opinion_paragraphs USING gin (search_vector);
CREATE INDEX IF NOT EXISTS opinions_court_idx ON opinions (court);
CREATE INDEX IF NOT EXISTS opinions_decided_on_idx ON opinions (decided_on);
CREATE INDEX IF NOT EXISTS opinions_citation_idx ON opinions (citation);
