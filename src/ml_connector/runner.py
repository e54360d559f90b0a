"""The embedded scheduler: every connection synced on its own schedule, in this process.

`ml-connector run` is the one-machine deployment: SQLite (or PostgreSQL), no job server. Each
look asks the scheduler-turn use case about every connection (:mod:`ml_connector.usecases
.scheduling` holds the rules: schedules, pauses, unhealthy connections) and sleeps until the
next one is due.

Each connection's turn runs in a secret scope of its own (:mod:`ml_connector.masking`), which
``on_turn`` is called in: what the turn masks is that connection's secrets only, and a process
that runs for months never gathers every tenant's passwords in one set.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from ml_connector.masking import secret_scope
from ml_connector.store.protocols import Store
from ml_connector.usecases.remotes import Remotes
from ml_connector.usecases.scheduling import Turn, scheduler_turn

__all__ = ["IDLE_CHECK", "Turn", "look_once", "run_forever"]

IDLE_CHECK = timedelta(seconds=60)
"""Longest sleep between looks, so new or changed connections are picked up."""


async def look_once(
    store: Store,
    *,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    on_turn: Callable[[Turn], None] = lambda turn: None,
    remotes: Remotes | None = None,
) -> datetime | None:
    """Sync every connection that is due; return when the next one will be (None: none)."""
    soonest: datetime | None = None
    for config in await store.list_connections():
        with secret_scope():
            turn, due = await scheduler_turn(store, config, now(), remotes=remotes)
            on_turn(turn)
        if due is not None and (soonest is None or due < soonest):
            soonest = due
    return soonest


async def run_forever(
    store: Store,
    *,
    on_turn: Callable[[Turn], None] = lambda turn: None,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> None:
    """Look, sync what is due, sleep until the next is due (at most `IDLE_CHECK`); repeat."""
    while True:
        soonest = await look_once(store, now=now, on_turn=on_turn)
        wait = IDLE_CHECK if soonest is None else min(IDLE_CHECK, soonest - now())
        await sleep(max(wait.total_seconds(), 1.0))
