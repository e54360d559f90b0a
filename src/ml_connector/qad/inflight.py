"""How many requests one QAD tenant has in flight from us: a bound per tenant, not per caller.

A tenant's QAD answers every connection, pass and worker that posts to it, and a flood of
parallel posts from a dozen workers is how an integration gets its login throttled by the
tenant's administrators. The tenant profile's ``[limits] in_flight`` (default 8) is the most
requests ml-connector has out to that tenant at once, whatever the number of workers.

`InFlight` is the seam the QAD transports hold a slot of around every attempt:

- `LocalInFlight` (here): a count of free slots and a queue (`wire.Slots`) shared by the
  channels of one pass; on SQLite one process syncs, so that is the whole bound;
- `ml_connector.jobs.slots.SharedInFlight`: slots 1..N in PostgreSQL that every worker takes
  from, each under a lease so a killed worker's slot frees itself.

Tenants are named by `tenant_fingerprint` of their base URL, so the REST and QXtend channels
of one tenant, and every connection to it, share one bound.
"""

from __future__ import annotations

import hashlib
from contextlib import AbstractAsyncContextManager
from types import TracebackType
from typing import Protocol

from ml_connector.wire import Slots

__all__ = ["DEFAULT_IN_FLIGHT", "InFlight", "LocalInFlight", "tenant_fingerprint"]

DEFAULT_IN_FLIGHT = 8


class InFlight(Protocol):
    """At most `size` requests out to one tenant; ``async with in_flight.slot(): ...``."""

    size: int

    def slot(self) -> AbstractAsyncContextManager[object]:
        """Wait for a free slot, hold it for the block."""
        ...

    async def aclose(self) -> None:
        """Give back whatever is still held (the tenant's channels are closing)."""
        ...


class LocalInFlight:
    """The bound within one process (one event loop): `size` slots, first come, first served.

    It is its own `slot()`: a free slot is taken without awaiting anything (`wire.Slots`), where
    an ``asyncio.Semaphore`` cost a coroutine and a generator per request on top; a request that
    waits and is cancelled takes no slot and loses none.
    """

    def __init__(self, size: int = DEFAULT_IN_FLIGHT) -> None:
        if size < 1:
            raise ValueError("a QAD tenant needs at least 1 request in flight")
        self.size = size
        self._slots = Slots(size)

    def __repr__(self) -> str:
        return f"LocalInFlight(size={self.size})"

    def slot(self) -> AbstractAsyncContextManager[object]:
        return self

    async def __aenter__(self) -> None:
        if not self._slots.take_free():
            await self._slots.wait(None)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._slots.release()

    async def aclose(self) -> None:
        """Nothing outlives the process's slots."""


def tenant_fingerprint(base_url: str) -> str:
    """A stable name for a QAD tenant (its base URL, case and trailing slash aside)."""
    name = base_url.strip().rstrip("/").lower()
    return hashlib.sha256(f"ml-connector/qad-tenant/{name}".encode()).hexdigest()[:32]
