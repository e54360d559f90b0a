"""Whole-installation figures for the console overview and `/metrics`, in a few SQL aggregates.

Everything is read from the database, never from the memory of the process that did the work,
so a console started beside `ml-connector run`, job workers or a cron'd `sync` shows what they
did. Each verb is one grouped query over every connection (hundreds of connections cost the same
few round trips as one); callers join the answers by connection id.

Run counters are the JSON documents the engine stores with each run (`sync.engine.Counters`);
a counter missing from older runs counts as zero.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Integer, Select, func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.sql import ColumnElement

from ml_connector.errors import StoreError
from ml_connector.store import tables as t
from ml_connector.store.db import BEGIN_MODE
from ml_connector.store.models import Run
from ml_connector.store.rows import run_from_row

__all__ = ["RUN_COUNTERS", "RunTotals", "SqlOverview"]

#: Run counters summed per connection for the metrics.
RUN_COUNTERS: tuple[str, ...] = ("cin7_calls", "cin7_rate_limited", "qad_calls", "qad_errors")


@dataclass(frozen=True, slots=True)
class RunTotals:
    """All runs of one connection: how many ended each way, and their summed counters."""

    connection_id: int
    outcomes: dict[tuple[str, str], int]  # (kind, status) -> runs
    counters: dict[str, int]  # RUN_COUNTERS -> sum over every run


class SqlOverview:
    """Grouped reads over every connection: ``SqlOverview(store.engine)``."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = (
            engine.execution_options(**{BEGIN_MODE: "DEFERRED"})
            if engine.dialect.name == "sqlite"
            else engine
        )

    async def record_counts(self, kind: str = "purchase") -> dict[int, dict[str, int]]:
        """connection id → status → how many records of ``kind`` (absent statuses: none)."""
        r = t.records.c
        rows = await self._rows(
            select(r.connection_id, r.status, func.count())
            .where(r.kind == kind)
            .group_by(r.connection_id, r.status)
        )
        counts: dict[int, dict[str, int]] = {}
        for cid, status, n in rows:
            counts.setdefault(int(cid), {})[str(status)] = int(n)
        return counts

    async def oldest_holds(self) -> dict[int, datetime]:
        """connection id → since when its longest-held purchase has been held."""
        r = t.records.c
        rows = await self._rows(
            select(r.connection_id, func.min(r.status_since))
            .where(r.status == "held", r.kind == "purchase")
            .group_by(r.connection_id)
        )
        return {int(cid): since for cid, since in rows if isinstance(since, datetime)}

    async def run_totals(self) -> dict[int, RunTotals]:
        """connection id → its runs by kind and outcome, and their summed counters."""
        runs = t.runs.c
        outcome_rows = await self._rows(
            select(runs.connection_id, runs.kind, runs.status, func.count()).group_by(
                runs.connection_id, runs.kind, runs.status
            )
        )
        sums = [func.coalesce(func.sum(_counter(name)), 0) for name in RUN_COUNTERS]
        counter_rows = await self._rows(
            select(runs.connection_id, *sums).group_by(runs.connection_id)
        )
        totals: dict[int, RunTotals] = {}
        for cid, *values in counter_rows:
            totals[int(cid)] = RunTotals(
                int(cid),
                {},
                {name: int(v or 0) for name, v in zip(RUN_COUNTERS, values, strict=True)},
            )
        for cid, kind, status, n in outcome_rows:
            totals[int(cid)].outcomes[(str(kind), str(status))] = int(n)
        return totals

    async def cin7_calls_since(self, since: datetime) -> dict[int, int]:
        """connection id → Cin7 calls made by runs started at or after ``since``."""
        runs = t.runs.c
        rows = await self._rows(
            select(runs.connection_id, func.coalesce(func.sum(_counter("cin7_calls")), 0))
            .where(runs.started_at >= since)
            .group_by(runs.connection_id)
        )
        return {int(cid): int(n or 0) for cid, n in rows}

    async def last_runs(
        self, *, status: str | None = None, kind: str | None = None
    ) -> dict[int, Run]:
        """connection id → its newest run (optionally of one status and kind)."""
        runs = t.runs.c
        where: list[ColumnElement[bool]] = []
        if status is not None:
            where.append(runs.status == status)
        if kind is not None:
            where.append(runs.kind == kind)
        newest = (
            select(runs.connection_id, func.max(runs.id).label("run_id"))
            .where(*where)
            .group_by(runs.connection_id)
            .subquery()
        )
        stmt = select(t.runs).join(newest, runs.id == newest.c.run_id)
        try:
            async with self._engine.connect() as c:
                found = (await c.execute(stmt)).mappings().all()
        except SQLAlchemyError as exc:
            raise _store_error(exc) from None
        return {int(row["connection_id"]): run_from_row(row) for row in found}

    async def _rows(self, stmt: Select[Any]) -> Sequence[tuple[Any, ...]]:
        try:
            async with self._engine.connect() as c:
                result = await c.execute(stmt)
                return [tuple(row) for row in result]
        except SQLAlchemyError as exc:
            raise _store_error(exc) from None


def _counter(name: str) -> ColumnElement[int]:
    column: ColumnElement[int] = t.runs.c.counters[name].as_integer().cast(Integer)
    return column


def _store_error(exc: SQLAlchemyError) -> StoreError:
    orig = getattr(exc, "orig", None)
    text = " ".join(str(orig).split()) if orig is not None else type(exc).__name__
    return StoreError(f"store error: {text}")
