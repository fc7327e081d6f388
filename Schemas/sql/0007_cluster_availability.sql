-- Whether each cluster's management plane (glusterd) answers, as the worker that owns the
-- cluster last saw it (georep.cluster.unavailable / georep.cluster.available). One row per
-- cluster; the newest observation wins.
CREATE TABLE IF NOT EXISTS georep_cluster_availability (
    cluster_id      varchar(64) PRIMARY KEY,
    available       boolean NOT NULL,
    host            varchar(255) NOT NULL,
    since           timestamptz NOT NULL,
    recovered_at    timestamptz,
    cause           text NOT NULL,
    stuck_processes text NOT NULL DEFAULT '[]',
    observed_at     timestamptz NOT NULL,
    recorded_at     timestamptz NOT NULL DEFAULT now()
);
