"""Shaping use-case results for people and for the JSON API; pure functions, no I/O.

Amounts are decimal strings and times ISO 8601 in UTC, as in the CLI's ``--json`` (a next run also
in the connection's zone, ``next_run_local``, with its offset). Nothing that
shapes a connection here ever reads its secrets.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime
from decimal import Decimal
from typing import Any

from ml_connector.connection import STORED_SECRET
from ml_connector.jobs.defer import Deferral
from ml_connector.store.models import ConnectionConfig, Record, Run
from ml_connector.usecases.error_queue import ErrorQueue
from ml_connector.usecases.holds import HoldList
from ml_connector.usecases.mappings import MappingList
from ml_connector.usecases.overview import ConnectionOverview
from ml_connector.usecases.passes import PassResult
from ml_connector.usecases.records import RecordDetail, RecordPage
from ml_connector.usecases.reports import ChainCheck, HeadReport, Reconciliation
from ml_connector.usecases.runs import RunHistory, stop_reason

__all__ = [
    "STORED_SECRET",
    "chain_check_doc",
    "connection_doc",
    "detail_doc",
    "head_doc",
    "history_doc",
    "holds_doc",
    "jsonable",
    "mappings_doc",
    "overview_doc",
    "queue_doc",
    "reconcile_csv",
    "reconcile_doc",
    "reconcile_totals",
    "record_doc",
    "records_doc",
    "replay_doc",
    "replay_note",
    "run_doc",
    "when",
]


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
        "timezone": line.timezone,
        "paused": line.paused,
        "last_run": run_doc(line.last_run),
        "last_success_at": line.last_success_at.isoformat() if line.last_success_at else None,
        "next_run_at": line.next_run_at.isoformat() if line.next_run_at else None,
        "next_run_local": line.next_run_local.isoformat() if line.next_run_local else None,
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


def replay_note(result: PassResult | Deferral | None) -> str:
    """One line saying how a replay went: ``Replayed 3: 2 posted, 1 blocked. Audit head 42:…``,
    or that it was queued for a worker: ``Queued replay job 12; a worker runs it.``"""
    if result is None:
        return "Nothing to replay: those records have left the queue."
    if isinstance(result, Deferral):
        if result.outcome == "deferred":
            return f"Queued replay job {result.job_id}; a worker runs it."
        return "A replay of those records is already waiting in the queue; nothing more queued."
    if result.report.status != "succeeded":
        return f"The replay stopped: {result.report.error or result.report.status}."
    counts: dict[str, int] = {}
    for outcome in result.outcomes:
        counts[outcome.status] = counts.get(outcome.status, 0) + 1
    parts = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
    return f"Replayed {len(result.outcomes)}: {parts}. Audit head {result.head}."


def replay_doc(result: PassResult | Deferral | None) -> dict[str, Any]:
    """A replay's outcomes, or (``status`` ``queued``) the job a worker runs it in: ``queued``
    says whether this request queued one (false: one for the same records already waits)."""
    if result is None:
        return {"replayed": 0, "status": "nothing to replay", "outcomes": []}
    if isinstance(result, Deferral):
        return {
            "replayed": 0,
            "status": "queued",
            "queued": result.outcome == "deferred",
            "job_id": result.job_id,
            "outcomes": [],
        }
    return {
        "replayed": len(result.outcomes),
        "status": result.report.status,
        "error": result.report.error,
        "run_id": result.report.run_id,
        "audit_head": str(result.head),
        "outcomes": [
            {"reference": o.reference, "status": o.status, "reason": o.reason}
            for o in result.outcomes
        ],
    }


_SHOWN = (
    "name",
    "cin7_account_id",
    "cin7_application_key",
    "cin7_base_url",
    "qad_url",
    "qad_client_id",
    "qad_username",
    "qad_password",
    "qad_domain",
    "qad_entity",
    "qad_site",
    "allow_local",
    "schedule",
    "timezone",
    "paused",
    "healthy",
    "health_message",
)


def connection_doc(config: ConnectionConfig) -> dict[str, Any]:
    """A connection's settings for people (:meth:`ConnectionConfig.public`): its secrets only
    say that they are stored."""
    view = config.public()
    doc = {key: view[key] for key in _SHOWN}
    doc["health_checked_at"] = (
        config.health_checked_at.isoformat() if config.health_checked_at else None
    )
    return doc


_MEASURES = ("invoiced", "credited", "posted", "held", "received")


def reconcile_totals(figures: Reconciliation) -> list[dict[str, Any]]:
    """One totals row per currency (currencies are never added together)."""
    totals: dict[str, dict[str, Any]] = {}
    for line in figures.lines:
        row = totals.setdefault(
            line.currency,
            {"currency": line.currency, "records": 0, **{m: Decimal(0) for m in _MEASURES}},
        )
        row["records"] += line.records
        for measure in _MEASURES:
            row[measure] += getattr(line, measure)
    return [totals[c] for c in sorted(totals)]


def reconcile_doc(figures: Reconciliation) -> dict[str, Any]:
    return {
        "connection": figures.connection,
        "month": figures.month,
        "lines": [
            {
                "supplier_id": line.supplier_id,
                "supplier": line.supplier_name,
                "currency": line.currency,
                **{m: str(getattr(line, m)) for m in _MEASURES},
                "records": line.records,
                "statuses": dict(line.statuses),
            }
            for line in figures.lines
        ],
        "totals": jsonable(reconcile_totals(figures)),
    }


def reconcile_csv(figures: Reconciliation) -> str:
    """The month-end figures as CSV, one row per supplier and currency, then the totals."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["supplier_id", "supplier", "currency", *_MEASURES, "records"])
    for line in figures.lines:
        writer.writerow(
            [
                line.supplier_id or "",
                line.supplier_name or "",
                line.currency,
                *(str(getattr(line, m)) for m in _MEASURES),
                line.records,
            ]
        )
    for total in reconcile_totals(figures):
        writer.writerow(
            ["TOTAL", "", total["currency"], *(str(total[m]) for m in _MEASURES), total["records"]]
        )
    return out.getvalue()


