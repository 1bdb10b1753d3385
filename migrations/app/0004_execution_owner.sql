-- Which Lexica process owns an execution while it is `pending` or `running`, so crash recovery closes
-- only executions whose process is gone (before, every open closed every unfinished execution, so
-- `lexica sources list` run during a search marked the live search `failed: interrupted`).
-- `owner_id` is a random id drawn once per process; the process proves it is alive by holding an
-- exclusive lock on `run/<owner_id>.*.lock` beside the app database (the OS drops the lock the moment
-- the process dies, SIGKILL and crashes included). `owner_pid` is for people reading the table only.
-- NULL in rows from before this migration (or from an older Lexica): such rows are closed as before.
ALTER TABLE search_executions ADD COLUMN owner_id TEXT;
ALTER TABLE search_executions ADD COLUMN owner_pid INTEGER;
