"""The Cin7 pacer shared by every worker process through PostgreSQL.

Cin7 counts calls per application key, not per process: two workers syncing two connections on
one key, each with its own in-process pacer, would spend the key's 60 calls per rolling minute
twice over. `SharedPacer` keeps the rules of `ml_connector.cin7.pacer` (a rolling window, a
per-second cap, a safety margin, a pause that holds every caller) with the state in the
database, so every process on every machine that shares it counts against one budget:

- ``pacer_keys`` holds one row per key, by `key_fingerprint` (never the key itself): when the
  key is paused until and when its last call started;
- ``pacer_calls`` holds the calls in the key's window, one row each;
- ``mlc_pacer_acquire`` (created by migration 0004) admits a call in one statement: it locks
  the key's row (``SELECT … FOR UPDATE``, so admissions on a key are serial across workers),
  prunes the calls that left the window, and records the call or answers how long to wait.
  The caller sleeps outside any transaction and asks again.

Every instant is the database server's ``clock_timestamp()``, one clock for all machines, so no
worker's clock skew can widen the budget.

The safety margin (0.5 s at 60 per minute, as the local pacer) is what keeps the server's count
at or under the limit. Cin7 counts a call when it arrives, some instant between our admission
and the answer. A call's row starts at its admission and `release` moves it to the instant the
answer came back, so a finished call is counted no earlier than Cin7 counted it. A new call is
admitted only once the call it displaces is `window + margin` old; the margin covers what is
still uncounted at that moment: the time from the row's commit to the request leaving the
worker (scheduling, connection set-up) for a call whose answer has not come back yet. Any such
call has been in flight for the whole window (60 s, twice the client's 30 s timeout), so in
practice the limit holds with 58-60 calls in any rolling minute.

A rate-limit answer seen by any worker (`pause_for`) moves the key's ``paused_until``, which
every admission reads: all workers on the key wait out Cin7's ``Retry-After`` together.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from pydantic import SecretStr
from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from ml_connector.cin7.pacer import Slot, default_per_second, key_fingerprint
from ml_connector.store.tables import pacer_calls

__all__ = ["SharedPacer"]

Sleep = Callable[[float], Awaitable[None]]

_ACQUIRE = text(
    "SELECT slot_id, slot_at, wait FROM mlc_pacer_acquire(:key, :limit, :window, :margin, :spacing)"
)
_PAUSE = text(
    "INSERT INTO pacer_keys AS k (key_hash, paused_until) "
    "VALUES (:key, extract(epoch FROM clock_timestamp()) + :seconds) "
    "ON CONFLICT (key_hash) DO UPDATE SET paused_until = "
    "greatest(coalesce(k.paused_until, 0), EXCLUDED.paused_until)"
)
_NOW = func.extract("epoch", func.clock_timestamp())


class SharedPacer:
    """One application key's budget, shared by every process on the PostgreSQL database.

    >>> pacer = SharedPacer(engine, application_key, limit=60)
    >>> slot = await pacer.acquire()          # waits while any worker spent the budget
    >>> await pacer.release(slot)             # the call counts from its answer

    `waited` adds up the seconds this instance's callers were told to wait (benches, logs).
    """

    def __init__(
        self,
        engine: AsyncEngine,
        application_key: str | SecretStr,
        limit: int = 60,
        window: float = 60.0,
        *,
        margin: float | None = None,
        per_second: float | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if limit < 1 or window <= 0:
            raise ValueError("a pacer needs limit >= 1 and window > 0")
        if engine.dialect.name != "postgresql":
            raise ValueError("the shared pacer needs PostgreSQL")
        self._engine = engine
        self._key = key_fingerprint(application_key)
        self._sleep = sleep
        self.limit = limit
        self.window = window
        self.margin = margin if margin is not None else min(0.5, window / 120)
        self.per_second = (
            per_second if per_second is not None else default_per_second(limit, window)
        )
        self.waited = 0.0

    def __repr__(self) -> str:
        return f"SharedPacer(key={self._key}, limit={self.limit}, window={self.window})"

    async def acquire(self) -> Slot:
        params = {
            "key": self._key,
            "limit": self.limit,
            "window": self.window,
            "margin": self.margin,
            "spacing": 1.0 / self.per_second,
        }
        while True:
            async with self._connect() as conn:
                row = (await conn.execute(_ACQUIRE, params)).one()
            if row.slot_id is not None:
                return Slot(float(row.slot_at), int(row.slot_id))
            wait = float(row.wait)
            self.waited += wait
            await self._sleep(wait)

    async def release(self, slot: Slot) -> None:
        if slot.id is None:
            return
        async with self._connect() as conn:
            await conn.execute(
                update(pacer_calls)
                .where(pacer_calls.c.id == slot.id)
                .values(at=func.greatest(pacer_calls.c.at, _NOW))
            )

    async def pause_for(self, seconds: float) -> None:
        async with self._connect() as conn:
            await conn.execute(_PAUSE, {"key": self._key, "seconds": max(0.0, seconds)})

    async def in_window(self) -> int:
        async with self._connect() as conn:
            count = await conn.scalar(
                select(func.count())
                .select_from(pacer_calls)
                .where(
                    pacer_calls.c.key_hash == self._key,
                    pacer_calls.c.at > _NOW - self.window - self.margin,
                )
            )
        return int(count or 0)

    @asynccontextmanager
    async def _connect(self) -> AsyncIterator[AsyncConnection]:
        # One statement each (the admission is one function call): autocommit spares the
        # BEGIN and COMMIT round trips.
        async with self._engine.connect() as conn:
            yield await conn.execution_options(isolation_level="AUTOCOMMIT")
