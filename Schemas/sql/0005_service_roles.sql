-- Least privilege in PostgreSQL: the persister writes, the API reads. The login roles
-- georep_persister and georep_api are made by whoever administers the cluster (ops/stack-up.sh
-- on the local stack) before the migrations run; without them this grants nothing, and running
-- the migrations again after making them (0005 is recorded once, so call
-- georep_grant_service_roles() by hand) grants what is missing.
CREATE OR REPLACE FUNCTION georep_grant_service_roles() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'georep_persister') THEN
        GRANT USAGE ON SCHEMA public TO georep_persister;
        GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO georep_persister;
        GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO georep_persister;
        ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO georep_persister;
        ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO georep_persister;
    END IF;
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'georep_api') THEN
        GRANT USAGE ON SCHEMA public TO georep_api;
        GRANT SELECT ON ALL TABLES IN SCHEMA public TO georep_api;
        ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO georep_api;
    END IF;
END $$;
SELECT georep_grant_service_roles();
