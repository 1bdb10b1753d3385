-- Lawyers sign in to a source themselves (issue #12, item 8).
--
-- `each_user_signs_in`: the firm gives each lawyer their own database account on this source, so
-- no shared password is used: each user is asked for their user name and password, kept beside
-- each other in that user's own sign-in.
--
-- `source_sign_ins`: that a user has a remembered sign-in for a source, and under which database
-- user name (NULL: the source URL's user). The password itself is in the OS keychain, never here;
-- this row lets Lexica know a personal password exists without asking the keychain on every
-- search, and stamps when it changed so the user's pool is rebuilt. Rows go with their user or
-- source (their keychain entries are removed by the core when it removes the source).
ALTER TABLE data_sources ADD COLUMN each_user_signs_in INTEGER NOT NULL DEFAULT 0
    CHECK (each_user_signs_in IN (0, 1));

CREATE TABLE source_sign_ins (
    user_id        TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    data_source_id TEXT NOT NULL REFERENCES data_sources (id) ON DELETE CASCADE,
    db_username    TEXT CHECK (length(db_username) <= 63),
    updated_at     TEXT NOT NULL,
    PRIMARY KEY (user_id, data_source_id)
);
