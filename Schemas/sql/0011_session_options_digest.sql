-- A digest of the options stored for a session in gluster_georep_config, written in the same
-- statement as those rows, so that a snapshot bringing the options already stored writes none of
-- them. Options seldom change while every snapshot a worker reads them for carries them all:
-- rewriting them (or checking each one) was a tenth of PostgreSQL's time in a status storm
-- (georep-bench persister, 2026-12-02). NULL: not known, the next options are written.
ALTER TABLE gluster_georep_session ADD COLUMN IF NOT EXISTS options_digest TEXT;
