"""``ml-connector scheduler``: each connection's sync put in the queue when its schedule says.

The scheduler posts nothing itself; it looks at every connection about once a minute and, for
one that is due, defers a sync job that any worker takes. When a connection is due is the one
computation ``run`` and the reports use (:func:`~ml_connector.usecases.scheduling.next_run_of`:
schedule, time zone, pause, last sync); this module only turns "due" into a **slot** and
defers it once:

- the slot is the latest time the schedule fired at or before now, counting from when it
  became due — normally that moment itself; after a whole interval without a pass (a job that
  ended before its pass began) the next fire time, so a connection is never stuck on a slot
  whose job is gone;
- :func:`~ml_connector.jobs.defer.defer_sync` with that slot: Procrastinate's periodic-defer
  record makes it once per slot however many schedulers run, and the connection's queueing
  lock makes it a no-op while a sync of it already waits;
- the syncs due in one look are deferred in :func:`~ml_connector.jobs.defer.key_order`, with
  its priorities, so workers take one connection of each Cin7 application key before a
  second of any key, and keys sync side by side instead of two connections sharing one key's
  budget while another key waits.

Paused connections (``connection pause``), connections without a schedule and connections whose
credentials were refused (until ``connection test`` passes) are skipped. Connections with alert
rules also get an alert check every :data:`ALERTS_EVERY`, so time-based conditions
(``no-sync:N``, ``hold:N``) fire when no pass runs.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from procrastinate import App

from ml_connector.errors import ConfigError
from ml_connector.jobs.app import job_app
from ml_connector.jobs.defer import Deferral, defer_alerts, defer_sync, key_order
from ml_connector.jobs.schema import ensure_job_schema, libpq_url
from ml_connector.schedule import parse_schedule
from ml_connector.settings import AppSettings
from ml_connector.store.models import ConnectionConfig
from ml_connector.store.protocols import Store
from ml_connector.usecases.opening import open_store
from ml_connector.usecases.scheduling import next_run_of, zoned_text

__all__ = [
    "ALERTS_EVERY",
    "IDLE_CHECK",
    "SchedulerTurn",
    "latest_slot",
    "look",
    "run_scheduler",
    "schedule_forever",
]

IDLE_CHECK = timedelta(seconds=60)
"""Longest wait between looks, so new, changed and resumed connections are picked up."""

ALERTS_EVERY = timedelta(minutes=5)
"""How often each connection with alert rules gets an alert check."""

_MAX_FIRES = 1000  # slots walked past a due time before settling on the last one found

TurnAction = Literal["deferred", "queued", "waiting", "skipped"]


@dataclass(frozen=True)
class SchedulerTurn:
    """What one look decided for one connection: ``deferred`` (job ``job_id`` for ``slot``),
    ``queued`` (that slot was deferred before, or a sync already waits), ``waiting`` (due at
    ``slot``) or ``skipped`` (``detail`` says why)."""

    name: str
    action: TurnAction
    detail: str
    slot: datetime | None = None
    job_id: int | None = None


def latest_slot(config: ConnectionConfig, due: datetime, now: datetime) -> datetime:
    """The latest fire time of ``config``'s schedule at or before ``now``, from ``due`` on
    (``due`` itself unless a whole interval passed since). Pure."""
    parsed = parse_schedule(config.sync.schedule or "", config.sync.timezone)
    if parsed.every is not None:
        return due + parsed.every * max(0, (now - due) // parsed.every)
    slot = due
    for _ in range(_MAX_FIRES):
        following = parsed.fire_after(slot)
        if following > now:
            break
        slot = following
    return slot


async def look(
    app: App, store: Store, now: datetime
) -> tuple[list[SchedulerTurn], datetime | None]:
    """Defer what is due at ``now``; each connection's turn and when the next one is due.

    The due syncs are deferred in :func:`~ml_connector.jobs.defer.key_order`, so workers start
    connections on different Cin7 keys before a second one on any key.
    """
    configs = await store.list_connections()
    turns: dict[str, SchedulerTurn] = {}
    due: dict[str, datetime] = {}
    soonest: datetime | None = None
    for config in configs:
        decided = await _turn(store, config, now)
        if isinstance(decided, datetime):
            due[config.name] = decided
            continue
        turns[config.name] = decided
        if decided.action == "waiting" and decided.slot is not None:
            soonest = decided.slot if soonest is None else min(soonest, decided.slot)
    for config, priority in key_order([c for c in configs if c.name in due]):
        slot = due[config.name]
        deferral = await defer_sync(app, config.name, slot=slot, priority=priority)
        at = zoned_text(slot, config.sync.timezone)
        turns[config.name] = SchedulerTurn(
            config.name, *_described(deferral, at), slot, deferral.job_id
        )
    for config in configs:
        if config.id is not None and await store.list_alert_rules(config.id):
            await defer_alerts(app, config.name, slot=_alert_slot(now))
    return [turns[config.name] for config in configs], soonest


async def run_scheduler(
    settings: AppSettings,
    *,
    once: bool = False,
    on_turn: Callable[[SchedulerTurn], None] = lambda turn: None,
) -> None:
    """Open the settings' store and job queue, then look once or :func:`schedule_forever`."""
    libpq_url(settings.database_url)  # refuses SQLite before anything is opened
    async with open_store(settings) as store:
        await ensure_job_schema(settings.database_url)
        app = job_app(settings.database_url)
        async with app.open_async():
            if once:
                for turn in (await look(app, store, datetime.now(UTC)))[0]:
                    on_turn(turn)
                return
            await schedule_forever(app, store, on_turn=on_turn)


async def schedule_forever(
    app: App,
    store: Store,
    *,
    on_turn: Callable[[SchedulerTurn], None] = lambda turn: None,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> None:
    """Look, defer what is due, sleep until the next is due (at most :data:`IDLE_CHECK`)."""
    while True:
        turns, soonest = await look(app, store, now())
        for turn in turns:
            on_turn(turn)
        wait = IDLE_CHECK if soonest is None else min(IDLE_CHECK, soonest - now())
        await sleep(max(wait.total_seconds(), 1.0))


async def _turn(store: Store, config: ConnectionConfig, now: datetime) -> SchedulerTurn | datetime:
    """The turn of a connection not due at ``now``, or the slot to defer its sync for."""
    name = config.name
    if config.sync.paused:
        return SchedulerTurn(name, "skipped", f"paused: `connection resume {name}`")
    if not config.healthy:
        detail = f"unhealthy ({config.health_message}); run `connection test` once it is fixed"
        return SchedulerTurn(name, "skipped", detail)
    assert config.id is not None
    runs = await store.list_runs(config.id, kind="sync", limit=1)
    last = runs[0].started_at if runs else None
    try:
        due = next_run_of(config, last, now)
    except ConfigError as exc:
        return SchedulerTurn(name, "skipped", str(exc))
    if due is None:
        return SchedulerTurn(name, "skipped", "no schedule: sync it by hand")
    if due > now:
        detail = f"next sync at {zoned_text(due, config.sync.timezone)}"
        return SchedulerTurn(name, "waiting", detail, due)
    return latest_slot(config, due, now)


def _described(deferral: Deferral, at: str) -> tuple[TurnAction, str]:
    if deferral.outcome == "deferred":
        return "deferred", f"sync job {deferral.job_id} for {at}"
    if deferral.outcome == "slot-taken":
        return "queued", f"the {at} sync was deferred before"
    return "queued", "a sync of it is already waiting"


def _alert_slot(now: datetime) -> datetime:
    step = int(ALERTS_EVERY.total_seconds())
    return datetime.fromtimestamp(int(now.timestamp()) // step * step, UTC)
