-- Lexica ingest bookkeeping (written by `lexica ingest`; never read by search).
-- One row per completed ingest into this database: which file, when, what it did. It tells an admin
-- (and "test connection") where a source's opinions came from and when they were last loaded.

CREATE TABLE IF NOT EXISTS ingest_runs (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    finished_at    timestamptz NOT NULL DEFAULT now(),
    input          text NOT NULL,                -- the input file as given to the ingest
    records        bigint NOT NULL,              -- non-blank input lines
    inserted       bigint NOT NULL,
    updated        bigint NOT NULL,
    unchanged      bigint NOT NULL,
    rejected       bigint NOT NULL,
    elapsed_secs   double precision NOT NULL,
    lexica_version text NOT NULL
);
