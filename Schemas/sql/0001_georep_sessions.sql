-- Geo-replication sessions, their per-brick details and config options, in the tables and
-- column names of the original oVirt design (a published read contract: columns keep the
-- master_/slave_ names), plus when each row was observed.
--
-- Additions beyond the original columns, all additive:
--   * cluster_id, master_volume_name, user_name: the session's names as the service knows them;
--   * the per-brick counters and checkpoint columns oVirt added later (data/meta/entry ops
--     pending, failures, last synced, checkpoint times), which gluster >= 3.7 reports instead of
--     files_synced / bytes_pending / deletes_pending (those stay NULL on such versions;
--     files_pending carries the data ops pending and files_skipped the failures);
--   * observed_seq / observed_at: the worker's observation stamp. A row is only ever replaced
--     by an observation with a higher observed_seq, so late events never overwrite newer state.

CREATE TABLE gluster_georep_session (
    session_id          UUID PRIMARY KEY,
    master_volume_id    UUID,
    session_key         VARCHAR(300) NOT NULL,
    slave_host_uuid     UUID,
    slave_host_name     VARCHAR(255),
    slave_volume_id     UUID,
    slave_volume_name   VARCHAR(64),
    status              VARCHAR(20),
    cluster_id          VARCHAR(64) NOT NULL,
    master_volume_name  VARCHAR(64) NOT NULL,
    user_name           VARCHAR(32),
    observed_seq        BIGINT NOT NULL,
    observed_at         TIMESTAMPTZ NOT NULL,
    _create_date        TIMESTAMPTZ NOT NULL DEFAULT now(),
    _update_date        TIMESTAMPTZ
);
CREATE INDEX idx_gluster_georep_session_master_volume ON gluster_georep_session (master_volume_id);
CREATE INDEX idx_gluster_georep_session_cluster_volume ON gluster_georep_session (cluster_id, master_volume_name);

CREATE TABLE gluster_georep_session_details (
    session_id                UUID NOT NULL REFERENCES gluster_georep_session (session_id) ON DELETE CASCADE,
    master_brick_id           UUID NOT NULL,
    slave_host_uuid           UUID,
    slave_host_name           VARCHAR(255) NOT NULL,
    status                    VARCHAR(20),
    checkpoint_status         VARCHAR(20),
    crawl_status              VARCHAR(32),
    files_synced              BIGINT,
    files_pending             BIGINT,
    bytes_pending             BIGINT,
    deletes_pending           BIGINT,
    files_skipped             BIGINT,
    last_synced_at            TIMESTAMP,
    checkpoint_time           TIMESTAMP,
    checkpoint_completed_time TIMESTAMP,
    is_checkpoint_completed   BOOLEAN,
    data_op_pending           BIGINT,
    meta_op_pending           BIGINT,
    entry_op_pending          BIGINT,
    failures                  BIGINT,
    master_node               VARCHAR(255),
    master_node_uuid          UUID,
    master_brick_dir          TEXT,
    observed_seq              BIGINT NOT NULL,
    observed_at               TIMESTAMPTZ NOT NULL,
    _update_date              TIMESTAMPTZ,
    PRIMARY KEY (session_id, master_brick_id)
);

CREATE TABLE gluster_georep_config (
    session_id    UUID NOT NULL REFERENCES gluster_georep_session (session_id) ON DELETE CASCADE,
    config_key    VARCHAR(64) NOT NULL,
    config_value  TEXT,
    _update_date  TIMESTAMPTZ,
    PRIMARY KEY (session_id, config_key)
);

-- A deleted session's last stamp, so that a late snapshot cannot bring it back.
CREATE TABLE georep_session_tombstones (
    session_id    UUID PRIMARY KEY,
    observed_seq  BIGINT NOT NULL,
    deleted_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Every status transition of a session or a brick, for audit.
CREATE TABLE georep_status_history (
    id               BIGSERIAL PRIMARY KEY,
    session_id       UUID NOT NULL,
    master_brick_id  UUID,
    brick_name       TEXT,
    from_status      VARCHAR(20),
    to_status        VARCHAR(20) NOT NULL,
    observed_seq     BIGINT NOT NULL,
    observed_at      TIMESTAMPTZ NOT NULL,
    cause            VARCHAR(16) NOT NULL,
    cause_command_id UUID
);
CREATE UNIQUE INDEX idx_georep_status_history_once
    ON georep_status_history (session_id, COALESCE(master_brick_id, '00000000-0000-0000-0000-000000000000'::uuid), observed_seq);
CREATE INDEX idx_georep_status_history_session ON georep_status_history (session_id, observed_at);

-- The outcome of every command, for callers that poll instead of listening.
CREATE TABLE georep_commands (
    command_id    UUID PRIMARY KEY,
    action        VARCHAR(32) NOT NULL,
    session_id    UUID,
    session_ref   TEXT,
    outcome       VARCHAR(16) NOT NULL,
    message       TEXT NOT NULL,
    error_code    VARCHAR(64),
    finished_at   TIMESTAMPTZ NOT NULL,
    recorded_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX idx_georep_commands_session ON georep_commands (session_id);
