-- A digest of the bricks a session's detail rows are for (the set its newest winning snapshot
-- listed), written in the statement that removes the rows of bricks no longer listed, so that a
-- snapshot listing the bricks already stored removes nothing and scans nothing: the removal's
-- scan of the detail rows was a quarter of PostgreSQL's time in a status storm (georep-bench
-- persister, 2026-12-02), while a session's bricks seldom change. NULL: not known, the next
-- snapshot that wins looks.
ALTER TABLE gluster_georep_session ADD COLUMN IF NOT EXISTS bricks_digest TEXT;
