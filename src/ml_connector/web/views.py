"""Shaping use-case results for people and for the JSON API; pure functions, no I/O.

Amounts are decimal strings and times ISO 8601 in UTC, as in the CLI's ``--json``. Nothing that
shapes a connection here ever reads its secrets.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from ml_connector.store.models import Record, Run
from ml_connector.usecases.error_queue import ErrorQueue
from ml_connector.usecases.overview import ConnectionOverview
from ml_connector.usecases.records import RecordDetail, RecordPage
from ml_connector.usecases.runs import RunHistory, stop_reason

__all__ = [
    "detail_doc",
    "format_age",
    "history_doc",
    "jsonable",
    "overview_doc",
    "queue_doc",
    "record_doc",
    "records_doc",
    "run_doc",
    "when",
]


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


def record_doc(record: Record, supplier_names: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "id": record.id,
        "kind": record.kind,
        "reference": record.reference,
        "cin7_id": record.cin7_id,
        "supplier_id": record.supplier_id,
        "supplier": (supplier_names or {}).get(record.supplier_id or ""),
        "status": record.status,
        "reason": record.reason,
        "status_since": record.status_since.isoformat(),
        "latest_version": record.latest_version,
        "posted_version": record.posted_version,
        "month": record.month,
        "amounts": record.amounts,
    }


def records_doc(found: RecordPage) -> dict[str, Any]:
    q = found.query
    return {
        "connection": found.connection,
        "total": found.total,
        "offset": q.offset,
        "limit": q.limit,
        "records": [record_doc(r, found.supplier_names) for r in found.records],
    }


def detail_doc(d: RecordDetail) -> dict[str, Any]:
    return {
        "connection": d.connection,
        "record": record_doc(d.record, {d.record.supplier_id or "": d.supplier_name or ""}),
        "versions": [
            {
                "version": s.version,
                "fetched_at": s.fetched_at.isoformat(),
                "last_updated": s.last_updated,
                "hash": s.hash,
            }
            for s in d.versions
        ],
        "latest_payload": d.latest.payload if d.latest else None,
        "compared": list(d.compared) if d.compared else None,
        "changes": [
            {"path": c.path, "kind": c.kind, "before": c.before, "after": c.after}
            for c in d.changes
        ],
        "qad_documents": [
            {
                "kind": p.kind,
                "natural_key": p.natural_key,
                "state": p.state,
                "qad_id": p.qad_id,
                "updated_at": p.updated_at.isoformat(),
            }
            for p in d.postings
        ],
        "trail": [
            {
                "seq": e.seq,
                "at": e.at.isoformat(),
                "event": e.event,
                "actor": e.actor,
                "data": e.data,
                "hash": e.hash,
            }
            for e in d.trail
        ],
        "trail_intact": d.trail_intact,
        "trail_problems": list(d.trail_problems),
    }


def queue_doc(queue: ErrorQueue) -> dict[str, Any]:
    return {
        "connection": queue.connection,
        "total": queue.total,
        "groups": [
            {
                "key": g.key,
                "title": g.title,
                "status": g.status,
                "missing_mapping": (
                    {
                        "kind": g.mapping.kind,
                        "cin7_value": g.mapping.cin7_value,
                        "label": g.mapping.label,
                    }
                    if g.mapping
                    else None
                ),
                "records": [record_doc(r, queue.supplier_names) for r in g.records],
            }
            for g in queue.groups
        ],
    }


def history_doc(history: RunHistory) -> dict[str, Any]:
    runs = []
    for run in history.runs:
        doc = run_doc(run) or {}
        doc["stopped_because"] = stop_reason(run)
        runs.append(doc)
    return {"connection": history.connection, "runs": runs}