def holds_doc(holds: HoldList) -> dict[str, Any]:
    return {
        "connection": holds.connection,
        "holds": [
            {
                "reference": h.record.reference,
                "record_id": h.record.id,
                "supplier_id": h.record.supplier_id,
                "supplier": h.supplier_name,
                "invoice_numbers": list(h.invoice_numbers),
                "held": dict(h.held),
                "since": h.record.status_since.isoformat(),
                "age_s": int((holds.now - h.record.status_since).total_seconds()),
                "waiting_for": list(h.waiting_for),
            }
            for h in holds.holds
        ],
    }


def mappings_doc(listed: MappingList) -> dict[str, Any]:
    return {
        "connection": listed.connection,
        "mappings": [
            {
                "kind": m.kind,
                "cin7_value": m.cin7_value,
                "qad_value": m.qad_value,
                "source": m.source,
                "confidence": m.confidence,
            }
            for m in listed.mappings
        ],
    }


def head_doc(report: HeadReport) -> dict[str, Any]:
    """A connection's audit chain head, as `ml-connector audit head --json` prints it."""
    return {
        "connection": report.connection,
        "head": str(report.head),
        "count": report.head.count,
        "link": report.head.link,
    }


def chain_check_doc(check: ChainCheck) -> dict[str, Any]:
    """The verdict on a connection's whole chain, as `audit verify --json` prints it."""
    return {
        "connection": check.connection,
        "intact": check.intact,
        "head": str(check.head),
        "expected_head": None if check.expected is None else str(check.expected),
        "broken": [
            {
                "kind": b.kind,
                "event_id": b.event_id,
                "record": b.record_key,
                "seq": b.seq,
                "problem": b.problem,
            }
            for b in check.broken
        ],
    }
