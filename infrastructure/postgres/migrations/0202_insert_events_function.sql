-- Saving a batch of events in one statement. The library saves with a pipelined transaction
-- of six statements (BEGIN, SET LOCAL, LOCK TABLE, NOTIFY, INSERT, COMMIT); every command of
-- every role pays for it. Called in autocommit, this statement is its own transaction, so the
-- table lock is held until the commit exactly as before: ids become visible in commit order
-- and a reader tailing the log never skips one. `lock_timeout` is the store's own setting
-- (POSTGRES_LOCK_TIMEOUT), passed by the caller.
CREATE OR REPLACE FUNCTION almanac_insert_events(
    ids uuid[], versions bigint[], topics text[], states bytea[], lock_timeout text
) RETURNS SETOF bigint LANGUAGE plpgsql AS $$
BEGIN
    PERFORM set_config('lock_timeout', lock_timeout, true);
    LOCK TABLE almanac_events IN EXCLUSIVE MODE;
    NOTIFY almanac_events;
    RETURN QUERY
        INSERT INTO almanac_events (originator_id, originator_version, topic, state)
        SELECT * FROM unnest(ids, versions, topics, states)
        RETURNING notification_id;
END
$$;
