"""`sync`, then the read commands on what it did: `records`, `holds`, `reconcile`, `audit`."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

from cli_helpers import Cli, Sandboxes

from ml_connector.settings import load_settings
from ml_connector.store.sql import SqlStore
from ml_connector.vault import Vault

Synced = tuple[Cli, Sandboxes, dict[str, Any]]


def test_sync_counts_match_qad_and_exit_code_reports_blocked(synced: Synced) -> None:
    cli, boxes, doc = synced
    counters = doc["counters"]
    assert doc["status"] == "succeeded"
    assert doc["kind"] == "sync"
    qad = boxes.qad_counts()
    assert counters["purchase_orders"] == qad["purchase_orders"] > 0
    assert counters["receipts"] == qad["receipts"]
    assert counters["invoices"] + counters["credit_notes"] == qad["supplier_invoices"]
    assert counters["suppliers_created"] == qad["suppliers"]
    assert counters["cin7_calls"] > 0
    # the seeded data holds unmapped items and locations, so some purchases are blocked
    assert counters["blocked"] > 0

    again = cli("sync", "acme")
    assert again.exit_code == 1
    assert "blocked" in again.stdout
    assert "Cin7 calls" in again.stdout
    # The first pass's head; the second pass appended to it and prints where it ends now.
    head = cli.json("audit", "head", "acme")["head"]
    assert f"Audit head: {head}" in again.stdout
    assert int(head.split(":")[0]) >= int(doc["audit_head"].split(":")[0])
    assert boxes.qad_counts() == qad  # nothing posted twice


def test_records_json_shape_filters_and_limit(synced: Synced) -> None:
    cli, _, doc = synced
    everything = cli.json("records", "acme", "--limit", "0")
    assert everything["kind"] == "purchase"
    assert everything["truncated"] is False
    # of the 40 purchases, drafts and voids never posted are not fetched: no record
    assert doc["counters"]["not_fetched"] > 0
    assert len(everything["records"]) == 40 - doc["counters"]["not_fetched"]
    first = everything["records"][0]
    assert set(first) >= {"reference", "status", "reason", "status_since", "age_s", "key"}
    assert first["key"] == f"purchase:{first['reference']}"

    blocked = cli.json("records", "acme", "--status", "blocked")["records"]
    assert blocked
    assert all(r["status"] == "blocked" for r in blocked)
    assert all(r["reason"].startswith("missing ") for r in blocked)

    few = cli.json("records", "acme", "--limit", "3")
    assert len(few["records"]) == 3
    assert few["truncated"] is True
    assert "raise --limit" in cli.ok("records", "acme", "--limit", "3").stdout

    suppliers = cli.json("records", "acme", "--kind", "supplier", "--limit", "0")["records"]
    assert suppliers
    assert all(r["kind"] == "supplier" for r in suppliers)

    assert cli("records", "acme", "--status", "nonsense").exit_code == 2


def test_holds_show_age_and_what_is_missing(synced: Synced) -> None:
    cli, _, _ = synced
    holds = cli.json("holds", "acme")["holds"]
    held = cli.json("records", "acme", "--status", "held")["records"]
    assert [h["reference"] for h in holds] == [r["reference"] for r in held]
    assert holds, "the seeded data has invoice-first purchases waiting for receipts"
    for hold in holds:
        assert hold["age_s"] >= 0
        assert "received in QAD" in hold["reason"]
    table = cli.ok("holds", "acme").stdout
    assert holds[0]["reference"] in table
    assert "what is missing" in table


def test_reconcile_lines_and_totals(synced: Synced) -> None:
    cli, _, synced_doc = synced
    fetched = 40 - synced_doc["counters"]["not_fetched"]
    doc = cli.json("reconcile", "acme")
    assert doc["month"] is None
    lines = doc["lines"]
    assert lines
    for line in lines:
        assert set(line) >= {
            "supplier",
            "currency",
            "invoiced",
            "credited",
            "posted",
            "held",
            "received",
        }
        assert Decimal(line["invoiced"]) >= 0
    for total in doc["totals"]:
        mine = [ln for ln in lines if ln["currency"] == total["currency"]]
        for measure in ("invoiced", "credited", "posted", "held", "received"):
            assert Decimal(total[measure]) == sum(Decimal(ln[measure]) for ln in mine)
    assert sum(t["records"] for t in doc["totals"]) == fetched
    assert "TOTAL" in cli.ok("reconcile", "acme").stdout

    month = cli.json("records", "acme", "--limit", "1")["records"][0]["month"]
    assert month
    monthly = cli.json("reconcile", "acme", "--month", month)
    assert monthly["month"] == month
    assert 0 < sum(t["records"] for t in monthly["totals"]) <= 40

    bad = cli("reconcile", "acme", "--month", "May-2024")
    assert bad.exit_code == 2
    assert "2024-05" in bad.stderr


def test_reconcile_by_account_and_by_invoice(synced: Synced) -> None:
    cli, boxes, _ = synced
    by_supplier = cli.json("reconcile", "acme")
    accounts = cli.json("reconcile", "acme", "--by", "account")
    invoices = cli.json("reconcile", "acme", "--by", "invoice")

    assert {"630", "631"} & {row["account"] for row in accounts["accounts"]}  # item accounts
    assert "(item account)" not in {row["account"] for row in accounts["accounts"]}
    for total in accounts["totals"]:
        mine = [r for r in accounts["accounts"] if r["currency"] == total["currency"]]
        assert Decimal(total["net"]) == sum(Decimal(r["net"]) for r in mine)
        posted = sum(
            Decimal(ln["posted"])
            for ln in by_supplier["lines"]
            if ln["currency"] == total["currency"]
        )
        count = sum(1 for i in invoices["invoices"] if i["currency"] == total["currency"])
        assert abs(Decimal(total["net"]) - posted) <= Decimal("0.01") * (count + len(mine))
    rows = invoices["invoices"]
    assert len(rows) == boxes.qad_counts()["supplier_invoices"]
    assert all(row["status"] == "AP-INITIAL" and row["matched"] for row in rows)
    assert invoices["unmatched"] == 0
    assert (
        "every invoice is matched in QAD" in cli.ok("reconcile", "acme", "--by", "invoice").stdout
    )
    assert "GL account" in cli.ok("reconcile", "acme", "--by", "account").stdout
    assert cli("reconcile", "acme", "--by", "item").exit_code == 2


def test_audit_trail_in_both_reference_forms_and_verify(synced: Synced) -> None:
    cli, _, _ = synced
    posted = cli.json("records", "acme", "--status", "posted")["records"][0]["reference"]
    trail = cli.json("audit", "acme", posted)
    assert trail["record"] == f"purchase:{posted}"
    assert trail["status"] == "posted"
    events = [e["event"] for e in trail["events"]]
    assert events[:2] == ["status", "fetched"]  # created pending, then its first snapshot
    assert trail["events"][0]["data"]["to"] == "pending"
    statuses = [e["data"]["to"] for e in trail["events"] if e["event"] == "status"]
    assert statuses[-1] == "posted"
    assert "intent" in events
    assert "posted" in events
    for before, after in zip(trail["events"], trail["events"][1:], strict=False):
        assert after["seq"] == before["seq"] + 1
    assert cli.json("audit", "acme", f"purchase:{posted}")["events"] == trail["events"]
    assert posted in cli.ok("audit", "acme", posted).stdout

    ok = cli.ok("audit", "verify", "acme")
    assert "intact" in ok.stdout
    head = cli.json("audit", "head", "acme")["head"]
    assert cli.json("audit", "verify", "acme") == {
        "connection": "acme",
        "intact": True,
        "head": head,
        "expected_head": None,
        "broken": [],
    }
    assert cli.json("audit", "acme", "--verify")["intact"] is True

    missing = cli("audit", "acme", "PO-99999")
    assert missing.exit_code == 2
    assert "no record" in missing.stderr


def test_dry_run_posts_nothing_and_moves_no_cursor(connected: Cli, sandboxes: Sandboxes) -> None:
    doc = connected.json("sync", "acme", "--dry-run")
    assert doc["kind"] == "dry-run"
    assert doc["would_post"], "a first dry run has everything to do"
    assert {"reference", "action"} == set(doc["would_post"][0])
    assert any(w["action"].startswith("create PO") for w in doc["would_post"])
    assert sandboxes.qad_counts() == {
        "purchase_orders": 0,
        "receipts": 0,
        "supplier_invoices": 0,
        "suppliers": 0,
    }
    shown = connected.ok("sync", "acme", "--dry-run").stdout
    assert "Would post" in shown
    assert "Dry run:" in shown

    # one row per supplier to create, however many of its POs the pass would post
    suppliers = [w for w in doc["would_post"] if w["action"].startswith("create supplier")]
    assert suppliers
    assert len({w["action"] for w in suppliers}) == len(suppliers)
    pos = [w for w in doc["would_post"] if w["action"].startswith("create PO")]
    assert len(pos) > len(suppliers)

    # what would be held, blocked and skipped is listed and counted, not only what would post
    assert doc["would_block"], "the seeded data has unmapped items and locations"
    assert all(b["reason"].startswith("missing ") for b in doc["would_block"])
    assert doc["would_skip"], "the seeded data has drafts and voids"
    would = doc["would"]
    assert would["post"] == len(doc["would_post"])
    for name in ("hold", "block", "skip", "attention", "fail"):
        assert would[name] == len(doc[f"would_{name}"])
    everything = {w["reference"] for w in doc["would_post"]}
    for name in ("hold", "block", "skip", "attention", "fail"):
        everything |= {w["reference"] for w in doc[f"would_{name}"]}
    # drafts and voids never posted are skipped without a detail call, and listed as skipped
    assert len(everything) == doc["counters"]["purchases_fetched"] + doc["counters"]["not_fetched"]

    async def cursors() -> list[object]:
        settings = load_settings({"ML_CONNECTOR_HOME": str(connected.home)})
        store = await SqlStore.open(settings.database_url, Vault.from_settings(settings))
        try:
            cid = await store.connection_id("acme")
            return [await store.get_cursor(cid, s) for s in ("purchases", "suppliers")]
        finally:
            await store.close()

    assert asyncio.run(cursors()) == [None, None]

    # the real sync afterwards posts what the dry run listed
    real = connected.json("sync", "acme", expect=1)
    assert real["counters"]["purchase_orders"] == sandboxes.qad_counts()["purchase_orders"] > 0
    assert all(cursor is not None for cursor in asyncio.run(cursors()))


def test_sync_with_refused_credentials_exits_3(cli: Cli, sandboxes: Sandboxes) -> None:
    cli.ok("connection", "add", *sandboxes.add_args("acme", **{"--cin7-application-key": "nope"}))
    result = cli("sync", "acme")
    assert result.exit_code == 3
    assert "error: the run stopped" in result.stderr
    assert "403" in result.stderr
    assert sandboxes.qad_counts()["purchase_orders"] == 0
    assert cli.json("connection", "show", "acme")["healthy"] is False


def test_status_lists_the_connection_with_counts_and_exits_0(synced: Synced) -> None:
    cli, _, _ = synced
    doc = cli.json("status")
    (line,) = doc["connections"]
    assert line["name"] == "acme"
    # records are blocked after the first sync, so health says attention, yet the exit is 0
    assert line["health"] == "attention"
    assert line["counts"]["blocked"] > 0
    assert line["counts"]["needs_attention"] >= line["counts"]["blocked"]
    assert line["last_run"]["kind"] in ("sync", "replay")
    assert line["cin7_calls_last_hour"] > 0
    assert line["cin7_budget_per_hour"] > 0
    shown = cli.ok("status").stdout
    assert "acme" in shown
    assert "attention" in shown


def test_runs_lists_passes_newest_first_with_why_they_stopped(synced: Synced) -> None:
    cli, _, _ = synced
    doc = cli.json("runs", "acme", "--limit", "50")
    assert doc["connection"] == "acme"
    runs = doc["runs"]
    assert runs
    ids = [r["id"] for r in runs]
    assert ids == sorted(ids, reverse=True)
    first_sync = runs[-1]
    assert first_sync["kind"] == "sync"
    assert first_sync["status"] == "succeeded"
    assert first_sync["stopped_because"] == "finished"
    assert first_sync["counters"]["purchase_orders"] > 0
    assert first_sync["duration_s"] >= 0
    assert len(cli.json("runs", "acme", "--limit", "1")["runs"]) == 1
    shown = cli.ok("runs", "acme").stdout
    assert "Runs of acme" in shown
    assert "finished" in shown


def test_runs_of_an_unknown_connection_is_a_usage_error(synced: Synced) -> None:
    cli, _, _ = synced
    result = cli("runs", "nobody")
    assert result.exit_code == 2
    assert "nobody" in result.stderr
