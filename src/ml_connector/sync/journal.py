"""One record's store writes during a pass, gathered until they must be durable.

Posting a purchase used to cost a transaction per audit event and one per posting change: an
intent before each QAD call, an outcome after it, a status at the end, each with its own
hash-chain append. What must be durable at a given moment is less than that. The rule:

- an **intent** (the posting row and its trail event) is committed before its QAD call, always,
  and with it everything gathered so far;
- an **outcome** (the posting recorded posted, its `posted` or `adopted` event), a `planned`
  event, a status's event wait in the journal for the record's next commit: the next intent, a
  refusal, or the record's status at the end of its turn. A crash before that commit leaves the
  intent open, which the next pass resolves by looking the natural key up in QAD (the engine's
  step 1), exactly as a crash between the QAD call and an immediate outcome would;
- outcomes of shared documents (suppliers, items) are committed at once by the engine, under
  the lock other records wait on, so that none of them creates the same document again.

Each commit is one transaction whose events go to the chain in one `append_many` (one head read,
one insert, one head update), in the order they happened, so the trail and its chain read the
same as before. The journal also keeps the record's trail, which the engine asks about more than
once in a turn: read once, or known whole for a record first staged this pass.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

from ml_connector.store.models import Record, TrailEntry
from ml_connector.store.protocols import SyncStateStore
from ml_connector.vocab import AuditEventKind

__all__ = ["Journal"]

Write = Callable[[], Awaitable[object]]


@dataclass(frozen=True)
class _Outcome:
    natural_key: str
    qad_id: str
    details: dict[str, Any]
    kind: str


class Journal:
    """The pending writes of one record in one turn, and its trail.

    ``trail`` is the record's trail as ``(event, data)`` pairs when the caller knows it whole
    (a record staged this pass), else it is read on first use.
    """

    def __init__(
        self,
        store: SyncStateStore,
        connection_id: int,
        record: Record,
        actor: str,
        *,
        trail: Iterable[tuple[AuditEventKind, Any]] | None = None,
    ) -> None:
        self.store = store
        self.cid = connection_id
        self.record = record
        self.actor = actor
        self._trail = list(trail) if trail is not None else None
        self._events: list[tuple[AuditEventKind, Any]] = []
        self._outcomes: list[_Outcome] = []

    @property
    def pending(self) -> bool:
        return bool(self._events or self._outcomes)

    def note(self, event: AuditEventKind, data: Any) -> None:
        """An audit event, written with the record's next commit."""
        self._events.append((event, data))
        if self._trail is not None:
            self._trail.append((event, data))

    def note_posted(
        self, natural_key: str, qad_id: str, details: dict[str, Any], kind: str
    ) -> None:
        """QAD holds `natural_key` as `qad_id`: recorded posted with the next commit."""
        self._outcomes.append(_Outcome(natural_key, qad_id, details, kind))

    async def commit(self, *writes: Write) -> None:
        """One transaction: the gathered outcomes, then `writes`, then the gathered events."""
        async with self.store.transaction():
            await self._record_outcomes()
            for write in writes:
                await write()
            if self._events:
                await self.store.append_many(self.cid, self._entries())
        self._clear()

    async def commit_with(self, write: Callable[[list[TrailEntry]], Awaitable[object]]) -> None:
        """One transaction: the gathered outcomes, then `write`, handed the gathered events to
        append itself (a status change appends its own event and these in one chain append)."""
        entries = self._entries()
        async with self.store.transaction():
            await self._record_outcomes()
            await write(entries)
        self._clear()

    def _entries(self) -> list[TrailEntry]:
        return [
            TrailEntry(self.record.key, event, self.actor, data) for event, data in self._events
        ]

    async def _record_outcomes(self) -> None:
        for done in self._outcomes:
            await self.store.record_posted(
                self.cid,
                done.natural_key,
                done.qad_id,
                done.details,
                kind=done.kind,
                record_id=self.record.id,
            )

    def _clear(self) -> None:
        self._outcomes.clear()
        self._events.clear()

    async def trail(self) -> list[tuple[AuditEventKind, Any]]:
        """The record's trail so far, gathered events included."""
        if self._trail is None:
            stored = await self.store.trail(self.cid, self.record.key)
            self._trail = [(e.event, e.data) for e in stored] + list(self._events)
        return self._trail
