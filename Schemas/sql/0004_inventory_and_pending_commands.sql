-- Cluster inventories (georep.cluster.inventory events): when each cluster was last read, and
-- each volume's state; commands accepted by the HTTP API are recorded as pending until their
-- result arrives.
ALTER TABLE gluster_clusters
    ADD COLUMN inventory_seq BIGINT,
    ADD COLUMN inventory_at  TIMESTAMPTZ;
ALTER TABLE gluster_volumes ADD COLUMN status VARCHAR(32);
ALTER TABLE georep_commands
    ALTER COLUMN finished_at DROP NOT NULL,
    ADD COLUMN sender      VARCHAR(128),
    ADD COLUMN accepted_at TIMESTAMPTZ;
CREATE INDEX idx_georep_commands_pending ON georep_commands (accepted_at) WHERE outcome = 'pending';
