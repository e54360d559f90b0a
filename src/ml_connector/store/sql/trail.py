"""The audit trail on SQL: append-only, HMAC-chained per connection (see :mod:`..audit`).

Appends go through :class:`~.chain.SqlChain`, which locks the connection's chain head, so
concurrent appends form one chain; :meth:`SqlTrail.append_many` appends a batch (one record's
events of a pass, say) under one lock and one statement. There is no verb that changes or
deletes an event; :meth:`SqlTrail.verify` finds what was done behind the store's back.

:meth:`SqlTrail.verify_recent` is the same check for the audit alert, which runs after every
pass: once a walk found the chain intact, the store keeps it (in memory, never in the database
its writers could edit) and later calls walk only the events appended since, plus the records'
statuses. An edit of an event older than that walk is found by ``audit verify`` (always the
whole chain) and by the alert's next whole walk, at most :data:`FULL_WALK_EVERY_S` later.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from ml_connector.store import tables as t
from ml_connector.store.audit import GENESIS, ChainHead
from ml_connector.store.audit_check import ChainChecker
from ml_connector.store.audit_keys import checker, open_keys
from ml_connector.store.models import AuditEvent, BrokenLink, TrailEntry
from ml_connector.store.protocols import PAGE
from ml_connector.store.rows import audit_from_row, record_from_row
from ml_connector.store.sql.base import _Ambient, fetch_all, fetch_one, translate
from ml_connector.store.sql.chain import SqlChain
from ml_connector.vocab import AuditEventKind

__all__ = ["FULL_WALK_EVERY_S", "SqlTrail"]

FULL_WALK_EVERY_S = 24 * 3600.0
"""How long :meth:`SqlTrail.verify_recent` goes on from a whole walk before walking it all again."""


class SqlTrail(SqlChain):
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
        """Append one event to a record's trail, linked to the connection's previous event.

        ``data`` is redacted first (secret-looking keys, and the connection's own credentials
        wherever they appear). There is no way to change or delete an event through the store.
        """
        [appended] = await self.append_many(
            connection_id, [TrailEntry(record_key, event, actor, data, at)]
        )
        return appended

    async def append_many(
        self, connection_id: int, entries: Sequence[TrailEntry]
    ) -> list[AuditEvent]:
        """Append several events in order, under one lock of the chain head, all or none."""
        secrets = await self._known_secrets(connection_id)
        async with self._session() as c:
            return await self._chain_append(c, connection_id, entries, secrets)

    async def trail(self, connection_id: int, record_key: str) -> list[AuditEvent]:
        """A record's events in order."""
        a = t.audit_events.c
        async with self._session(write=False, single=True) as c:
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

    async def verify_record(self, connection_id: int, record_key: str) -> list[BrokenLink]:
        """Check one record's trail: each event's link and its sequence (for the console)."""
        stored = await self._stored_keys()
        walk = checker(self._vault, stored, connection_id, whole_chain=False)
        walk.check(await self.trail(connection_id, record_key))
        return walk.problems

    async def head(self, connection_id: int) -> ChainHead:
        """The stored head of the connection's chain (``0:000…`` before the first event)."""
        h = t.audit_heads.c
        async with self._session(write=False) as c:
            row = await fetch_one(
                c, select(h.last_hash, h.count).where(h.connection_id == connection_id)
            )
        if row is None:
            return ChainHead(0, GENESIS)
        return ChainHead(int(row["count"]), row["last_hash"])

    async def verify(
        self, connection_id: int, *, expect: ChainHead | None = None
    ) -> list[BrokenLink]:
        """Check a connection's whole audit chain; an empty list means it is intact.

        Every kind of break :mod:`~ml_connector.store.audit_check` knows, against the stored
        head, the records' statuses and, when given, ``expect``: a head kept elsewhere.
        """
        stored = await self._stored_keys()
        walk = checker(self._vault, stored, connection_id, expect=expect)
        return await self._walk(connection_id, walk)

    async def verify_recent(self, connection_id: int) -> list[BrokenLink]:
        """:meth:`verify` for a check after every pass (the audit alert), in O(new events).

        The events appended since this store's last walk that found the chain intact are walked
        on from it, and every record's status is checked. The whole chain is walked when there
        is no such walk, when it is :data:`FULL_WALK_EVERY_S` old, and whenever the new events
        show a break: what the whole walk finds is the answer, so this never reports a break
        :meth:`verify` would not.
        """
        saved = self._intact_walks.pop(connection_id, None)
        if saved is not None and time.monotonic() - saved[1] < FULL_WALK_EVERY_S:
            walk, since = saved
            stored = await self._stored_keys()
            walk.resume(open_keys(self._vault, stored), (key.version for key in stored))
            if not await self._walk(connection_id, walk, after=walk.last_id):
                self._intact_walks[connection_id] = (walk, since)
                return []
        stored = await self._stored_keys()
        walk = checker(self._vault, stored, connection_id)
        started = time.monotonic()
        problems = await self._walk(connection_id, walk)
        if not problems:
            self._intact_walks[connection_id] = (walk, started)
        return problems

    @property
    def _intact_walks(self) -> dict[int, tuple[ChainChecker, float]]:
        """Per connection, the last walk that found the chain intact and when it began."""
        walks: dict[int, tuple[ChainChecker, float]] | None = self.__dict__.get("_walks")
        if walks is None:
            walks = self.__dict__["_walks"] = {}
        return walks

    async def _walk(
        self, connection_id: int, walk: ChainChecker, after: int = 0
    ) -> list[BrokenLink]:
        """Feed ``walk`` the events after id ``after``, then finish it against the stored head
        and the records, all read in one snapshot."""
        async with self._snapshot():
            while True:
                page = await self.events(connection_id, after_id=after)
                if not page:
                    break
                walk.check(page)
                after = page[-1].id
            h = t.audit_heads.c
            async with self._session(write=False) as c:
                row = await fetch_one(
                    c, select(h.last_hash, h.count).where(h.connection_id == connection_id)
                )
                records = await fetch_all(
                    c,
                    select(t.records)
                    .where(t.records.c.connection_id == connection_id)
                    .order_by(t.records.c.id),
                )
        head = None if row is None else ChainHead(int(row["count"]), row["last_hash"])
        return walk.finish(head, (record_from_row(r) for r in records))

    @asynccontextmanager
    async def _snapshot(self) -> AsyncIterator[None]:
        """The reads inside see one state of the database: a walk's events, the head and the
        records agree even while other processes append (read separately, an append landing
        between the last page and the head looked like a truncated chain). A read transaction
        on SQLite (WAL: writers are not blocked); REPEATABLE READ on PostgreSQL. Inside a
        transaction of the caller's, that one."""
        if self._current() is not None:
            yield
            return
        try:
            async with self._read_engine.connect() as conn:
                if self._dialect == "postgresql":
                    conn = await conn.execution_options(isolation_level="REPEATABLE READ")
                async with conn.begin():
                    ambient = _Ambient(conn, asyncio.current_task())
                    token = self._ambient.set(ambient)
                    try:
                        yield
                    finally:
                        ambient.active = False
                        self._ambient.reset(token)
        except SQLAlchemyError as exc:
            raise translate(exc) from None
