"""The scheduler's turn: what to do about one connection at one moment.

A connection with a schedule (``every 15m``) syncs when its last sync is that old; one without
syncs only when asked; one whose credentials were refused is skipped, not retried in a loop,
until ``connection test`` passes again; one that another process is syncing is skipped too.
The loop around it lives in ``runner.py`` (and, for many machines, in job workers).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from ml_connector.errors import ConfigError, ConnectionBusy
from ml_connector.schedule import parse_schedule
from ml_connector.store.models import ConnectionConfig
from ml_connector.store.protocols import Store
from ml_connector.sync.engine import SyncReport
from ml_connector.usecases.passes import sync_connection
from ml_connector.usecases.remotes import Remotes

__all__ = ["Turn", "TurnAction", "next_due", "scheduler_turn"]

TurnAction = Literal["synced", "failed", "skipped", "waiting"]


@dataclass(frozen=True)
class Turn:
    """What the scheduler decided for one connection on one look."""

    name: str
    action: TurnAction
    detail: str
    report: SyncReport | None = None


def next_due(schedule: str | None, last_started: datetime | None, now: datetime) -> datetime | None:
    """When a connection should next sync (None: it has no schedule). Pure.

    >>> from datetime import UTC
    >>> t = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    >>> next_due("every 15m", t, t)
    datetime.datetime(2026, 1, 1, 12, 15, tzinfo=datetime.timezone.utc)
    """
    if not schedule:
        return None
    interval = parse_schedule(schedule)
    return now if last_started is None else last_started + interval


async def scheduler_turn(
    store: Store, config: ConnectionConfig, now: datetime, *, remotes: Remotes | None = None
) -> tuple[Turn, datetime | None]:
    """Sync ``config`` if it is due at ``now``; the turn and when it is next due (None: never
    by schedule)."""
    assert config.id is not None
    runs = await store.list_runs(config.id, kind="sync", limit=1)
    try:
        due = next_due(config.sync.schedule, runs[0].started_at if runs else None, now)
    except ConfigError as exc:
        return Turn(config.name, "skipped", str(exc)), None
    if due is None:
        return Turn(config.name, "skipped", "no schedule: sync it by hand"), None
    if not config.healthy:
        detail = f"unhealthy ({config.health_message}); run `connection test` once it is fixed"
        return Turn(config.name, "skipped", detail), None
    if due > now:
        return Turn(config.name, "waiting", f"next sync at {due:%H:%M:%S} UTC"), due
    try:
        result = await sync_connection(store, config.name, actor="scheduler", remotes=remotes)
    except ConnectionBusy as busy:
        # Another process is on it; its run moves the due time, so the next look decides.
        return Turn(config.name, "skipped", str(busy)), None
    report = result.report
    action: TurnAction = "failed" if report.status == "failed" else "synced"
    detail = report.error or f"{report.counters.purchase_orders} POs posted"
    due_next = now + parse_schedule(config.sync.schedule or "")
    return Turn(config.name, action, detail, report), due_next
