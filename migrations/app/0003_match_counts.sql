-- How many opinions of the source matched the search (its exact meaning), beyond the at most 100 it
-- returned (`results_count`), and whether that number is an estimate (shown "≈ 41,000") rather than counted.
-- Both NULL when the source did not say: it did not complete, or the row predates this migration (the
-- history reads those as "no count"; nothing is back-filled, since the old rows' counts are unknown).
ALTER TABLE search_executions ADD COLUMN match_count INTEGER CHECK (match_count >= 0);
-- Set exactly when `match_count` is, so no count is ever read without knowing whether it is estimated.
ALTER TABLE search_executions ADD COLUMN match_count_estimated INTEGER
    CHECK (match_count_estimated IN (0, 1) AND (match_count IS NULL) = (match_count_estimated IS NULL));
