"""The library's Postgres recorder, saving through one statement.

Same semantics as the library (lock the table, NOTIFY, insert, the notification ids in insert
order), but as one prepared call of `almanac_insert_events` (migration 0202) in autocommit
instead of a six-statement pipelined transaction. The rows travel as four plain arrays in
binary (`%b`) rather than an array of a composite type, which psycopg encodes about ten times
faster and which spares escaping every state as hex text.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import InterfaceError, OperationalError, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.utils import retry
from psycopg.sql import SQL, Identifier

INSERT_FUNCTION = "almanac_insert_events"


class ColumnarPostgresApplicationRecorder(PostgresApplicationRecorder):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.insert_function_call = SQL(
            "SELECT * FROM {schema}.{function}"
            "(%b::uuid[], %b::bigint[], %b::text[], %b::bytea[], %s::text)"
        ).format(schema=Identifier(self.datastore.schema), function=Identifier(INSERT_FUNCTION))
        self._lock_timeout = f"{self.datastore.lock_timeout}s"  # as the library's SET LOCAL

    # A dropped connection is retried (a duplicate of an insert that did commit fails on the
    # version's unique key, which callers see as a conflict). Three tries, not the library's
    # ten: with a 5 s lock timeout, ten held the writer thread, and every save queued behind
    # it, for about a minute before anyone heard (DESIGN section 7: tighter settings).
    @retry((InterfaceError, OperationalError), max_attempts=3, wait=0.2)
    def insert_events(self, stored_events: Sequence[StoredEvent], **_: Any) -> Sequence[int]:
        if not stored_events:
            return []
        arguments = (
            [event.originator_id for event in stored_events],
            [event.originator_version for event in stored_events],
            [event.topic for event in stored_events],
            [event.state for event in stored_events],
            self._lock_timeout,
        )
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(self.insert_function_call, arguments, prepare=True)
            return [row[INSERT_FUNCTION] for row in curs.fetchall()]
