-- The stamp of the snapshot a session's options (gluster_georep_config) came from, apart from
-- the session row's own: a snapshot carries options only when its worker read them, so a newer
-- snapshot without options must not keep out an older one with them. Seen in CI: a worker
-- watching the lab published a status-only snapshot stamped just after another worker's read of
-- the options `config reset` had changed; that snapshot landed first, the row kept its newer
-- stamp, and the reset options were never stored.
-- Rows stored before this column existed take the row's stamp: their options are at most that new.
ALTER TABLE gluster_georep_session ADD COLUMN IF NOT EXISTS options_observed_seq BIGINT;
UPDATE gluster_georep_session SET options_observed_seq = observed_seq WHERE options_observed_seq IS NULL;
ALTER TABLE gluster_georep_session ALTER COLUMN options_observed_seq SET DEFAULT 0;
ALTER TABLE gluster_georep_session ALTER COLUMN options_observed_seq SET NOT NULL;
