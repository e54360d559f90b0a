"""What the commands show, as plain JSON-able documents and as Rich tables built from them.

Every function here is pure: ``*_doc`` turns a use case's result into the document that
``--json`` prints, and ``*_tables`` renders that same document for a terminal, so the two never
disagree. Secrets never enter a document: a connection's credentials are shown as
``stored, encrypted``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from datetime import datetime
from decimal import Decimal
from typing import Any

from rich.console import Group, RenderableType
from rich.text import Text

from ml_connector.ages import format_age
from ml_connector.cli.console import table
from ml_connector.connection import STORED_SECRET
from ml_connector.demo import REALISTIC_RATE_LIMIT, DemoSummary, Issue
from ml_connector.store.models import ConnectionConfig, Record
from ml_connector.sync.amounts import HALF_UP
from ml_connector.usecases import (
    AccountReconciliation,
    AuditTrail,
    ChainCheck,
    ConnectionTest,
    HeadReport,
    Holds,
    InvoiceReconciliation,
    MappingList,
    PassResult,
    Reconciliation,
    RecordList,
    Suggestions,
)
from ml_connector.usecases.fit import FitReport
from ml_connector.usecases.golive import GoLiveWorklist
from ml_connector.usecases.mappings import AlignmentReport
from ml_connector.usecases.scheduling import zoned_text

__all__ = [
    "STORED_SECRET",
    "alignment_csv",
    "alignment_doc",
    "alignment_tables",
    "audit_doc",
    "audit_tables",
    "connection_doc",
    "connection_list_table",
    "connection_table",
    "demo_tables",
    "fit_doc",
    "fit_table",
    "holds_doc",
    "holds_tables",
    "mappings_doc",
    "mappings_table",
    "reconcile_accounts_doc",
    "reconcile_accounts_table",
    "reconcile_doc",
    "reconcile_invoices_doc",
    "reconcile_invoices_table",
    "reconcile_tables",
    "records_doc",
    "records_tables",
    "run_doc",
    "run_tables",
    "suggest_doc",
    "suggest_tables",
    "test_doc",
    "test_lines",
    "verify_doc",
    "verify_lines",
]


_PROBLEM_LABELS = {
    "credentials": "bad credentials",
    "permission": "missing permission",
    "unreachable": "unreachable",
    "tenant-url": "wrong tenant URL",
    "config": "configuration",
    "rate-limited": "rate limited",
    "other": "error",
}
_SYSTEM_NAMES = {"cin7": "Cin7 Core", "qad": "QAD"}


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value else ""


# --- connections ------------------------------------------------------------------------------


def connection_doc(config: ConnectionConfig) -> dict[str, Any]:
    """Everything about a connection except its secrets, which show as ``stored, encrypted``
    (:meth:`ConnectionConfig.public`)."""
    return config.public()


def pause_line(name: str, paused: bool, changed: bool) -> str:
    """What `connection pause|resume` says."""
    if not changed:
        return f"Connection {name} was already {'paused' if paused else 'running on its schedule'}."
    if paused:
        return (
            f"Paused connection {name}: `run` and the scheduler leave it alone until "
            f"`ml-connector connection resume {name}`; `sync {name}` by hand still runs."
        )
    return f"Resumed connection {name}: it syncs on its schedule again."


def paused_by_hand_line(name: str) -> str:
    """What `sync` says on stderr after a pass over a paused connection."""
    return (
        f"connection {name} is paused: synced because you asked; the scheduler leaves it "
        f"alone until `ml-connector connection resume {name}`"
    )


def schedule_text(doc: Mapping[str, Any]) -> str:
    """A connection's schedule in a line: ``*/15 6-20 * * 1-5 (Europe/Berlin), paused``."""
    text = doc["schedule"] or "manual"
    if doc["schedule"] and doc.get("timezone", "UTC") != "UTC":
        text += f" ({doc['timezone']})"
    return text + (", paused" if doc.get("paused") else "")


def connection_list_table(docs: Sequence[Mapping[str, Any]]) -> RenderableType:
    if not docs:
        return Text("No connections yet. Add one with `ml-connector connection add NAME ...`.")
    return table(
        "Connections",
        ["name", "Cin7 account", "QAD tenant", "domain/entity", "schedule", "health"],
        (
            [
                d["name"],
                d["cin7_account_id"],
                d["qad_url"],
                f"{d['qad_domain']}/{d['qad_entity']}",
                schedule_text(d),
                "ok" if d["healthy"] else f"unhealthy: {d['health_message'] or ''}",
            ]
            for d in docs
        ),
    )


