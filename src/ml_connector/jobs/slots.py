"""QAD's in-flight bound per tenant, shared by every worker process through PostgreSQL.

The tenant profile's ``[limits] in_flight`` (N, default 8) is the most requests all workers
together have out to one QAD tenant (`ml_connector.qad.inflight`). On PostgreSQL the tenant has
N rows in ``qad_slots``; a process takes a free one with one statement::

    UPDATE qad_slots SET holder = :me, expires_at = now + lease
     WHERE (tenant_hash, slot) = (SELECT … WHERE free ORDER BY slot LIMIT 1 FOR UPDATE SKIP LOCKED)
       AND (waiters ahead of me) < (free slots)
    RETURNING slot

``SKIP LOCKED`` lets concurrent takers pass each other instead of queueing on one row. A slot
is free when it has no holder or its lease ran out: the lease is the longest a request may
take (the channel's timeout) plus a minute, so a killed worker's slot returns by itself and a
live request never loses its own. When all N are taken the caller polls, a few milliseconds at
first and at most a quarter of a second apart.

Waiters are served first come, first served. A caller that finds no slot it may take joins the
tenant's queue in ``qad_slot_waiters`` in the same statement (its ``ticket`` says when it came),
and renews its place each time it asks; the k-th waiter in line takes a slot only when more
than k are free, and a newcomer only when more are free than there are waiters. So a worker
that gives a slot back and asks again at once queues behind those already waiting instead of
taking the slot back before their next poll. A waiter leaves the queue when served or
cancelled; a killed waiter's place lapses `_QUEUED` seconds after its last poll. A waiter that
the next freed slot would serve (fewer than N ahead of it) polls at most `_NEXT_POLL` apart, so
a slot handed on does not sit free for a whole backoff; those further back keep to the quarter
second.

A pass sends QAD dozens of requests per purchase, and two round trips to the database for each
would cost more than the request itself. So a slot, once taken, serves this process's next
requests too: a request that ends keeps its slot *idle* in the process, the next request here
takes it without asking the database, and an idle slot goes back to the table after `linger`
seconds unused, or when it has been held `hold` seconds (so other workers get their turn), or
when the channel closes (`aclose`). The bound holds throughout: every request in flight sits
on a slot that the table says this process holds. A local semaphore of N in front keeps one
process from polling for slots it could not use. Instants are the database server's clock
(epoch seconds), one clock for every machine.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from ml_connector.qad.inflight import DEFAULT_IN_FLIGHT, tenant_fingerprint

__all__ = ["SharedInFlight"]

log = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]

_FIRST_POLL = 0.005
_MAX_POLL = 0.25
_NEXT_POLL = 0.05  # the most a waiter next in line sleeps between polls

_CREATE = text(
    "INSERT INTO qad_slots (tenant_hash, slot) "
    "SELECT :tenant, n FROM generate_series(1, :size) AS n "
    "ON CONFLICT (tenant_hash, slot) DO NOTHING"
)
_QUEUED = 5.0  # seconds a waiter keeps its place in the queue after its last poll
_LAST_TICKET = 2**63 - 1  # a newcomer's rank: behind every waiter

# One statement per attempt: take a slot if this caller's turn has come, else join or renew its
# place in the queue. Its two writes to the queue exclude each other (`taken` or not), so no
# row is touched twice; a served waiter also prunes the places that lapsed.
_TAKE = text(
    "WITH clock AS (SELECT extract(epoch FROM clock_timestamp()) AS now), "
    "mine AS ("
    " SELECT ticket FROM qad_slot_waiters WHERE tenant_hash = :tenant AND holder = :holder), "
    "ahead AS ("
    " SELECT count(*) AS n FROM qad_slot_waiters"
    " WHERE tenant_hash = :tenant AND expires_at >= (SELECT now FROM clock)"
    " AND ticket < coalesce((SELECT ticket FROM mine), :last)), "
    "free AS ("
    " SELECT count(*) AS n FROM qad_slots"
    " WHERE tenant_hash = :tenant AND slot <= :size"
    " AND (holder IS NULL OR expires_at < (SELECT now FROM clock))), "
    "taken AS ("
    " UPDATE qad_slots SET holder = :holder, expires_at = (SELECT now FROM clock) + :lease"
    " WHERE (SELECT n FROM ahead) < (SELECT n FROM free) AND (tenant_hash, slot) = ("
    "  SELECT tenant_hash, slot FROM qad_slots"
    "  WHERE tenant_hash = :tenant AND slot <= :size"
    "  AND (holder IS NULL OR expires_at < (SELECT now FROM clock))"
    "  ORDER BY slot LIMIT 1 FOR UPDATE SKIP LOCKED)"
    " RETURNING slot), "
    "served AS ("
    " DELETE FROM qad_slot_waiters WHERE tenant_hash = :tenant"
    " AND (holder = :holder OR expires_at < (SELECT now FROM clock))"
    " AND EXISTS (SELECT 1 FROM taken)), "
    "queued AS ("
    " INSERT INTO qad_slot_waiters (tenant_hash, holder, expires_at)"
    " SELECT :tenant, :holder, now + :queued FROM clock WHERE NOT EXISTS (SELECT 1 FROM taken)"
    " ON CONFLICT (tenant_hash, holder) DO UPDATE SET expires_at = excluded.expires_at) "
    "SELECT (SELECT slot FROM taken) AS slot, (SELECT n FROM ahead) AS ahead"
)
_LEAVE = text("DELETE FROM qad_slot_waiters WHERE tenant_hash = :tenant AND holder = :holder")
_FREE = text(
    "UPDATE qad_slots SET holder = NULL, expires_at = NULL "
    "WHERE tenant_hash = :tenant AND holder = ANY(:holders)"
)


@dataclass(frozen=True)
class _Lease:
    slot: int
    holder: str
    taken_at: float  # this process's monotonic clock


class SharedInFlight:
    """At most `size` requests out to the tenant at `base_url` from every worker together.

    >>> in_flight = SharedInFlight(engine, "https://acme.qad.com/clouderp", size=8, lease=120)
    >>> async with in_flight.slot():
    ...     ...  # one request to the tenant
    >>> await in_flight.aclose()  # gives back the slots kept idle

    `taken` counts slots taken from the database, `waited` the seconds spent polling while
    other workers held all of them (benches, tests).
    """

    def __init__(
        self,
        engine: AsyncEngine,
        base_url: str,
        size: int = DEFAULT_IN_FLIGHT,
        *,
        lease: float = 120.0,
        hold: float = 1.0,
        linger: float = 0.05,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if size < 1:
            raise ValueError("a QAD tenant needs at least 1 request in flight")
        if engine.dialect.name != "postgresql":
            raise ValueError("the shared in-flight bound needs PostgreSQL")
        self.size = size
        self.lease = max(lease, hold + 1.0)
        self.hold = hold
        self.linger = linger
        self._engine = engine
        self._tenant = tenant_fingerprint(base_url)
        self._sleep = sleep
        self._local = asyncio.Semaphore(size)
        self._idle: list[tuple[_Lease, float]] = []  # (lease, idle since)
        self._timer: asyncio.TimerHandle | None = None
        self._freeing: set[asyncio.Task[None]] = set()
        self._created = False
        self.taken = 0
        self.waited = 0.0

    def __repr__(self) -> str:
        return f"SharedInFlight(tenant={self._tenant[:16]}, size={self.size})"

    def slot(self) -> AbstractAsyncContextManager[object]:
        return self._held()

    async def aclose(self) -> None:
        """Give every idle slot back now (the channel is done with the tenant)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        idle, self._idle = self._idle, []
        await self._free_quietly([lease for lease, _ in idle])
        if self._freeing:
            await asyncio.gather(*self._freeing, return_exceptions=True)

    @asynccontextmanager
    async def _held(self) -> AsyncIterator[int]:
        async with self._local:
            lease = self._reuse() or await self._take()
            try:
                yield lease.slot
            finally:
                if time.monotonic() - lease.taken_at < self.hold:
                    self._idle.append((lease, time.monotonic()))
                    self._arm()
                else:
                    # Shielded: a cancelled request must still give its slot back.
                    await asyncio.shield(self._free_quietly([lease]))

    def _reuse(self) -> _Lease | None:
        now = time.monotonic()
        while self._idle:
            lease, _ = self._idle.pop()
            if now - lease.taken_at < self.hold:
                return lease
            self._spawn_free([lease])
        return None

    def _arm(self) -> None:
        if self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(self.linger, self._expire)

    def _expire(self) -> None:
        self._timer = None
        now = time.monotonic()
        keep = [(lease, since) for lease, since in self._idle if now - since < self.linger]
        done = [lease for lease, since in self._idle if now - since >= self.linger]
        self._idle = keep
        if done:
            self._spawn_free(done)
        if keep:
            self._arm()

    def _spawn_free(self, leases: list[_Lease]) -> None:
        task = asyncio.get_running_loop().create_task(self._free_quietly(leases))
        self._freeing.add(task)
        task.add_done_callback(self._freeing.discard)

    async def _take(self) -> _Lease:
        holder = uuid.uuid4().hex
        params = {
            "tenant": self._tenant,
            "size": self.size,
            "holder": holder,
            "lease": self.lease,
            "queued": _QUEUED,
            "last": _LAST_TICKET,
        }
        poll = _FIRST_POLL
        served = False
        try:
            while True:
                async with self._connect() as conn:
                    if not self._created:
                        await conn.execute(_CREATE, params)
                        self._created = True
                    number, ahead = (await conn.execute(_TAKE, params)).one()
                if number is not None:
                    served = True
                    self.taken += 1
                    return _Lease(int(number), holder, time.monotonic())
                self.waited += poll
                await self._sleep(poll)
                # A waiter that the next freed slot would serve asks more often.
                poll = min(_NEXT_POLL if ahead < self.size else _MAX_POLL, poll * 2)
        finally:
            if not served:
                # Shielded: a cancelled waiter must not keep its place ahead of the others.
                await asyncio.shield(self._leave_quietly(holder))

    async def _free_quietly(self, leases: list[_Lease]) -> None:
        """Give slots back; when the database cannot be reached their leases end by themselves,
        so the request that used them is not failed for it."""
        try:
            await self._free(leases)
        except SQLAlchemyError as exc:
            log.warning(
                "could not give %d QAD slot(s) back; their lease frees them: %s",
                len(leases),
                type(exc).__name__,
            )

    async def _free(self, leases: list[_Lease]) -> None:
        if not leases:
            return
        async with self._connect() as conn:
            await conn.execute(
                _FREE, {"tenant": self._tenant, "holders": [lease.holder for lease in leases]}
            )

    async def _leave_quietly(self, holder: str) -> None:
        """Leave the queue; when the database cannot be reached the place lapses by itself."""
        try:
            async with self._connect() as conn:
                await conn.execute(_LEAVE, {"tenant": self._tenant, "holder": holder})
        except SQLAlchemyError as exc:
            log.warning(
                "could not leave the QAD slot queue; the place lapses: %s", type(exc).__name__
            )

    @asynccontextmanager
    async def _connect(self) -> AsyncIterator[Any]:
        # One statement each: autocommit spares the BEGIN and COMMIT round trips.
        async with self._engine.connect() as conn:
            yield await conn.execution_options(isolation_level="AUTOCOMMIT")
