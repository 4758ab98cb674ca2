-- Read-your-writes across nodes and replicas (SPEC §8). Every money move of a
-- user upserts this row in its own transaction, so the row becomes visible on
-- a streaming replica exactly when the move does: a replica whose copy of the
-- row is as new as the primary's has replayed all of that user's moves, and
-- may serve the user's history. The value is the primary's WAL insert
-- position at the time; it only ever grows for a user (moves of one user
-- queue on the wallet lock) and tells an operator how far a replica must get.
create table user_write_lsn (
    user_id bigint not null constraint user_write_lsn_pkey primary key
                   constraint user_write_lsn_user_id_fkey references users (id),
    lsn     pg_lsn not null
);
