"""QAD's in-flight bound per tenant, shared by every worker process through PostgreSQL.

The tenant profile's ``[limits] in_flight`` (N, default 8) is the most requests all workers
together have out to one QAD tenant (`ml_connector.qad.inflight`). On PostgreSQL the tenant has
N rows in ``qad_slots``; a request takes a free one with one statement::

    UPDATE qad_slots SET holder = :me, expires_at = now + lease
     WHERE (tenant_hash, slot) = (SELECT … WHERE free ORDER BY slot LIMIT 1 FOR UPDATE SKIP LOCKED)
    RETURNING slot

and frees it when the answer is in. ``SKIP LOCKED`` lets concurrent takers pass each other
instead of queueing on one row. A slot is free when it has no holder or its lease ran out: the
lease is the request's longest life (the channel's timeout) plus a minute, so a killed worker's
slot returns by itself and a live request never loses its own. When all N are taken the caller
polls, a few milliseconds at first and at most a quarter of a second apart.

Each instance also holds a local semaphore of N in front of the table, so one process never
polls for a slot it could not use, and the database sees only the requests that may go out.
Instants are the database server's clock (epoch seconds), one clock for every machine.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from ml_connector.qad.inflight import DEFAULT_IN_FLIGHT, tenant_fingerprint

__all__ = ["SharedInFlight"]

Sleep = Callable[[float], Awaitable[None]]

_FIRST_POLL = 0.005
_MAX_POLL = 0.25

_CREATE = text(
    "INSERT INTO qad_slots (tenant_hash, slot) "
    "SELECT :tenant, n FROM generate_series(1, :size) AS n "
    "ON CONFLICT (tenant_hash, slot) DO NOTHING"
)
_TAKE = text(
    "UPDATE qad_slots SET holder = :holder, "
    "expires_at = extract(epoch FROM clock_timestamp()) + :lease "
    "WHERE (tenant_hash, slot) = ("
    " SELECT tenant_hash, slot FROM qad_slots"
    " WHERE tenant_hash = :tenant AND slot <= :size"
    " AND (holder IS NULL OR expires_at < extract(epoch FROM clock_timestamp()))"
    " ORDER BY slot LIMIT 1 FOR UPDATE SKIP LOCKED) "
    "RETURNING slot"
)
_FREE = text(
    "UPDATE qad_slots SET holder = NULL, expires_at = NULL "
    "WHERE tenant_hash = :tenant AND slot = :slot AND holder = :holder"
)


class SharedInFlight:
    """At most `size` requests out to the tenant at `base_url` from every worker together.

    >>> in_flight = SharedInFlight(engine, "https://acme.qad.com/clouderp", size=8, lease=90)
    >>> async with in_flight.slot():
    ...     ...  # one request to the tenant
    """

    def __init__(
        self,
        engine: AsyncEngine,
        base_url: str,
        size: int = DEFAULT_IN_FLIGHT,
        *,
        lease: float = 90.0,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if size < 1:
            raise ValueError("a QAD tenant needs at least 1 request in flight")
        if engine.dialect.name != "postgresql":
            raise ValueError("the shared in-flight bound needs PostgreSQL")
        self.size = size
        self.lease = lease
        self._engine = engine
        self._tenant = tenant_fingerprint(base_url)
        self._sleep = sleep
        self._local = asyncio.Semaphore(size)
        self._created = False
        self.waited = 0.0  # seconds spent polling for a slot another worker held

    def __repr__(self) -> str:
        return f"SharedInFlight(tenant={self._tenant[:16]}, size={self.size})"

    def slot(self) -> AbstractAsyncContextManager[object]:
        return self._held()

    @asynccontextmanager
    async def _held(self) -> AsyncIterator[int]:
        async with self._local:
            holder = uuid.uuid4().hex
            number = await self._take(holder)
            try:
                yield number
            finally:
                await self._free(number, holder)

    async def _take(self, holder: str) -> int:
        params = {"tenant": self._tenant, "size": self.size, "holder": holder, "lease": self.lease}
        poll = _FIRST_POLL
        while True:
            async with self._engine.begin() as conn:
                if not self._created:
                    await conn.execute(_CREATE, params)
                number = await conn.scalar(_TAKE, params)
            self._created = True
            if number is not None:
                return int(number)
            self.waited += poll
            await self._sleep(poll)
            poll = min(_MAX_POLL, poll * 2)

    async def _free(self, number: int, holder: str) -> None:
        # Shielded: a cancelled request must still give its slot back, or it would sit out
        # its lease.
        await asyncio.shield(self._free_now(number, holder))

    async def _free_now(self, number: int, holder: str) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(_FREE, {"tenant": self._tenant, "slot": number, "holder": holder})
