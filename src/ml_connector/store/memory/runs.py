"""Runs in memory: one per sync, replay or dry-run pass, with its counters and outcome."""

from __future__ import annotations

import copy
from typing import Any

from ml_connector.errors import StoreError
from ml_connector.store.memory.base import MemoryBase, as_json
from ml_connector.store.models import (
    Run,
)
from ml_connector.store.rows import (
    run_from_row,
)
from ml_connector.store.rules import (
    check,
)
from ml_connector.vocab import (
    RUN_KINDS,
    RUN_STATUSES,
    RunKind,
    RunStatus,
)

__all__ = ["MemoryRuns"]


class MemoryRuns(MemoryBase):
    """:class:`~ml_connector.store.protocols.RunWrites` and ``RunReads`` in memory."""

    async def start_run(self, connection_id: int, kind: RunKind, actor: str = "sync") -> Run:
        check(kind, RUN_KINDS, "run kind")
        now = self._clock()
        async with self._write("start_run"):
            self._owned(connection_id)
            row = self._insert(
                "runs",
                {
                    "connection_id": connection_id,
                    "kind": kind,
                    "actor": actor,
                    "status": "running",
                    "started_at": now,
                    "finished_at": None,
                    "counters": {},
                    "error": None,
                },
            )
        return run_from_row(copy.deepcopy(row))

    async def finish_run(
        self,
        run_id: int,
        status: RunStatus,
        counters: dict[str, int] | None = None,
        error: str | None = None,
    ) -> Run:
        check(status, RUN_STATUSES, "run status")
        async with self._write("finish_run"):
            row = self._tables["runs"].get(run_id)
            if row is None:
                raise StoreError(f"no run with id {run_id}")
            changes: dict[str, Any] = {
                "status": status,
                "finished_at": self._clock(),
                "error": self._scrub(row["connection_id"], error),
            }
            if counters is not None:
                changes["counters"] = as_json(dict(counters))
            row = self._update("runs", row, **changes)
        return run_from_row(copy.deepcopy(row))

    async def interrupt_runs(self, connection_id: int) -> int:
        async with self._write("interrupt_runs"):
            running = self._rows("runs", connection_id=connection_id, status="running")
            for row in running:
                self._update("runs", row, status="interrupted", finished_at=self._clock())
        return len(running)

    async def get_run(self, run_id: int) -> Run | None:
        self._read("get_run")
        row = self._tables["runs"].get(run_id)
        return None if row is None else run_from_row(copy.deepcopy(row))

    async def list_runs(
        self, connection_id: int, *, kind: RunKind | None = None, limit: int = 20
    ) -> list[Run]:
        self._read("list_runs")
        rows = [
            row
            for row in self._rows("runs", connection_id=connection_id)
            if kind is None or row["kind"] == kind
        ]
        rows.sort(key=lambda row: (row["started_at"], row["id"]), reverse=True)
        return [run_from_row(copy.deepcopy(row)) for row in rows[:limit]]
