"""The scheduler's turn: what to do about one connection at one moment.

A connection with a schedule (``every 15m``, or cron in its time zone) syncs when
:func:`next_run_of` says it is due; one without a schedule syncs only when asked; a paused one
(``connection pause``) is left alone until resumed; one whose credentials were refused is
skipped, not retried in a loop, until ``connection test`` passes again; one that another process
is syncing is skipped too. The loop around it lives in ``runner.py``; the Procrastinate
``scheduler`` asks :func:`next_run_of` the same question for many machines.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from ml_connector.errors import ConfigError, ConnectionBusy, ConnectionPaused
from ml_connector.schedule import next_run
from ml_connector.store.models import ConnectionConfig
from ml_connector.store.protocols import Store
from ml_connector.sync.engine import SyncReport
from ml_connector.usecases.opening import load_connection, os_user
from ml_connector.usecases.passes import sync_connection
from ml_connector.usecases.remotes import Remotes
from ml_connector.vocab import CONNECTION_TRAIL

__all__ = [
    "PauseChange",
    "Turn",
    "TurnAction",
    "next_run_of",
    "scheduler_turn",
    "set_paused",
]

TurnAction = Literal["synced", "failed", "skipped", "waiting"]


@dataclass(frozen=True)
class Turn:
    """What the scheduler decided for one connection on one look."""

    name: str
    action: TurnAction
    detail: str
    report: SyncReport | None = None


def next_run_of(
    config: ConnectionConfig, last_start: datetime | None, now: datetime
) -> datetime | None:
    """When ``config`` should next sync, its last sync having started at ``last_start`` (None:
    never): :func:`ml_connector.schedule.next_run` with the connection's schedule, time zone,
    pause and creation time. None when it has no schedule or is paused; at or before ``now``
    when it is due. ConfigError when its schedule is not understood. Pure.
    """
    return next_run(
        config.sync.schedule,
        config.sync.timezone,
        last_start,
        now,
        paused=config.sync.paused,
        created=config.created_at,
    )


@dataclass(frozen=True)
class PauseChange:
    """A pause or resume: the connection after it, and whether it changed anything."""

    config: ConnectionConfig
    changed: bool
    actor: str

    @property
    def paused(self) -> bool:
        return self.config.sync.paused


async def set_paused(
    store: Store, name: str, paused: bool, *, actor: str | None = None
) -> PauseChange:
    """Pause or resume connection ``name``'s schedule, recording who did it in the connection's
    trail (``paused`` / ``resumed`` events under :data:`CONNECTION_TRAIL`) in the same
    transaction. Pausing a paused connection (or resuming a running one) changes and records
    nothing. ConfigError when there is no such connection.

    A paused connection keeps its schedule, records, trail and mappings; ``run`` and the
    scheduler skip it, reports show it as paused, and ``sync NAME`` by hand still runs.
    """
    who = actor or f"cli:{os_user()}"
    current = await load_connection(store, name)
    if current.sync.paused == paused:
        return PauseChange(current, False, who)
    assert current.id is not None
    async with store.transaction():
        updated = await store.update_connection(current.with_settings({"paused": paused}))
        await store.append(
            current.id,
            CONNECTION_TRAIL,
            "paused" if paused else "resumed",
            who,
            {"schedule": current.sync.schedule, "timezone": current.sync.timezone},
        )
    return PauseChange(updated, True, who)


async def scheduler_turn(
    store: Store, config: ConnectionConfig, now: datetime, *, remotes: Remotes | None = None
) -> tuple[Turn, datetime | None]:
    """Sync ``config`` if it is due at ``now``; the turn and when it is next due (None: never
    by schedule)."""
    assert config.id is not None
    if config.sync.paused:
        return Turn(config.name, "skipped", f"paused: `connection resume {config.name}`"), None
    runs = await store.list_runs(config.id, kind="sync", limit=1)
    try:
        due = next_run_of(config, runs[0].started_at if runs else None, now)
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
        result = await sync_connection(
            store, config.name, actor="scheduler", remotes=remotes, scheduled=True
        )
    except ConnectionBusy as busy:
        # Another process is on it; its run moves the due time, so the next look decides.
        return Turn(config.name, "skipped", str(busy)), None
    except ConnectionPaused:  # paused since this look read the connection
        return Turn(config.name, "skipped", f"paused: `connection resume {config.name}`"), None
    report = result.report
    action: TurnAction = "failed" if report.status == "failed" else "synced"
    detail = (report.error or f"{report.counters.purchase_orders} POs posted") + (
        f"; audit head {result.head}"
    )
    return Turn(config.name, action, detail, report), next_run_of(config, now, now)