def connection_table(doc: Mapping[str, Any]) -> RenderableType:
    labels = [
        ("name", "name"),
        ("cin7_account_id", "Cin7 account ID"),
        ("cin7_application_key", "Cin7 application key"),
        ("cin7_base_url", "Cin7 API base URL"),
        ("qad_url", "QAD tenant URL"),
        ("qad_client_id", "QAD client ID"),
        ("qad_username", "QAD username"),
        ("qad_password", "QAD password"),
        ("qad_domain", "QAD domain"),
        ("qad_entity", "QAD entity"),
        ("qad_site", "QAD default site"),
        ("qad_supplier_shared_set", "QAD supplier shared set"),
        ("qad_daybook", "QAD daybook"),
        ("qad_profile", "QAD tenant profile"),
        ("qad_channels", "QAD channels"),
        ("allow_local", "local targets allowed"),
        ("schedule", "schedule"),
        ("timezone", "time zone"),
        ("paused", "paused"),
        ("options", "options"),
        ("since", "cut-over date"),
        ("adopt_existing", "adopt documents keyed in QAD"),
        ("healthy", "healthy"),
        ("health_message", "health message"),
        ("created_at", "created"),
    ]
    rows = []
    for key, label in labels:
        value = doc.get(key)
        if key == "options":
            value = ", ".join(f"{k}={v}" for k, v in sorted(value.items())) if value else ""
        elif key == "qad_channels" and value:
            value = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in value.items())
        elif isinstance(value, datetime):
            value = _when(value)
        elif isinstance(value, bool):
            value = "yes" if value else "no"
        rows.append([label, "" if value is None else value])
    return table(f"Connection {doc['name']}", ["setting", "value"], rows)


def test_doc(result: ConnectionTest) -> dict[str, Any]:
    return {
        "connection": result.connection,
        "ok": result.ok,
        "verdicts": [
            {
                "system": v.system,
                "ok": v.ok,
                "problem": v.problem or None,
                "message": v.message,
            }
            for v in result.verdicts
        ],
    }


def test_lines(doc: Mapping[str, Any]) -> list[str]:
    """One plain line per side: which system, ok or what is wrong, and the detail."""
    lines = []
    for v in doc["verdicts"]:
        system = _SYSTEM_NAMES.get(v["system"], v["system"])
        if v["ok"]:
            lines.append(f"{system:<10} ok      {v['message']}")
        else:
            label = _PROBLEM_LABELS.get(v["problem"] or "other", v["problem"])
            lines.append(f"{system:<10} FAILED  {label}: {v['message']}")
    return lines


# --- mappings ---------------------------------------------------------------------------------


def mappings_doc(result: MappingList) -> dict[str, Any]:
    return {
        "connection": result.connection,
        "mappings": [
            {
                "kind": m.kind,
                "cin7_value": m.cin7_value,
                "qad_value": m.qad_value,
                "source": m.source,
                "confidence": m.confidence,
            }
            for m in result.mappings
        ],
    }


def mappings_table(doc: Mapping[str, Any]) -> RenderableType:
    rows = doc["mappings"]
    if not rows:
        return Text("No mappings. Try `ml-connector mapping suggest NAME --apply`.")
    return table(
        f"Mappings of {doc['connection']}",
        ["kind", "Cin7 value", "QAD value", "source", ("confidence", "right")],
        ([r["kind"], r["cin7_value"], r["qad_value"], r["source"], r["confidence"]] for r in rows),
        caption=_plural(len(rows), "mapping"),
    )


def suggest_doc(result: Suggestions) -> dict[str, Any]:
    """Per kind: what matched and by which rule, what was already mapped, what stays unmatched."""
    kinds: dict[str, Any] = {}
    for kind, report in result.reports.items():
        by_rule = {"exact": 0, "code": 0, "name": 0}
        for s in report.suggestions:
            by_rule[s.source] = by_rule.get(s.source, 0) + 1
        kinds[kind] = {
            "matched": len(report.suggestions),
            "by_rule": by_rule,
            "already_mapped": len(report.kept),
            "suggestions": [
                {
                    "cin7_value": s.cin7_value,
                    "cin7_name": s.cin7_name,
                    "qad_value": s.qad_value,
                    "qad_name": s.qad_name,
                    "rule": s.source,
                    "confidence": s.confidence,
                }
                for s in report.suggestions
            ],
            "unmatched": [
                {
                    "cin7_value": ref.value,
                    "name": ref.name,
                    "active": ref.active,
                }
                for ref in report.unmatched
            ],
            "ambiguous": [
                {"cin7_value": ref.value, "name": ref.name, "candidates": [q.code for q in cands]}
                for ref, cands in report.ambiguous
            ],
            "stale": [{"cin7_value": s.cin7_value, "qad_value": s.qad_value} for s in report.stale],
        }
    return {"connection": result.connection, "applied": result.applied, "kinds": kinds}


