-- When the source's password was last set or cleared in the OS keychain (never the password itself).
-- A running app compares it to rebuild that source's pool when another process (the CLI, the settings
-- window) changes the credential, and the settings window can say "password set on …".
ALTER TABLE data_sources ADD COLUMN credential_updated_at TEXT;
