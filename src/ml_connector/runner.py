"""The embedded scheduler: every connection synced on its own schedule, in this process.

`ml-connector run` is the one-machine deployment: SQLite (or PostgreSQL), no job server. A
connection with a schedule (`every 15m`) syncs when its last sync is that old; one without a
schedule syncs only when asked (`ml-connector sync`). A connection whose credentials were
refused is skipped — not retried in a loop — until `connection test` passes again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from ml_connector.errors import ConfigError
from ml_connector.schedule import parse_schedule
from ml_connector.store.models import ConnectionConfig
from ml_connector.store.repo import Store
from ml_connector.sync.connect import cin7_client, qad_client
from ml_connector.sync.engine import SyncEngine, SyncReport

IDLE_CHECK = timedelta(seconds=60)
"""Longest sleep between looks, so new or changed connections are picked up."""


@dataclass(frozen=True)
class Turn:
    """What the scheduler decided for one connection on one look."""

    name: str
    action: str  # synced | skipped | waiting
    detail: str
    report: SyncReport | None = None


def next_due(schedule: str | None, last_started: datetime | None, now: datetime) -> datetime | None:
    """When a connection should next sync (None: it has no schedule). Pure.

    >>> t = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    >>> next_due("every 15m", t, t)
    datetime.datetime(2026, 1, 1, 12, 15, tzinfo=datetime.timezone.utc)
    """
    if not schedule:
        return None
    interval = parse_schedule(schedule)
    return now if last_started is None else last_started + interval


async def look_once(
    store: Store,
    *,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    on_turn: Callable[[Turn], None] = lambda turn: None,
) -> datetime | None:
    """Sync every connection that is due; return when the next one will be (None: none)."""
    soonest: datetime | None = None
    for config in await store.list_connections():
        turn, due = await _turn(store, config, now())
        on_turn(turn)
        if due is not None and (soonest is None or due < soonest):
            soonest = due
    return soonest


async def _turn(
    store: Store, config: ConnectionConfig, now: datetime
) -> tuple[Turn, datetime | None]:
    assert config.id is not None
    runs = await store.list_runs(config.id, kind="sync", limit=1)
    try:
        due = next_due(config.schedule, runs[0].started_at if runs else None, now)
    except ConfigError as exc:
        return Turn(config.name, "skipped", str(exc)), None
    if due is None:
        return Turn(config.name, "skipped", "no schedule: sync it by hand"), None
    if not config.healthy:
        detail = f"unhealthy ({config.health_message}); run `connection test` once it is fixed"
        return Turn(config.name, "skipped", detail), None
    if due > now:
        return Turn(config.name, "waiting", f"next sync at {due:%H:%M:%S} UTC"), due
    async with cin7_client(config) as cin7, qad_client(config) as qad:
        report = await SyncEngine(store, config, cin7, qad, actor="scheduler").sync()
    detail = report.error or f"{report.counters.purchase_orders} POs posted"
    return Turn(config.name, "synced", detail, report), now + parse_schedule(config.schedule or "")


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
