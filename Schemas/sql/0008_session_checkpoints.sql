-- The last checkpoint outcome of each session (georep.session.checkpoint.completed / .stalled),
-- so that the API and `georep status` show whether everything written before a checkpoint is on
-- the secondary. Times of gluster's own clock (checkpoint_time, completed_at, oldest_last_synced)
-- are TIMESTAMP without zone, as in gluster_georep_session_details. One row per session; a newer
-- checkpoint replaces the row, and a completion replaces a stall of the same checkpoint.
CREATE TABLE IF NOT EXISTS georep_session_checkpoints (
    session_id          UUID PRIMARY KEY,
    checkpoint_time     TIMESTAMP NOT NULL,
    status              VARCHAR(16) NOT NULL,          -- COMPLETED or STALLED
    completed_at        TIMESTAMP,
    duration_seconds    DOUBLE PRECISION,
    stalled_reason      VARCHAR(32),                   -- no_progress or session_not_active
    active_bricks       INTEGER,
    completed_bricks    INTEGER,
    oldest_last_synced  TIMESTAMP,
    observed_seq        BIGINT NOT NULL,
    observed_at         TIMESTAMPTZ NOT NULL,
    recorded_at         TIMESTAMPTZ NOT NULL DEFAULT now()
);