def suggest_tables(doc: Mapping[str, Any]) -> list[RenderableType]:
    kinds: Mapping[str, Any] = doc["kinds"]
    summary = table(
        f"Mapping suggestions for {doc['connection']}"
        + (" (applied)" if doc["applied"] else " (not applied; rerun with --apply to store)"),
        [
            "kind",
            ("matched", "right"),
            ("exact", "right"),
            ("code", "right"),
            ("name", "right"),
            ("already mapped", "right"),
            ("ambiguous", "right"),
            ("unmatched", "right"),
        ],
        (
            [
                kind,
                k["matched"],
                k["by_rule"].get("exact", 0),
                k["by_rule"].get("code", 0),
                k["by_rule"].get("name", 0),
                k["already_mapped"],
                len(k["ambiguous"]),
                len(k["unmatched"]),
            ]
            for kind, k in kinds.items()
        ),
    )
    out: list[RenderableType] = [summary]
    name = doc["connection"]
    for kind, k in kinds.items():
        if not (k["unmatched"] or k["ambiguous"] or k["stale"]):
            continue
        rows: list[list[str]] = []
        for u in k["unmatched"]:
            if not u["active"]:
                what = "inactive in Cin7"
            elif kind == "supplier":
                what = "will be created in QAD"
            else:
                what = "unmatched"
            label = f"{u['name']} ({u['cin7_value']})" if u["name"] != u["cin7_value"] else ""
            rows.append([label or u["cin7_value"], what])
        for a in k["ambiguous"]:
            rows.append([a["cin7_value"], "ambiguous: " + ", ".join(a["candidates"])])
        for s in k["stale"]:
            rows.append([s["cin7_value"], f"mapped to {s['qad_value']}, missing in QAD"])
        out.append(table(f"{kind}: needs attention", ["Cin7 value", "why"], rows))
        if kind == "supplier":
            hint = (
                "Suppliers without a mapping are created in QAD when first used; to use an "
                f"existing QAD supplier instead: ml-connector mapping set {name} supplier "
                "<Cin7 SupplierID> <QAD code>"
            )
        else:
            hint = (
                "Documents using these are blocked until mapped: "
                f"ml-connector mapping set {name} {kind} <Cin7 value> <QAD code>"
            )
        out.append(Text(hint + "\n"))
    return out


# --- runs -------------------------------------------------------------------------------------


# A dry run's lists besides what would post: (JSON name, Preview attribute).
_PREVIEW_LISTS = (
    ("hold", "hold"),
    ("block", "block"),
    ("skip", "skip"),
    ("attention", "attention"),
    ("fail", "fail"),
)
_PREVIEW_TITLES = {
    "hold": "Would hold (invoice waits for its goods receipt in QAD)",
    "block": "Would block (map these, then replay)",
    "skip": "Would skip (drafts, voids, nothing authorised)",
    "attention": "Would need attention",
    "fail": "Would fail (bad input)",
}


def run_doc(result: PassResult) -> dict[str, Any]:
    """A pass's document; a replay adds where each chosen record stands now."""
    report = result.report
    doc: dict[str, Any] = {
        "connection": result.connection,
        "kind": result.kind,
        "run_id": report.run_id,
        "status": report.status,
        "error": report.error,
        "elapsed_s": round(result.elapsed_s, 2),
        "audit_head": str(result.head),
        "counters": asdict(report.counters),
        "would_post": [{"reference": ref, "action": what} for ref, what in report.would_post],
    }
    preview = report.preview
    if preview is not None:
        for name, pairs in _PREVIEW_LISTS:
            doc[f"would_{name}"] = [
                {"reference": ref, "reason": why} for ref, why in getattr(preview, pairs)
            ]
        doc["would"] = {
            "post": len(preview.post),
            **{name: len(getattr(preview, pairs)) for name, pairs in _PREVIEW_LISTS},
        }
    if result.kind == "replay":
        doc["outcomes"] = [
            {"reference": o.reference, "status": o.status, "reason": o.reason}
            for o in result.outcomes
        ]
    return doc


