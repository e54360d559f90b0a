"""Client-side pacing of Cin7 calls: one rolling budget per application key.

Cin7 allows 60 calls per rolling 60 s per API application (reference §2) and answers a 429
(or, on older stacks, a 503) past it. A `Pacer` keeps every caller on one key inside that
budget by *waiting*, never by failing. `Pacer` is the seam the client is typed against; two
implementations keep the same rules:

- `LocalPacer` (here): every caller in one process, for the embedded default on SQLite, where
  one process syncs;
- `ml_connector.jobs.pacer.SharedPacer`: every worker process on every machine that shares the
  PostgreSQL database, for the scale-out.

The rules:

- a rolling window: at most `limit` calls whose stamps fall in the last `window` seconds;
- a per-second cap: calls are spaced at least `1 / per_second` apart, so a full window is never
  sent as one burst;
- a safety margin: a call's stamp is the later of when it was admitted and when its answer came
  back (`release`), and the window is widened by `margin`. The server counts a call at some
  instant between those two, so no clock skew or latency at the window edge can put `limit + 1`
  calls in the server's window;
- `pause_until(t)`: after a rate-limit answer every caller on the key waits until `t`.

`LocalPacer` holds no asyncio primitive, so one instance can serve several event loops (tests,
CLI commands); a thread lock makes check-and-record atomic. `pacer_for(key)` hands out the one
process-wide pacer of an application key; the registry is keyed by a hash, never the key.
"""

from __future__ import annotations

import asyncio
import hashlib
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from pydantic import SecretStr

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]

_EPSILON = 1e-9


@dataclass
class Slot:
    """One admitted call; `at` is the instant the call counts from (moved later by release).

    `id` names the call where the pacer keeps it outside this process (a row of the shared
    pacer); the local pacer needs none."""

    at: float
    id: int | None = None


class Pacer(Protocol):
    """What the Cin7 client needs from a rate budget (see the module docstring for the rules).

    >>> async def call(pacer: Pacer):
    ...     slot = await pacer.acquire()     # waits while the budget is spent
    ...     try:
    ...         ...                          # send the request
    ...     finally:
    ...         await pacer.release(slot)    # the call counts from its answer
    """

    limit: int
    window: float
    margin: float

    async def acquire(self) -> Slot:
        """Wait until a call fits the budget, record it, and return its slot."""
        ...

    async def release(self, slot: Slot) -> None:
        """Count `slot` from now: its answer has arrived, so the server saw it by now."""
        ...

    async def pause_for(self, seconds: float) -> None:
        """Hold every caller on this key, in every process the pacer spans, for `seconds`."""
        ...

    async def in_window(self) -> int:
        """Calls currently counted in the rolling window."""
        ...


class LocalPacer:
    """A rolling-window budget of `limit` calls per `window` seconds, with a per-second cap,
    for the callers of one process.

    >>> pacer = LocalPacer(limit=60, window=60.0)

    `release` is optional: a slot that is never released counts from its admission, which is
    exact when the server stamps calls on arrival.
    """

    def __init__(
        self,
        limit: int = 60,
        window: float = 60.0,
        per_second: float | None = None,
        *,
        margin: float | None = None,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if limit < 1 or window <= 0:
            raise ValueError("a pacer needs limit >= 1 and window > 0")
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._slots: deque[Slot] = deque()
        self._last_start = float("-inf")
        self._paused_until = float("-inf")
        self.limit = limit
        self.window = window
        self.per_second = (
            per_second if per_second is not None else default_per_second(limit, window)
        )
        # About 1 % of the window: at 60/60 s it costs 0.5 s per window (>99 % of the budget).
        self.margin = margin if margin is not None else min(0.5, window / 120)
        self.waited = 0.0  # total seconds callers were told to wait, for benches and logs

    def __repr__(self) -> str:
        return (
            f"LocalPacer(limit={self.limit}, window={self.window}, per_second={self.per_second:g}, "
            f"in_window={len(self._slots)})"
        )

    def retune(self, limit: int) -> None:
        """Change the budget in place, keeping the calls already in the window."""
        if limit < 1:
            raise ValueError("a pacer needs limit >= 1")
        with self._lock:
            self.limit = limit
            self.per_second = default_per_second(limit, self.window)

    def delay(self) -> float:
        """Seconds until a call would be admitted now (0 when it would go at once)."""
        with self._lock:
            return self._delay(self._clock())

    async def acquire(self) -> Slot:
        """Wait until a call fits the budget, record it, and return its slot."""
        while True:
            with self._lock:
                now = self._clock()
                wait = self._delay(now)
                if wait <= _EPSILON:
                    slot = Slot(now)
                    self._slots.append(slot)
                    self._last_start = now
                    return slot
            self.waited += wait
            await self._sleep(wait)

    async def release(self, slot: Slot) -> None:
        """Count `slot` from now: its answer has arrived, so the server saw it by now."""
        with self._lock:
            slot.at = max(slot.at, self._clock())

    def pause_until(self, instant: float) -> None:
        """Hold every caller of this pacer until `instant` (on the pacer's clock)."""
        with self._lock:
            self._paused_until = max(self._paused_until, instant)

    async def pause_for(self, seconds: float) -> None:
        """`pause_until(now + seconds)`."""
        self.pause_until(self._clock() + max(0.0, seconds))

    async def in_window(self) -> int:
        """Calls currently counted in the rolling window."""
        with self._lock:
            self._prune(self._clock())
            return len(self._slots)

    def _prune(self, now: float) -> None:
        horizon = now - self.window - self.margin
        slots = self._slots
        # Stamps only move later, so stopping at the first live slot may keep an expired one
        # behind it a little longer: conservative, never optimistic.
        while slots and slots[0].at <= horizon:
            slots.popleft()

    def _delay(self, now: float) -> float:
        self._prune(now)
        wait = max(0.0, self._paused_until - now)
        wait = max(wait, self._last_start + 1.0 / self.per_second - now)
        if len(self._slots) >= self.limit:
            wait = max(wait, self._slots[0].at + self.window + self.margin - now)
        return wait


def default_per_second(limit: int, window: float) -> float:
    # Ten times the average rate: 10/s at 60 per minute, so a fresh window drains in ~6 s
    # rather than in one burst, and high test limits are not slowed by the cap.
    return max(10.0, 10.0 * limit / window)


registry: dict[str, LocalPacer] = {}
"""The process-wide pacers, by `key_fingerprint` (never by the key itself). Only `pacer_for`
writes it; it is public so that a test can start from an empty one and see how it is keyed."""
_registry_lock = threading.Lock()


def key_fingerprint(application_key: str | SecretStr) -> str:
    """A stable, non-reversible name for an application key (for registries and logs)."""
    secret = (
        application_key.get_secret_value()
        if isinstance(application_key, SecretStr)
        else application_key
    )
    return hashlib.sha256(secret.encode()).hexdigest()[:16]


def pacer_for(application_key: str | SecretStr, limit: int = 60) -> LocalPacer:
    """The one process-wide pacer of an application key (Cin7 limits per key, not per account).

    A second call with another `limit` retunes the same pacer rather than making a new one, so
    calls already in the window keep counting.
    """
    name = key_fingerprint(application_key)
    with _registry_lock:
        pacer = registry.get(name)
        if pacer is None:
            pacer = registry[name] = LocalPacer(limit=limit)
        elif pacer.limit != limit:
            pacer.retune(limit)
        return pacer
