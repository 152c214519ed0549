"""Group commit: one writer thread saves whatever commands have queued up in one transaction.

Every save takes the events table's lock, so writers are serialised; batching many commands
into one transaction is what makes throughput. When a batch hits a conflict, the writer finds
which commands conflicted (their events already exist), fails only those, and saves the rest.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.persistence import IntegrityError

from application.errors import ConcurrencyConflict

log = logging.getLogger(__name__)
MAX_BATCH = 500


@dataclass(slots=True)
class _Item:
    events: list[Any]
    future: Future[int] = field(default_factory=Future)

    @property
    def keys(self) -> set[tuple[UUID, int]]:
        return {(e.originator_id, e.originator_version) for e in self.events}


class GroupCommitWriter:
    """Saves queued items in batches on its own thread; each submit learns its position."""

    def __init__(self, app: Application[UUID], max_batch: int = MAX_BATCH) -> None:
        self._app = app
        self._max_batch = max_batch
        self._queue: queue.SimpleQueue[_Item | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="almanac-writer", daemon=True)
        self._thread.start()

    def submit(self, events: list[Any]) -> Future[int]:
        item = _Item(events)
        self._queue.put(item)
        return item.future

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            while len(batch) < self._max_batch:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    self._commit(batch)
                    return
                batch.append(item)
            self._commit(batch)

    def _commit(self, batch: list[_Item]) -> None:
        batch, later = _without_overlaps(batch)
        try:
            self._save(batch)
        except IntegrityError:
            self._save_isolating_conflicts(batch)
        except Exception as error:  # the database is unreachable or broken: every caller hears
            log.warning("saving %d commands failed: %s", len(batch), error)
            for item in batch:
                item.future.set_exception(error)
        if later:
            self._commit(later)

    def _save(self, batch: Sequence[_Item]) -> None:
        recordings = self._app.save(*[event for item in batch for event in item.events])
        positions = {
            (r.domain_event.originator_id, r.domain_event.originator_version): r.notification.id
            for r in recordings
        }
        for item in batch:
            item.future.set_result(max(positions[key] for key in item.keys))

    def _save_isolating_conflicts(self, batch: list[_Item]) -> None:
        existing = self._existing_keys(batch)
        clean = [item for item in batch if not item.keys & existing]
        for item in batch:
            if item.keys & existing:
                item.future.set_exception(ConcurrencyConflict("another writer was first"))
        if len(clean) == len(batch):
            # Nothing visibly conflicts (e.g. a lost race we cannot see yet): save one by one.
            for item in clean:
                self._commit_alone(item)
        elif clean:
            self._commit(clean)

    def _commit_alone(self, item: _Item) -> None:
        try:
            self._save([item])
        except IntegrityError:
            item.future.set_exception(ConcurrencyConflict("another writer was first"))
        except Exception as error:
            item.future.set_exception(error)

    def _existing_keys(self, batch: list[_Item]) -> set[tuple[UUID, int]]:
        """Which (aggregate, version) pairs of this batch are already stored."""
        ids = list({key[0] for item in batch for key in item.keys})
        latest = latest_versions(self._app, ids)
        return {key for item in batch for key in item.keys if key[1] <= latest.get(key[0], 0)}


def latest_versions(app: Application[UUID], ids: list[UUID]) -> dict[UUID, int]:
    """The stored version of each aggregate: one query on Postgres, a loop elsewhere."""
    recorder: Any = app.recorder
    datastore = getattr(recorder, "datastore", None)
    if datastore is None:
        return {
            stored.originator_id: stored.originator_version
            for originator_id in ids
            for stored in recorder.select_events(originator_id, desc=True, limit=1)
        }
    statement = (
        f"SELECT originator_id, max(originator_version) FROM {recorder.events_table_name} "
        "WHERE originator_id = ANY(%s) GROUP BY originator_id"
    )
    with datastore.transaction(commit=False) as cursor:
        cursor.execute(statement, (ids,))
        return {row["originator_id"]: row["max"] for row in cursor.fetchall()}


def _without_overlaps(batch: list[_Item]) -> tuple[list[_Item], list[_Item]]:
    """Two commands on the same aggregate version cannot share a batch: defer the second."""
    seen: set[tuple[UUID, int]] = set()
    now, later = [], []
    for item in batch:
        keys = item.keys
        if keys & seen:
            later.append(item)
        else:
            seen |= keys
            now.append(item)
    return now, later