def run_tables(doc: Mapping[str, Any]) -> list[RenderableType]:
    c = doc["counters"]
    rows = [
        ("suppliers created", c["suppliers_created"]),
        ("purchase orders", c["purchase_orders"]),
        ("purchase order updates", c["purchase_order_updates"]),
        ("receipts", c["receipts"]),
        ("invoices", c["invoices"]),
        ("credit notes", c["credit_notes"]),
        ("adopted from QAD", c.get("adopted", 0)),
        ("held", c["held"]),
        ("released", c["released"]),
        ("blocked", c["blocked"]),
        ("failed", c["failed"]),
        ("waiting", c["waiting"]),
        ("needs attention", c["attention"]),
        ("before cut-over", c.get("before_cutover", 0)),
        ("go-live worklist", c.get("go_live", 0)),
        ("retry next run", c["retry_later"]),
        ("Cin7 calls", c["cin7_calls"]),
        ("QAD calls", c["qad_calls"]),
        ("elapsed", f"{doc['elapsed_s']:.1f} s"),
    ]
    title = {"sync": "Sync", "dry-run": "Dry run", "replay": "Replay"}.get(doc["kind"], "Run")
    out: list[RenderableType] = []
    if doc["kind"] == "dry-run":
        would = doc["would_post"]
        if would:
            out.append(
                table(
                    "Would post (nothing was posted, no cursor moved)",
                    ["reference", "action"],
                    ([w["reference"], w["action"]] for w in would),
                )
            )
        else:
            out.append(Text("Nothing to post."))
        for name, _ in _PREVIEW_LISTS:
            listed = doc.get(f"would_{name}") or []
            if listed:
                out.append(
                    table(
                        _PREVIEW_TITLES[name],
                        ["reference", "why"],
                        ([r["reference"], r["reason"]] for r in listed),
                    )
                )
        would = doc.get("would")
        if would:
            out.append(
                Text(
                    "Dry run: "
                    + ", ".join(f"{would[k]} {k}" for k in ("post", *_PREVIEW_TITLES))
                    + " (nothing was posted, no cursor moved)"
                )
            )
    out.append(
        table(
            f"{title} of {doc['connection']} (run {doc['run_id']}, {doc['status']})",
            ["", ("count", "right")],
            rows,
        )
    )
    out.append(Text(f"Audit head: {doc['audit_head']} (keep it; see `audit head`)"))
    outcomes = doc.get("outcomes")
    if outcomes:
        out.insert(
            0,
            table(
                "Replayed",
                ["reference", "status now", "reason"],
                ([o["reference"], o["status"], o["reason"] or ""] for o in outcomes),
            ),
        )
    if doc["error"]:
        out.append(Text(f"The run stopped: {doc['error']}"))
    return out


# --- records, holds, reconcile ----------------------------------------------------------------


def _record_doc(record: Record, now: datetime) -> dict[str, Any]:
    return {
        "reference": record.reference,
        "key": record.key,
        "kind": record.kind,
        "cin7_id": record.cin7_id,
        "status": record.status,
        "reason": record.reason,
        "supplier_id": record.supplier_id,
        "month": record.month,
        "status_since": record.status_since,
        "age_s": int((now - record.status_since).total_seconds()),
        "latest_version": record.latest_version,
        "posted_version": record.posted_version,
    }


def records_doc(result: RecordList) -> dict[str, Any]:
    return {
        "connection": result.connection,
        "kind": result.kind,
        "status": result.status,
        "truncated": result.truncated,
        "records": [_record_doc(r, result.now) for r in result.records],
    }


def records_tables(doc: Mapping[str, Any]) -> RenderableType:
    rows = doc["records"]
    if not rows:
        which = f" {doc['status']}" if doc["status"] else ""
        return Text(f"No{which} {doc['kind']} records.")
    caption = _plural(len(rows), "record")
    if doc["truncated"]:
        caption += " (more exist; raise --limit)"
    return table(
        f"Records of {doc['connection']}",
        ["reference", "status", "since (UTC)", "reason"],
        ([r["reference"], r["status"], _when(r["status_since"]), r["reason"] or ""] for r in rows),
        caption=caption,
    )


def holds_doc(result: Holds) -> dict[str, Any]:
    now = result.now
    return {
        "connection": result.connection,
        "holds": [
            {
                "reference": r.reference,
                "supplier_id": r.supplier_id,
                "since": r.status_since,
                "age_s": int((now - r.status_since).total_seconds()),
                "age": format_age((now - r.status_since).total_seconds()),
                "reason": r.reason,
            }
            for r in result.records
        ],
    }


