-- Module services: each module's own schema and role (infrastructure/handler_services/
-- module_database.py). A module's role may use its schema `mod_<name>` and nothing else.

-- The module roles' passwords: readable by Almanac's role only (no grant to PUBLIC, and module
-- roles are never granted anything in schema public).
CREATE TABLE IF NOT EXISTS module_credentials (
    module_name text PRIMARY KEY,
    schema_name text NOT NULL UNIQUE,
    role_name text NOT NULL UNIQUE,
    password text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
REVOKE ALL ON module_credentials FROM PUBLIC;

-- Almanac's own tables (event store, read models, execution logs) are for Almanac's role:
-- nothing for PUBLIC, and no new objects in schema public from other roles (the default
-- before Postgres 15). Later tables grant nothing to PUBLIC unless a migration says so.
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
REVOKE ALL ON ALL TABLES IN SCHEMA public FROM PUBLIC;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM PUBLIC;
