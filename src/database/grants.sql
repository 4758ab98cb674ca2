-- What dompet's runtime role may do (SPEC §7). Run as the role that owns
-- dompet's tables (the one migrations run as), in dompet's database, after
-- every migration. dompet runs it itself in its embedded default and after
-- migrating through DOMPET_MIGRATE_DATABASE_URL; by hand:
--
--   PGOPTIONS='-c dompet.runtime_role=dompet_app' psql "$OWNER_URL" -f src/database/grants.sql
--
-- The runtime role owns nothing: it reads and writes rows, never truncates,
-- alters or drops, and the ledger's history is narrower still. Running it
-- again is harmless; it resets every table's grant to what is written here.
do $grants$
declare
    app text := nullif(current_setting('dompet.runtime_role', true), '');
    -- Tables the runtime role may not use fully: the ledger's history, and
    -- what makes a movement happen at most once (a statement line deleted
    -- could be applied again). Every other table (and every table a later
    -- migration adds) gets select, insert, update, delete.
    narrower constant jsonb := '{
        "mutations":       "select, insert",
        "deposits":        "select, insert, update",
        "withdrawals":     "select, insert, update",
        "topups":          "select, insert, update",
        "statement_lines": "select, insert"
    }';
    tbl record;
begin
    if app is null then
        raise exception 'set dompet.runtime_role to the runtime role''s name first';
    end if;
    if app = current_user then
        raise exception 'the runtime role % must not be the owner running this script', app;
    end if;
    -- Two dompet processes starting together would race on the catalog.
    perform pg_advisory_xact_lock(hashtext('dompet.grants'));

    -- Only the owner creates tables (PostgreSQL before 15 let everyone).
    revoke create on schema public from public;
    execute format('grant usage on schema public to %I', app);
    -- Tables and sequences that later migrations create get the usual grant
    -- at once, so a new table works before this script runs again.
    execute format('alter default privileges for role %I in schema public '
                   'grant select, insert, update, delete on tables to %I', current_user, app);
    execute format('alter default privileges for role %I in schema public '
                   'grant usage, select, update on sequences to %I', current_user, app);

    for tbl in
        select c.oid::regclass as name, c.relname
        from pg_class c
        where c.relnamespace = 'public'::regnamespace and c.relkind in ('r', 'p', 'v')
    loop
        execute format('revoke all on %s from %I', tbl.name, app);
        -- The migrator's bookkeeping is the owner's alone.
        continue when tbl.relname = '_sqlx_migrations';
        execute format('grant %s on %s to %I',
                       coalesce(narrower ->> tbl.relname, 'select, insert, update, delete'),
                       tbl.name, app);
    end loop;
    -- setval for imported ids; inserts need nothing (identity columns).
    execute format('grant usage, select, update on all sequences in schema public to %I', app);
end
$grants$;
