-- The two PostgreSQL roles (run once as a superuser; idempotent):
--   shopadmin_owner  owns the schema and runs migrations (CREATEDB for the test database)
--   shopadmin_app    what the web app and workers connect as: owns nothing, no BYPASSRLS,
--                    so row-level security applies to every query it makes.
-- Set passwords in production: ALTER ROLE ... PASSWORD '...'.
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'shopadmin_owner') THEN
    CREATE ROLE shopadmin_owner LOGIN CREATEDB;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'shopadmin_app') THEN
    CREATE ROLE shopadmin_app LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS;
  END IF;
END
$$;
SELECT 'CREATE DATABASE shopadmin OWNER shopadmin_owner'
WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = 'shopadmin')\gexec
