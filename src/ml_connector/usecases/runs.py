"""A connection's passes, newest first: what each did, how long it took, why it stopped."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from ml_connector.store.models import Run
from ml_connector.store.protocols import Store

__all__ = ["RunHistory", "run_history", "stop_reason"]


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class RunHistory:
    connection: str
    runs: tuple[Run, ...]
    now: datetime


def stop_reason(run: Run) -> str:
    """Why a pass ended, in a few words."""
    if run.status == "running":
        return "still running"
    if run.status == "interrupted":
        return "interrupted: the process stopped before the pass ended"
    if run.status == "failed":
        return run.error or "failed"
    return "finished"


async def run_history(
    store: Store, name: str, *, limit: int = 50, now: Callable[[], datetime] = _now
) -> RunHistory:
    cid = await store.connection_id(name)
    runs = await store.list_runs(cid, limit=min(max(limit, 1), 500))
    return RunHistory(name, tuple(runs), now())
