-- Sync windows (georep.session.schedule.set, georep.session.window.*): each session's schedule
-- as the last `schedule` command set it, and what was done in each of its windows, so that the
-- API and `georep status` show the next window and how the last one went. The oVirt tables are
-- untouched. A schedule row moves only to a newer set_at (the owner re-publishes a schedule with
-- its original set_at); an empty schedule (cleared) keeps its row with schedule '{}' so that an
-- older copy arriving late cannot bring the old one back.
CREATE TABLE IF NOT EXISTS georep_session_schedules (
    session_id    UUID PRIMARY KEY,
    session_ref   TEXT NOT NULL,
    schedule      JSONB NOT NULL,                       -- {"windows": [{"start", "end"}], "daily": {"at", "minutes"}}
    command_id    UUID,
    set_at        TIMESTAMPTZ NOT NULL,
    recorded_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- One row per session and window: opened, then closed (COMPLETED or MISSED) once.
CREATE TABLE IF NOT EXISTS georep_session_windows (
    session_id          UUID NOT NULL,
    window_start        TIMESTAMPTZ NOT NULL,
    window_end          TIMESTAMPTZ NOT NULL,
    opened_at           TIMESTAMPTZ,
    started             BOOLEAN,
    outcome             VARCHAR(16),                   -- NULL while open; COMPLETED or MISSED
    closed_at           TIMESTAMPTZ,
    stopped             BOOLEAN,
    completed_bricks    INTEGER,
    active_bricks       INTEGER,
    oldest_last_synced  TIMESTAMP,                     -- gluster's clock, as in georep_session_checkpoints
    recorded_at         TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (session_id, window_start)
);
CREATE INDEX IF NOT EXISTS georep_session_windows_recent ON georep_session_windows (session_id, window_start DESC);
