"""The audit trail in memory: the same hash chain as on SQL, one head per connection."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

from ml_connector.errors import ConfigError, StoreError
from ml_connector.store.audit import ChainChecker, event_hash
from ml_connector.store.memory.base import MemoryBase
from ml_connector.store.models import (
    AuditEvent,
    BrokenLink,
)
from ml_connector.store.protocols import PAGE
from ml_connector.store.redact import redact
from ml_connector.store.rows import (
    audit_from_row,
)
from ml_connector.store.rules import (
    check,
    json_roundtrip,
)
from ml_connector.vocab import (
    AUDIT_EVENT_KINDS,
    AuditEventKind,
)

__all__ = ["MemoryTrail"]


class MemoryTrail(MemoryBase):
    """:class:`~ml_connector.store.protocols.TrailWrites` and ``TrailReads`` in memory."""

    async def append(
        self,
        connection_id: int,
        record_key: str,
        event: AuditEventKind,
        actor: str,
        data: Any = None,
        *,
        at: datetime | None = None,
    ) -> AuditEvent:
        if not record_key or not event or not actor:
            raise StoreError("an audit event needs a record key, an event name and an actor")
        check(event, AUDIT_EVENT_KINDS, "audit event")
        if at is not None and at.tzinfo is None:
            raise StoreError("audit times must be timezone-aware (UTC)")
        when = (at or self._clock()).astimezone(UTC)
        async with self._write("append"):
            head = self._tables["audit_heads"].get(connection_id)
            if head is None:
                raise ConfigError(f"no connection with id {connection_id}")
            clean = json_roundtrip(
                redact({} if data is None else data, secrets=self._known_secrets(connection_id))
            )
            seq = 1 + max(
                (
                    row["seq"]
                    for row in self._rows(
                        "audit_events", connection_id=connection_id, record_key=record_key
                    )
                ),
                default=0,
            )
            digest = event_hash(
                prev_hash=head["last_hash"],
                connection_id=connection_id,
                record_key=record_key,
                seq=seq,
                at=when,
                event=event,
                actor=actor,
                data=clean,
            )
            row = self._insert(
                "audit_events",
                {
                    "connection_id": connection_id,
                    "record_key": record_key,
                    "seq": seq,
                    "at": when,
                    "event": event,
                    "actor": actor,
                    "data": clean,
                    "prev_hash": head["last_hash"],
                    "hash": digest,
                },
            )
            self._put(
                "audit_heads", connection_id, {"last_hash": digest, "count": head["count"] + 1}
            )
        return audit_from_row(copy.deepcopy(row))

    async def trail(self, connection_id: int, record_key: str) -> list[AuditEvent]:
        self._read("trail")
        rows = self._rows("audit_events", connection_id=connection_id, record_key=record_key)
        return [
            audit_from_row(copy.deepcopy(row)) for row in sorted(rows, key=lambda row: row["seq"])
        ]

    async def events(
        self, connection_id: int, *, after_id: int = 0, limit: int = PAGE
    ) -> list[AuditEvent]:
        self._read("events")
        rows = sorted(
            (
                row
                for row in self._rows("audit_events", connection_id=connection_id)
                if row["id"] > after_id
            ),
            key=lambda row: row["id"],
        )
        return [audit_from_row(copy.deepcopy(row)) for row in rows[:limit]]

    async def verify(self, connection_id: int) -> list[BrokenLink]:
        checker = ChainChecker(connection_id)
        checker.check(await self.events(connection_id, limit=len(self._tables["audit_events"])))
        head = self._tables["audit_heads"].get(connection_id)
        if head is None:
            return checker.finish(None, None)
        return checker.finish(head["last_hash"], int(head["count"]))