def golive_doc(result: GoLiveWorklist) -> dict[str, Any]:
    return {
        "connection": result.connection,
        "cutover": result.cutover.isoformat() if result.cutover else None,
        "worklist": [
            {
                "reference": e.reference,
                "supplier_id": e.supplier_id,
                "since": e.since,
                "reason": e.reason,
                "would_post": list(e.would_post),
            }
            for e in result.entries
        ],
    }


def golive_tables(doc: Mapping[str, Any]) -> RenderableType:
    rows = doc["worklist"]
    if not rows:
        return Text("The go-live worklist is empty.")
    return table(
        f"Go-live worklist of {doc['connection']} (cut-over {doc['cutover']})",
        ["reference", "why", "would post"],
        ([r["reference"], r["reason"] or "", "\n".join(r["would_post"])] for r in rows),
        caption=(
            f"{len(rows)} waiting; nothing is posted until "
            f"`ml-connector golive {doc['connection']} --post REF` (or --all)"
        ),
    )


def holds_tables(doc: Mapping[str, Any]) -> RenderableType:
    rows = doc["holds"]
    if not rows:
        return Text("No invoices are held.")
    return table(
        f"Held invoices of {doc['connection']}",
        ["reference", ("age", "right"), "what is missing"],
        ([h["reference"], h["age"], h["reason"] or ""] for h in rows),
        caption=f"{len(rows)} held; they post once QAD holds the goods receipt",
    )


# --- status, runs -----------------------------------------------------------------------------


def status_table(doc: Mapping[str, Any]) -> RenderableType:
    """`ml-connector status`: one line per connection, from `overview_doc` documents."""
    lines = doc["connections"]
    if not lines:
        return Text("No connections yet: add one with `ml-connector connection add`.")
    now = datetime.fromisoformat(doc["now"])

    def last(line: Mapping[str, Any]) -> str:
        run = line["last_run"]
        return f"{_iso_when(run['started_at'])} {run['status']}" if run else "never"

    def hold(line: Mapping[str, Any]) -> str:
        age = line["oldest_hold_age_s"]
        return format_age(age) if age is not None else ""

    def next_run(line: Mapping[str, Any]) -> str:
        at = line["next_run_at"]
        if at is None:
            return str(line["next_run_note"])
        due = datetime.fromisoformat(at)
        return "due now" if due <= now else zoned_text(due, line["timezone"])

    return table(
        "Connections",
        [
            "connection",
            "health",
            "last run",
            "next run",
            ("pending", "right"),
            ("held", "right"),
            ("blocked", "right"),
            ("failed", "right"),
            ("attention", "right"),
            ("oldest hold", "right"),
            ("Cin7 budget 1h", "right"),
        ],
        (
            [
                line["name"],
                line["health"] + (f": {line['health_message']}" if line["health_message"] else ""),
                last(line),
                next_run(line),
                line["counts"]["pending"],
                line["counts"]["held"],
                line["counts"]["blocked"],
                line["counts"]["failed"],
                line["counts"]["attention"],
                hold(line),
                f"{line['cin7_budget_used']:.0%}",
            ]
            for line in lines
        ),
    )


def runs_table(doc: Mapping[str, Any]) -> RenderableType:
    """`ml-connector runs NAME`: a connection's passes, newest first (`history_doc`)."""
    runs = doc["runs"]
    if not runs:
        return Text(f"{doc['connection']} has not run yet.")

    def posted(counters: Mapping[str, Any]) -> int:
        keys = ("purchase_orders", "receipts", "invoices", "credit_notes", "suppliers_created")
        return sum(int(counters.get(k, 0) or 0) for k in keys)

    def calls(counters: Mapping[str, Any]) -> str:
        return f"{counters.get('cin7_calls', 0)} / {counters.get('qad_calls', 0)}"

    return table(
        f"Runs of {doc['connection']}",
        [
            ("run", "right"),
            "kind",
            "started",
            ("duration", "right"),
            "status",
            ("posted", "right"),
            ("held", "right"),
            ("blocked", "right"),
            ("failed", "right"),
            ("calls Cin7 / QAD", "right"),
            "why it stopped",
        ],
        (
            [
                r["id"],
                r["kind"],
                _iso_when(r["started_at"]),
                f"{r['duration_s']:.1f} s" if r["duration_s"] is not None else "",
                r["status"],
                posted(r["counters"]),
                r["counters"].get("held", 0),
                r["counters"].get("blocked", 0),
                r["counters"].get("failed", 0),
                calls(r["counters"]),
                r["stopped_because"],
            ]
            for r in runs
        ),
    )


