-- Clusters, gluster hosts, volumes and bricks, as the persister learns them from snapshots,
-- so that readers can resolve master_volume_id and master_brick_id (oVirt's gluster_volumes and
-- gluster_volume_bricks). Brick ids are stable: a UUIDv5 of the volume id and host:path.

CREATE TABLE gluster_clusters (
    cluster_id    VARCHAR(64) PRIMARY KEY,
    _create_date  TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE gluster_server (
    server_uuid   UUID PRIMARY KEY,
    cluster_id    VARCHAR(64) NOT NULL REFERENCES gluster_clusters (cluster_id) ON DELETE CASCADE,
    host_name     VARCHAR(255) NOT NULL,
    _update_date  TIMESTAMPTZ
);
CREATE INDEX idx_gluster_server_cluster ON gluster_server (cluster_id);

CREATE TABLE gluster_volumes (
    id            UUID PRIMARY KEY,
    cluster_id    VARCHAR(64) NOT NULL REFERENCES gluster_clusters (cluster_id) ON DELETE CASCADE,
    vol_name      VARCHAR(64) NOT NULL,
    _update_date  TIMESTAMPTZ,
    UNIQUE (cluster_id, vol_name)
);

CREATE TABLE gluster_volume_bricks (
    id            UUID PRIMARY KEY,
    volume_id     UUID NOT NULL REFERENCES gluster_volumes (id) ON DELETE CASCADE,
    server_uuid   UUID,
    host_name     VARCHAR(255) NOT NULL,
    brick_dir     TEXT NOT NULL,
    _update_date  TIMESTAMPTZ,
    UNIQUE (volume_id, host_name, brick_dir)
);
CREATE INDEX idx_gluster_volume_bricks_volume ON gluster_volume_bricks (volume_id);

CREATE INDEX idx_gluster_georep_session_details_brick ON gluster_georep_session_details (master_brick_id);
CREATE INDEX idx_georep_status_history_brick ON georep_status_history (master_brick_id, observed_at) WHERE master_brick_id IS NOT NULL;

-- Sessions point at their primary volume; backfill what earlier snapshots stored first.
INSERT INTO gluster_clusters (cluster_id) SELECT DISTINCT cluster_id FROM gluster_georep_session ON CONFLICT DO NOTHING;
INSERT INTO gluster_volumes (id, cluster_id, vol_name, _update_date)
    SELECT DISTINCT ON (master_volume_id) master_volume_id, cluster_id, master_volume_name, now()
    FROM gluster_georep_session WHERE master_volume_id IS NOT NULL
    ON CONFLICT DO NOTHING;
ALTER TABLE gluster_georep_session
    ADD CONSTRAINT fk_gluster_georep_session_master_volume
    FOREIGN KEY (master_volume_id) REFERENCES gluster_volumes (id) ON DELETE SET NULL;
