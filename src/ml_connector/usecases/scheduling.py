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
from datetime import UTC, datetime
from typing import Literal

from ml_connector.errors import ConfigError, ConnectionBusy, ConnectionPaused
from ml_connector.schedule import next_run, parse_timezone
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
    "in_zone",
    "next_run_of",
    "scheduler_turn",
    "set_paused",
    "zoned_text",
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


def in_zone(moment: datetime, timezone: str) -> datetime:
    """``moment`` on the wall clock of ``timezone`` (an IANA name; UTC when it is unknown), so
    its ``isoformat()`` carries the zone's offset. Pure.

    >>> in_zone(datetime(2026, 1, 12, 5, 0, tzinfo=UTC), "Europe/Berlin").isoformat()
    '2026-01-12T06:00:00+01:00'
    """
    try:
        return moment.astimezone(parse_timezone(timezone))
    except ConfigError:
        return moment.astimezone(UTC)


def zoned_text(moment: datetime, timezone: str) -> str:
    """``moment`` as people in ``timezone`` read it: the local time with the zone's
    abbreviation and offset from UTC (``2026-01-12 06:00:00 CET (UTC+01:00)``); a zone that has
    no abbreviation shows the offset alone (``2026-01-12 02:00:00 UTC-03:00``), UTC itself
    ``2026-01-12 05:00:00 UTC``. Pure.

    >>> zoned_text(datetime(2026, 7, 1, 5, 0, tzinfo=UTC), "Europe/Berlin")
    '2026-07-01 07:00:00 CEST (UTC+02:00)'
    """
    local = in_zone(moment, timezone)
    wall = f"{local:%Y-%m-%d %H:%M:%S}"
    offset = f"{local:%z}"
    utc = f"UTC{offset[:3]}:{offset[3:]}"
    name = local.tzname() or ""
    if offset == "+0000" and name in ("UTC", "GMT", ""):
        return f"{wall} {name or 'UTC'}"
    if not name or name[0] in "+-":
        return f"{wall} {utc}"
    return f"{wall} {name} ({utc})"


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
        detail = f"next sync at {zoned_text(due, config.sync.timezone)}"
        return Turn(config.name, "waiting", detail), due
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