def _iso_when(value: str) -> str:
    return _when(datetime.fromisoformat(value))


_MEASURES = ("invoiced", "credited", "posted", "held", "received")


def reconcile_doc(result: Reconciliation) -> dict[str, Any]:
    """Per supplier and currency, plus a totals row per currency (currencies are never added)."""
    lines = result.lines
    totals: dict[str, dict[str, Any]] = {}
    for line in lines:
        total = totals.setdefault(
            line.currency,
            {"currency": line.currency, "records": 0, **{m: Decimal(0) for m in _MEASURES}},
        )
        total["records"] += line.records
        for m in _MEASURES:
            total[m] += getattr(line, m)
    ordered = sorted(
        lines, key=lambda ln: ((ln.supplier_name or ln.supplier_id or "").casefold(), ln.currency)
    )
    return {
        "connection": result.connection,
        "month": result.month,
        "lines": [
            {
                "supplier_id": line.supplier_id,
                "supplier": line.supplier_name or line.supplier_id or "(no supplier)",
                "currency": line.currency,
                "invoiced": line.invoiced,
                "credited": line.credited,
                "posted": line.posted,
                "held": line.held,
                "received": line.received,
                "records": line.records,
                "statuses": dict(line.statuses),
            }
            for line in ordered
        ],
        "totals": [totals[c] for c in sorted(totals)],
    }


def _money(value: Decimal, currency: str = "") -> str:
    """An amount with the currency's decimals, rounded by the shared money rule (half up)."""
    return format(HALF_UP.round(value, currency), ",")


def reconcile_tables(doc: Mapping[str, Any]) -> RenderableType:
    lines = doc["lines"]
    period = doc["month"] or "all months"
    if not lines:
        return Text(f"No purchases for {period}.")
    grid = table(
        f"Reconcile {doc['connection']} ({period})",
        [
            "supplier",
            "currency",
            ("invoiced in Cin7", "right"),
            ("credited in Cin7", "right"),
            ("posted to QAD", "right"),
            ("held", "right"),
            ("received value", "right"),
            ("records", "right"),
        ],
        (
            [
                line["supplier"],
                line["currency"],
                *(_money(line[m], line["currency"]) for m in _MEASURES),
                line["records"],
            ]
            for line in lines
        ),
    )
    grid.add_section()
    for total in doc["totals"]:
        grid.add_row(
            "TOTAL",
            total["currency"],
            *(_money(total[m], total["currency"]) for m in _MEASURES),
            str(total["records"]),
            style="bold",
        )
    return grid


def reconcile_accounts_doc(result: AccountReconciliation) -> dict[str, Any]:
    """Per GL account and currency: invoiced, credited, net; a totals row per currency."""
    totals: dict[str, dict[str, Any]] = {}
    for line in result.lines:
        total = totals.setdefault(
            line.currency,
            {"currency": line.currency, "invoiced": Decimal(0), "credited": Decimal(0)},
        )
        total["invoiced"] += line.invoiced
        total["credited"] += line.credited
    for total in totals.values():
        total["net"] = total["invoiced"] - total["credited"]
    return {
        "connection": result.connection,
        "month": result.month,
        "accounts": [
            {
                "account": line.account,
                "currency": line.currency,
                "invoiced": line.invoiced,
                "credited": line.credited,
                "net": line.net,
            }
            for line in result.lines
        ],
        "totals": [totals[c] for c in sorted(totals)],
    }


def reconcile_accounts_table(doc: Mapping[str, Any]) -> RenderableType:
    rows = doc["accounts"]
    period = doc["month"] or "all months"
    if not rows:
        return Text(f"No invoices in QAD for {period}.")
    measures = ("invoiced", "credited", "net")
    grid = table(
        f"Posted to QAD by GL account, {doc['connection']} ({period})",
        [
            "GL account",
            "currency",
            ("invoices", "right"),
            ("credit notes", "right"),
            ("net", "right"),
        ],
        (
            [row["account"], row["currency"], *(_money(row[m], row["currency"]) for m in measures)]
            for row in rows
        ),
        caption="(item account): QAD did not report the account of a stock line",
    )
    grid.add_section()
    for total in doc["totals"]:
        grid.add_row(
            "TOTAL",
            total["currency"],
            *(_money(total[m], total["currency"]) for m in measures),
            style="bold",
        )
    return grid


