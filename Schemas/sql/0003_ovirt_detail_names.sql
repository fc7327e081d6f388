-- The per-brick counters under the names oVirt's own schema gave them when it replaced the
-- files_* counters (upgrade 03_06_1410, "Georep status detail changes"): data_pending,
-- meta_pending, entry_pending. Readers written against oVirt's later tables find them there;
-- the original design's files_* columns stay as they were.
ALTER TABLE gluster_georep_session_details RENAME COLUMN data_op_pending TO data_pending;
ALTER TABLE gluster_georep_session_details RENAME COLUMN meta_op_pending TO meta_pending;
ALTER TABLE gluster_georep_session_details RENAME COLUMN entry_op_pending TO entry_pending;
