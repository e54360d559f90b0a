"""Shaping use-case results for people and for the JSON API; pure functions, no I/O.

Amounts are decimal strings and times ISO 8601 in UTC, as in the CLI's ``--json``. Nothing that
shapes a connection here ever reads its secrets.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from ml_connector.store.models import Run
from ml_connector.usecases.overview import ConnectionOverview

__all__ = ["format_age", "jsonable", "overview_doc", "run_doc", "when"]


def format_age(seconds: float) -> str:
    """A compact age: ``45s``, ``12m``, ``3h 20m``, ``2d 4h``."""
    whole = max(0, int(seconds))
    days, rest = divmod(whole, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m"
    if minutes:
        return f"{minutes}m"
    return f"{secs}s"


def when(value: datetime | None) -> str:
    """``2026-12-01 09:00 UTC`` (empty for None)."""
    return f"{value:%Y-%m-%d %H:%M} UTC" if value else ""


def jsonable(value: Any) -> Any:
    """Decimals as strings, datetimes as ISO strings, containers recursively."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


def run_doc(run: Run | None) -> dict[str, Any] | None:
    if run is None:
        return None
    duration = (run.finished_at - run.started_at).total_seconds() if run.finished_at else None
    return {
        "id": run.id,
        "kind": run.kind,
        "status": run.status,
        "actor": run.actor,
        "started_at": run.started_at.isoformat(),
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "duration_s": round(duration, 3) if duration is not None else None,
        "counters": dict(run.counters),
        "error": run.error,
    }


def overview_doc(line: ConnectionOverview, now: datetime) -> dict[str, Any]:
    """One connection as `GET /api/connections` lists it."""
    hold_age = (now - line.oldest_hold_since).total_seconds() if line.oldest_hold_since else None
    return {
        "name": line.name,
        "health": line.health,
        "health_message": line.health_message,
        "schedule": line.schedule,
        "last_run": run_doc(line.last_run),
        "last_success_at": line.last_success_at.isoformat() if line.last_success_at else None,
        "next_run_at": line.next_run_at.isoformat() if line.next_run_at else None,
        "next_run_note": line.next_run_note,
        "counts": {
            "pending": line.counts.get("pending", 0),
            "held": line.counts.get("held", 0),
            "blocked": line.counts.get("blocked", 0),
            "failed": line.counts.get("failed", 0),
            "attention": line.counts.get("attention", 0),
            "needs_attention": line.needs_attention,
            "by_status": dict(line.counts),
        },
        "cin7_calls_last_hour": line.cin7_calls_last_hour,
        "cin7_budget_per_hour": line.cin7_budget_per_hour,
        "cin7_budget_used": round(line.cin7_budget_used, 4),
        "oldest_hold_since": line.oldest_hold_since.isoformat() if line.oldest_hold_since else None,
        "oldest_hold_age_s": round(hold_age) if hold_age is not None else None,
    }