def reconcile_invoices_doc(result: InvoiceReconciliation) -> dict[str, Any]:
    """Each invoice and credit note QAD holds, and whether QAD reports it matched."""
    return {
        "connection": result.connection,
        "month": result.month,
        "invoices": [
            {
                "purchase": row.order_number,
                "type": "credit note" if row.kind == "credit_note" else "invoice",
                "reference": row.reference,
                "supplier": row.supplier_code,
                "po": row.po_number or None,
                "voucher": row.voucher,
                "currency": row.currency,
                "amount": row.amount,
                "status": row.status_code or None,
                "matching": row.matching_status or None,
                "matched": row.matched,
            }
            for row in result.invoices
        ],
        "unmatched": sum(not row.matched for row in result.invoices),
    }


def reconcile_invoices_table(doc: Mapping[str, Any]) -> RenderableType:
    rows = doc["invoices"]
    period = doc["month"] or "all months"
    if not rows:
        return Text(f"No invoices in QAD for {period}.")
    return table(
        f"Invoices in QAD, {doc['connection']} ({period})",
        [
            "purchase",
            "type",
            "reference",
            "supplier",
            "PO",
            ("voucher", "right"),
            ("amount", "right"),
            "currency",
            "QAD status",
            "matched",
        ],
        (
            [
                row["purchase"],
                row["type"],
                row["reference"],
                row["supplier"],
                row["po"] or "(none)",
                row["voucher"],
                _money(row["amount"], row["currency"]),
                row["currency"],
                row["status"] or "",
                "yes" if row["matched"] else (row["matching"] or "not known yet"),
            ]
            for row in rows
        ),
        caption=(
            f"{doc['unmatched']} not matched yet: QAD's receiver matching finishes them "
            "(each sync re-reads them)"
            if doc["unmatched"]
            else "every invoice is matched in QAD"
        ),
    )


# --- audit ------------------------------------------------------------------------------------


def audit_doc(result: AuditTrail) -> dict[str, Any]:
    record = result.record
    return {
        "connection": result.connection,
        "record": result.key,
        "status": record.status if record else None,
        "reason": record.reason if record else None,
        "events": [
            {
                "seq": e.seq,
                "at": e.at,
                "event": e.event,
                "actor": e.actor,
                "data": e.data,
                "hash": e.hash,
                "prev_hash": e.prev_hash,
            }
            for e in result.events
        ],
    }


def _summary(data: Any) -> str:
    if not isinstance(data, Mapping) or not data:
        return "" if data in (None, {}, []) else str(data)
    parts = []
    for key, value in data.items():
        if value is None or value in ("", [], {}):
            continue
        if isinstance(value, list):
            value = "; ".join(str(v) for v in value)
        parts.append(f"{key}={value}")
    return ", ".join(parts)


def audit_tables(doc: Mapping[str, Any]) -> RenderableType:
    events = doc["events"]
    status = f" ({doc['status']})" if doc["status"] else ""
    grid = table(
        f"Audit trail of {doc['record']}{status}",
        [("#", "right"), "at (UTC)", "event", "actor", "details", "hash"],
        (
            [e["seq"], _when(e["at"]), e["event"], e["actor"], _summary(e["data"]), e["hash"][:12]]
            for e in events
        ),
        caption=f"{_plural(len(events), 'event')}, each chained to the previous by hash",
    )
    if doc["reason"]:
        return Group(grid, Text(f"Reason: {doc['reason']}"))
    return grid


def head_doc(result: HeadReport) -> dict[str, Any]:
    return {
        "connection": result.connection,
        "head": str(result.head),
        "count": result.head.count,
        "link": result.head.link,
    }


def head_lines(doc: Mapping[str, Any]) -> list[str]:
    return [
        f"Audit head of {doc['connection']}: {doc['head']}",
        "Keep it where the database's writers cannot reach; "
        f"`audit verify {doc['connection']} --expect-head HEAD` then finds the newest events "
        "deleted, even with the stored head rewritten.",
    ]


def verify_doc(result: ChainCheck) -> dict[str, Any]:
    return {
        "connection": result.connection,
        "intact": result.intact,
        "head": str(result.head),
        "expected_head": None if result.expected is None else str(result.expected),
        "broken": [
            {
                "kind": b.kind,
                "event_id": b.event_id,
                "record": b.record_key,
                "seq": b.seq,
                "problem": b.problem,
            }
            for b in result.broken
        ],
    }


