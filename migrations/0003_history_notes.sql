-- The later (v2) history shows each movement's marketplace transaction number
-- and a note. Both are null on every mutation written before this migration:
-- history that was shown to a user never changes, so nothing is backfilled.
-- Adding nullable columns rewrites no row and fires no row trigger, so the
-- append-only trigger on mutations stays untouched.
alter table mutations
    -- The marketplace's transaction number, as the back office sends it.
    add column transaction_no text
        constraint mutations_transaction_no_format
        check (transaction_no ~ '^[!-~]{1,32}$'),
    -- The back office's note, or dompet's own for the movements it makes
    -- (withdrawals, restores, confirmed top-ups). PostgreSQL text cannot hold
    -- NUL at all, so the service refuses it before it gets here.
    add column note text
        constraint mutations_note_length
        check (char_length(note) between 1 and 500);

-- Withdrawals and restores are dompet's own movements: they carry no
-- marketplace transaction, numbered or not.
alter table mutations
    add constraint mutations_transaction_no_posted_only
    check (transaction_no is null or withdrawal_id is null);
