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
MAX_BATCH = 1000


@dataclass(slots=True)
class _Item:
    """One command's events, saved atomically; `outcome` is its position or its error."""

    events: list[Any]
    keys: set[tuple[UUID, int]]
    outcome: int | BaseException | None = None

    @classmethod
    def of(cls, events: list[Any]) -> _Item:
        return cls(events, {(e.originator_id, e.originator_version) for e in events})


@dataclass(slots=True)
class _Submission:
    """Commands queued together; one future for all of them (a future each costs more than
    inserting their rows when a scheduler tick queues a thousand)."""

    items: list[_Item]
    future: Future[list[int | BaseException]] = field(default_factory=Future)

    def resolve(self) -> None:
        self.future.set_result([_outcome_of(item) for item in self.items])


class GroupCommitWriter:
    """Saves queued commands in batches on its own thread; each learns its position."""

    def __init__(self, app: Application[UUID], max_batch: int = MAX_BATCH) -> None:
        self._app = app
        self._max_batch = max_batch
        self._queue: queue.SimpleQueue[_Submission | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="almanac-writer", daemon=True)
        self._thread.start()

    def submit_many(self, groups: list[list[Any]]) -> Future[list[int | BaseException]]:
        """Each group is saved atomically on its own: its position, or why it was not saved
        (ConcurrencyConflict when another writer was first). Queued together, they share
        commits."""
        submission = _Submission([_Item.of(events) for events in groups])
        self._queue.put(submission)
        return submission.future

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=10)

    def _run(self) -> None:
        closing = False
        while not closing:
            first = self._queue.get()
            if first is None:
                return
            submissions, queued = [first], len(first.items)
            while queued < self._max_batch:
                try:
                    submission = self._queue.get_nowait()
                except queue.Empty:
                    break
                if submission is None:
                    closing = True
                    break
                submissions.append(submission)
                queued += len(submission.items)
            self._save_submissions(submissions)

    def _save_submissions(self, submissions: list[_Submission]) -> None:
        # Claim each submission: one whose caller gave up before we started is not saved at
        # all, and once claimed, a caller giving up can no longer cancel the write under us.
        claimed = [s for s in submissions if s.future.set_running_or_notify_cancel()]
        items = [item for submission in claimed for item in submission.items]
        for start in range(0, len(items), self._max_batch):
            self._commit_safely(items[start : start + self._max_batch])
        for submission in claimed:
            submission.resolve()

    def _commit_safely(self, batch: list[_Item]) -> None:
        """The writer thread must never die: a dead writer would hang every later save."""
        try:
            self._commit(batch)
        except Exception as error:
            log.exception("unexpected error in the event store writer")
            for item in batch:
                _fail(item, error)

    def _commit(self, batch: list[_Item]) -> None:
        batch, later = _without_overlaps(batch)
        try:
            self._save(batch)
        except IntegrityError:
            self._save_isolating_conflicts(batch)
        except Exception as error:  # the database is unreachable or broken: every caller hears
            log.warning("saving %d commands failed: %s", len(batch), error)
            for item in batch:
                _fail(item, error)
        if later:
            self._commit(later)

    def _save(self, batch: Sequence[_Item]) -> None:
        # events.put() rather than save(): the same insert, without save()'s per-object
        # runtime Protocol checks (about 90 us an event); snapshots and caches are not used.
        recordings = self._app.events.put([event for item in batch for event in item.events])
        positions = {
            (r.domain_event.originator_id, r.domain_event.originator_version): r.notification.id
            for r in recordings
        }
        for item in batch:
            if item.outcome is None:
                item.outcome = max(positions[key] for key in item.keys)

    def _save_isolating_conflicts(self, batch: list[_Item]) -> None:
        existing = self._existing_keys(batch)
        clean = [item for item in batch if not item.keys & existing]
        for item in batch:
            if item.keys & existing:
                _fail(item, ConcurrencyConflict("another writer was first"))
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
            _fail(item, ConcurrencyConflict("another writer was first"))
        except Exception as error:
            _fail(item, error)

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


def _outcome_of(item: _Item) -> int | BaseException:
    # A new exception each time: a shared instance would gather every raiser's traceback.
    if item.outcome is None:
        return RuntimeError("the event store writer stopped before saving this command")
    return item.outcome


def _fail(item: _Item, error: BaseException) -> None:
    if item.outcome is None:
        item.outcome = error


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