def verify_lines(doc: Mapping[str, Any]) -> list[str]:
    if doc["intact"]:
        against = (
            f", and it reaches the expected head {doc['expected_head']}"
            if doc["expected_head"]
            else ""
        )
        return [
            f"The audit trail of {doc['connection']} is intact: every link checks out{against}.",
            f"Head: {doc['head']}",
        ]
    lines = [f"The audit trail of {doc['connection']} is BROKEN ({len(doc['broken'])} problems):"]
    for b in doc["broken"]:
        where = []
        if b["event_id"] is not None:
            where.append(f"event {b['event_id']}")
        if b["record"]:
            where.append(b["record"] + (f" #{b['seq']}" if b["seq"] is not None else ""))
        lines.append(f"  {b['kind']} at {' '.join(where) or 'the chain'}: {b['problem']}")
    return lines


# --- demo -------------------------------------------------------------------------------------

_LISTED = 10


def _issues(title: str, issues: list[Issue]) -> RenderableType:
    shown = issues[:_LISTED]
    more = len(issues) - len(shown)
    return table(
        title,
        ["reference", "reason"],
        ([i.reference, i.reason] for i in shown),
        caption=f"… and {more} more" if more else None,
    )


def demo_tables(summary: DemoSummary) -> list[RenderableType]:
    rate = f"{summary.rate_limit} calls/min" + (
        " (raised for the demo)" if summary.rate_limit != REALISTIC_RATE_LIMIT else ""
    )
    out: list[RenderableType] = [
        table(
            f"Demo: {summary.purchases} Cin7 purchases into QAD",
            ["", ("value", "right")],
            [
                ("purchase orders posted", summary.purchase_orders),
                ("receipts posted", summary.receipts),
                ("invoices posted", summary.invoices),
                ("credit notes posted", summary.credit_notes),
                ("suppliers created in QAD", summary.suppliers_created),
                ("held after sync 1", summary.held_after_first_sync),
                ("released after receiving", summary.released),
                ("held now", len(summary.held)),
                ("blocked", len(summary.blocked)),
                ("failed", len(summary.failed)),
                ("Cin7 calls used", summary.cin7_calls),
                ("QAD calls", summary.qad_calls),
                ("QAD profile", summary.qad_profile),
                ("of which QXtend QDocs", summary.qdocs),
                ("Cin7 rate limit", rate),
                ("elapsed", f"{summary.elapsed_s:.1f} s"),
            ],
        )
    ]
    if summary.held:
        out.append(_issues("Held (waiting for goods receipts in QAD)", summary.held))
    if summary.blocked:
        out.append(_issues("Blocked (a mapping is missing)", summary.blocked))
    if summary.failed:
        out.append(_issues("Failed", summary.failed))
    if summary.home:
        out.append(Text(f"Home kept at {summary.home}"))
    return out


# --- connection fit, mapping report -------------------------------------------------------------


def fit_doc(report: FitReport) -> dict[str, Any]:
    """`{"fits", "profile", "capabilities": [{"name", "ok", "evidence", "advice"}]}`."""
    return report.to_json()


def fit_table(doc: Mapping[str, Any]) -> RenderableType:
    verdict = "fits" if doc["fits"] else "does not fit"
    return table(
        f"Profile {doc['profile']}: the tenant {verdict}",
        ["capability", "ok", "evidence", "advice"],
        (
            (c["name"], "yes" if c["ok"] else "NO", c["evidence"], c["advice"])
            for c in doc["capabilities"]
        ),
    )


def alignment_doc(result: AlignmentReport) -> dict[str, Any]:
    """`{"cin7_only": {kind: [values]}, "qad_only": {kind: [values]}}`."""
    return result.alignment.to_json()


def alignment_tables(doc: Mapping[str, Any]) -> list[RenderableType]:
    shown: list[RenderableType] = []
    for side, title in (("cin7_only", "In Cin7, not in QAD"), ("qad_only", "In QAD, not in Cin7")):
        rows = [(kind, len(values), ", ".join(values)) for kind, values in doc[side].items()]
        shown.append(table(title, ["kind", ("count", "right"), "values"], rows))
    return shown


def alignment_csv(result: AlignmentReport) -> str:
    """`side,kind,value` rows with a header, for a spreadsheet."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(("side", "kind", "value"))
    writer.writerows(result.alignment.csv_rows())
    return out.getvalue()
