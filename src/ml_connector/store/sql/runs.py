"""Runs on SQL: one row per sync, replay or dry-run pass, with its counters and outcome."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.sql import ColumnElement

from ml_connector.errors import StoreError
from ml_connector.store import tables as t
from ml_connector.store.models import Run
from ml_connector.store.rows import run_from_row
from ml_connector.store.rules import check
from ml_connector.store.sql.base import SqlBase, fetch_all, fetch_one
from ml_connector.vocab import RUN_KINDS, RUN_STATUSES, RunKind, RunStatus

__all__ = ["SqlRuns"]


class SqlRuns(SqlBase):
    """:class:`~ml_connector.store.protocols.RunWrites` and ``RunReads`` on SQL."""

    async def start_run(self, connection_id: int, kind: RunKind, actor: str = "sync") -> Run:
        """Record the start of a sync, replay or dry-run."""
        check(kind, RUN_KINDS, "run kind")
        now = self._clock()
        async with self._session() as c:
            run_id = await c.scalar(
                t.runs.insert()
                .values(
                    connection_id=connection_id,
                    kind=kind,
                    actor=actor,
                    status="running",
                    started_at=now,
                    counters={},
                )
                .returning(t.runs.c.id)
            )
        return Run(int(run_id), connection_id, kind, actor, "running", now, None, {}, None)

    async def finish_run(
        self,
        run_id: int,
        status: RunStatus,
        counters: dict[str, int] | None = None,
        error: str | None = None,
    ) -> Run:
        """Close a run with its outcome and counters."""
        check(status, RUN_STATUSES, "run status")
        async with self._session() as c:
            cid = await c.scalar(select(t.runs.c.connection_id).where(t.runs.c.id == run_id))
            if cid is None:
                raise StoreError(f"no run with id {run_id}")
            changes: dict[str, Any] = {
                "status": status,
                "finished_at": self._clock(),
                "error": await self._scrub_text(int(cid), error),
            }
            if counters is not None:
                changes["counters"] = dict(counters)
            await c.execute(update(t.runs).where(t.runs.c.id == run_id).values(**changes))
            row = await fetch_one(c, select(t.runs).where(t.runs.c.id == run_id))
            assert row is not None
        return run_from_row(row)

    async def interrupt_runs(self, connection_id: int) -> int:
        """Mark runs still ``running`` (their process died) as ``interrupted``; return how many."""
        async with self._session() as c:
            result = await c.execute(
                update(t.runs)
                .where(t.runs.c.connection_id == connection_id, t.runs.c.status == "running")
                .values(status="interrupted", finished_at=self._clock())
            )
        return int(result.rowcount or 0)

    async def get_run(self, run_id: int) -> Run | None:
        async with self._session(write=False) as c:
            row = await fetch_one(c, select(t.runs).where(t.runs.c.id == run_id))
        return None if row is None else run_from_row(row)

    async def list_runs(
        self, connection_id: int, *, kind: RunKind | None = None, limit: int = 20
    ) -> list[Run]:
        """The newest runs first."""
        where: list[ColumnElement[bool]] = [t.runs.c.connection_id == connection_id]
        if kind is not None:
            where.append(t.runs.c.kind == kind)
        async with self._session(write=False) as c:
            rows = await fetch_all(
                c,
                select(t.runs)
                .where(*where)
                .order_by(t.runs.c.started_at.desc(), t.runs.c.id.desc())
                .limit(limit),
            )
        return [run_from_row(row) for row in rows]
