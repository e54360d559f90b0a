"""The state of every connection at a glance: the console's overview and the metrics' figures.

Both read the database only (:class:`~ml_connector.store.overview.SqlOverview`), so they are
right whichever process synced. :func:`overview` answers "is each connection healthy, when did
it last and when will it next run, what waits for a person"; :func:`figures` adds the all-time
totals that `/metrics` exports as counters.

Health, in order of precedence: ``unhealthy`` (a remote refused the credentials or the last
connection test failed: the scheduler skips it), ``failing`` (its last sync pass stopped
with an error), ``attention`` (records failed, blocked or need a person), ``new`` (never synced),
``ok``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Literal

from ml_connector.errors import ConfigError
from ml_connector.store.models import ConnectionConfig, Run
from ml_connector.store.overview import RunTotals, SqlOverview
from ml_connector.store.sql import SqlStore
from ml_connector.usecases.scheduling import in_zone, next_run_of
from ml_connector.vocab import RECORD_STATUSES

__all__ = [
    "ATTENTION_STATUSES",
    "ConnectionOverview",
    "Figures",
    "Health",
    "Overview",
    "figures",
    "overview",
]

Health = Literal["unhealthy", "failing", "attention", "new", "ok"]

#: Record statuses a person has to look at (the error queue).
ATTENTION_STATUSES: tuple[str, ...] = ("failed", "blocked", "attention")


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class ConnectionOverview:
    """One connection's line on the overview."""

    name: str
    health: Health
    health_message: str | None
    schedule: str | None
    timezone: str
    paused: bool
    last_run: Run | None
    last_success_at: datetime | None
    next_run_at: datetime | None
    next_run_note: str
    counts: dict[str, int]
    cin7_calls_last_hour: int
    cin7_budget_per_hour: int
    oldest_hold_since: datetime | None

    @property
    def next_run_local(self) -> datetime | None:
        """The next run on the wall clock of the connection's time zone."""
        return in_zone(self.next_run_at, self.timezone) if self.next_run_at else None

    @property
    def needs_attention(self) -> int:
        """Failed, blocked and needs-attention records together: the error queue's length."""
        return sum(self.counts.get(status, 0) for status in ATTENTION_STATUSES)

    @property
    def cin7_budget_used(self) -> float:
        """Share of the last hour's Cin7 budget used (1.0 is all of it)."""
        return self.cin7_calls_last_hour / self.cin7_budget_per_hour


@dataclass(frozen=True)
class Overview:
    connections: tuple[ConnectionOverview, ...]
    now: datetime


@dataclass(frozen=True)
class Figures:
    """What `/metrics` exports, per connection name."""

    now: datetime
    overview: Overview
    totals: dict[str, RunTotals] = field(default_factory=dict)


def _budget(config: ConnectionConfig) -> int:
    return config.sync.cin7_rate_limit * 60


def _health(
    config: ConnectionConfig, last_sync: Run | None, counts: dict[str, int]
) -> tuple[Health, str | None]:
    if not config.healthy:
        return "unhealthy", config.health_message
    if last_sync is not None and last_sync.status == "failed":
        return "failing", last_sync.error
    if any(counts.get(status, 0) for status in ATTENTION_STATUSES):
        return "attention", None
    if last_sync is None:
        return "new", None
    return "ok", None


def _next_run(
    config: ConnectionConfig, last_sync: Run | None, now: datetime
) -> tuple[datetime | None, str]:
    if config.sync.paused:
        return None, "paused"
    schedule = config.sync.schedule
    if not schedule:
        return None, "no schedule"
    try:
        due = next_run_of(config, last_sync.started_at if last_sync else None, now)
    except ConfigError:
        return None, "schedule not understood"
    if not config.healthy:
        return None, "waits for a passing connection test"
    return due, schedule


async def overview(store: SqlStore, *, now: Callable[[], datetime] = _now) -> Overview:
    """Every connection with health, last and next run, counts, Cin7 budget and oldest hold."""
    moment = now()
    reads = SqlOverview(store.engine)
    counts = await reads.record_counts()
    holds = await reads.oldest_holds()
    calls = await reads.cin7_calls_since(moment - timedelta(hours=1))
    last = await reads.last_runs()
    last_sync = await reads.last_runs(kind="sync")
    last_ok = await reads.last_runs(status="succeeded", kind="sync")
    lines: list[ConnectionOverview] = []
    for config in await store.list_connections():
        assert config.id is not None
        cid = config.id
        per_status: dict[str, int] = {s: counts.get(cid, {}).get(s, 0) for s in RECORD_STATUSES}
        for status, n in counts.get(cid, {}).items():
            per_status.setdefault(status, n)
        health, message = _health(config, last_sync.get(cid), per_status)
        next_at, note = _next_run(config, last_sync.get(cid), moment)
        succeeded = last_ok.get(cid)
        lines.append(
            ConnectionOverview(
                name=config.name,
                health=health,
                health_message=message,
                schedule=config.sync.schedule,
                timezone=config.sync.timezone,
                paused=config.sync.paused,
                last_run=last.get(cid),
                last_success_at=succeeded.finished_at if succeeded else None,
                next_run_at=next_at,
                next_run_note=note,
                counts=per_status,
                cin7_calls_last_hour=calls.get(cid, 0),
                cin7_budget_per_hour=_budget(config),
                oldest_hold_since=holds.get(cid),
            )
        )
    return Overview(tuple(lines), moment)


async def figures(store: SqlStore, *, now: Callable[[], datetime] = _now) -> Figures:
    """The overview plus every connection's all-time run totals, for `/metrics`."""
    seen = await overview(store, now=now)
    by_id = await SqlOverview(store.engine).run_totals()
    names = {c.id: c.name for c in await store.list_connections()}
    totals = {names[cid]: t for cid, t in by_id.items() if cid in names}
    return Figures(seen.now, seen, totals)
