"""Doubles that ship with ml-connector, for its own tests and for code built on it.

- :class:`MemoryStore`: every store verb over dicts, with the same contract as the SQL store
  (see :mod:`ml_connector.store.memory`).
- :class:`FakeClock`: virtual time for anything that takes a clock and a sleep.

Everything here does real work (no recorded answers): a sync against a MemoryStore posts,
holds and releases as it would on PostgreSQL, only without I/O, so unit tests can run the engine
in milliseconds.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from ml_connector.store.memory import MemoryStore

__all__ = ["FakeClock", "MemoryStore"]

_EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


class FakeClock:
    """Virtual time: a monotonic clock in seconds and the matching UTC wall clock.

    Call it for the monotonic reading (pacers, token expiry, rate windows take ``clock=clock``);
    :meth:`utcnow` gives the wall-clock time at that reading (the store takes
    ``clock=clock.utcnow``). :meth:`sleep` advances the clock instead of waiting and records
    every wait in :attr:`sleeps`; concurrent sleepers each move it to at least their own wake-up
    time, so time only moves forward and nobody wakes early::

        clock = FakeClock()
        pacer = Pacer(60, clock=clock, sleep=clock.sleep)
        clock.advance(30)
    """

    def __init__(self, start: float = 1000.0, *, epoch: datetime = _EPOCH) -> None:
        if epoch.tzinfo is None:
            raise ValueError("epoch must be timezone-aware")
        self.now = start
        self.epoch = epoch
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        """Move time forward by ``seconds``."""
        if seconds < 0:
            raise ValueError("time only moves forward")
        self.now += seconds

    async def sleep(self, seconds: float) -> None:
        """Advance instead of waiting, after yielding once to the event loop."""
        self.sleeps.append(seconds)
        wake = self.now + seconds
        await asyncio.sleep(0)
        self.now = max(self.now, wake)

    def utcnow(self) -> datetime:
        """The aware UTC datetime ``now`` seconds after :attr:`epoch`."""
        return self.epoch + timedelta(seconds=self.now)
