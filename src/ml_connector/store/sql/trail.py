"""The audit trail on SQL: append-only, hash-chained per connection (see :mod:`..audit`).

Appending locks the connection's chain head (``audit_heads``, ``SELECT ... FOR UPDATE`` on
PostgreSQL, the database write lock on SQLite), so concurrent appends form one chain. There is no
verb that changes or deletes an event; :meth:`SqlTrail.verify` finds what was done behind the
store's back.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, update

from ml_connector.errors import ConfigError, StoreError
from ml_connector.store import tables as t
from ml_connector.store.audit import ChainChecker, event_hash
from ml_connector.store.models import AuditEvent, BrokenLink
from ml_connector.store.protocols import PAGE
from ml_connector.store.redact import redact
from ml_connector.store.rows import audit_from_row
from ml_connector.store.rules import check, json_roundtrip
from ml_connector.store.sql.base import SqlBase, fetch_all, fetch_one
from ml_connector.vocab import AUDIT_EVENT_KINDS, AuditEventKind

__all__ = ["SqlTrail"]


class SqlTrail(SqlBase):
    """:class:`~ml_connector.store.protocols.TrailWrites` and ``TrailReads`` on SQL."""

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
        """Append one event to a record's trail, chained to the connection's previous event.

        ``data`` is redacted first (secret-looking keys, and the connection's own credentials
        wherever they appear). There is no way to change or delete an event through the store.
        """
        if not record_key or not event or not actor:
            raise StoreError("an audit event needs a record key, an event name and an actor")
        check(event, AUDIT_EVENT_KINDS, "audit event")
        clean = redact(
            {} if data is None else data, secrets=await self._known_secrets(connection_id)
        )
        clean = json_roundtrip(clean)
        if at is not None and at.tzinfo is None:
            raise StoreError("audit times must be timezone-aware (UTC)")
        when = (at or self._clock()).astimezone(UTC)
        a = t.audit_events.c
        h = t.audit_heads.c
        async with self._session() as c:
            head = await fetch_one(
                c,
                select(h.last_hash, h.count)
                .where(h.connection_id == connection_id)
                .with_for_update(),
            )
            if head is None:
                raise ConfigError(f"no connection with id {connection_id}")
            last_seq = await c.scalar(
                select(func.max(a.seq)).where(
                    a.connection_id == connection_id, a.record_key == record_key
                )
            )
            seq = int(last_seq or 0) + 1
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
            new_id = await c.scalar(
                t.audit_events.insert()
                .values(
                    connection_id=connection_id,
                    record_key=record_key,
                    seq=seq,
                    at=when,
                    event=event,
                    actor=actor,
                    data=clean,
                    prev_hash=head["last_hash"],
                    hash=digest,
                )
                .returning(a.id)
            )
            await c.execute(
                update(t.audit_heads)
                .where(h.connection_id == connection_id)
                .values(last_hash=digest, count=h.count + 1)
            )
        return AuditEvent(
            id=int(new_id),
            connection_id=connection_id,
            record_key=record_key,
            seq=seq,
            at=when,
            event=event,
            actor=actor,
            data=clean,
            prev_hash=head["last_hash"],
            hash=digest,
        )

    async def trail(self, connection_id: int, record_key: str) -> list[AuditEvent]:
        """A record's events in order."""
        a = t.audit_events.c
        async with self._session(write=False) as c:
            rows = await fetch_all(
                c,
                select(t.audit_events)
                .where(a.connection_id == connection_id, a.record_key == record_key)
                .order_by(a.seq),
            )
        return [audit_from_row(row) for row in rows]

    async def events(
        self, connection_id: int, *, after_id: int = 0, limit: int = PAGE
    ) -> list[AuditEvent]:
        """A connection's events in append order, a page at a time (pass the last id seen)."""
        a = t.audit_events.c
        async with self._session(write=False) as c:
            rows = await fetch_all(
                c,
                select(t.audit_events)
                .where(a.connection_id == connection_id, a.id > after_id)
                .order_by(a.id)
                .limit(limit),
            )
        return [audit_from_row(row) for row in rows]

    async def verify(self, connection_id: int) -> list[BrokenLink]:
        """Check a connection's whole audit chain; an empty list means it is intact.

        Reports events whose content was modified, links broken by a deleted or inserted event,
        gaps in a record's sequence, and a chain that ends before its recorded head.
        """
        checker = ChainChecker(connection_id)
        after = 0
        while True:
            page = await self.events(connection_id, after_id=after)
            if not page:
                break
            checker.check(page)
            after = page[-1].id
        h = t.audit_heads.c
        async with self._session(write=False) as c:
            head = await fetch_one(
                c, select(h.last_hash, h.count).where(h.connection_id == connection_id)
            )
        if head is None:
            return checker.finish(None, None)
        return checker.finish(head["last_hash"], int(head["count"]))
