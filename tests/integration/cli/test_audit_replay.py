"""Tampering shows in `audit verify`; `replay` re-runs records from snapshots without Cin7."""

from __future__ import annotations

import json
import sqlite3

from cli_helpers import Cli, Sandboxes


def _tamper(cli: Cli, sql: str) -> None:
    with sqlite3.connect(cli.database) as db:
        assert db.execute(sql).rowcount == 1


def test_tampering_fails_verification(connected: Cli) -> None:
    connected("sync", "acme")
    assert connected("audit", "verify", "acme").exit_code == 0
    with sqlite3.connect(connected.database) as db:
        event_id, actor = db.execute(
            "SELECT id, actor FROM audit_events WHERE event = 'posted' ORDER BY id LIMIT 1"
        ).fetchone()
    _tamper(connected, f"UPDATE audit_events SET actor = 'someone-else' WHERE id = {event_id}")
    result = connected("audit", "verify", "acme")
    assert result.exit_code == 1
    assert "BROKEN" in result.stdout
    assert f"event {event_id}" in result.stdout
    doc = connected.json("audit", "verify", "acme", expect=1)
    assert doc["intact"] is False
    assert event_id in {b["event_id"] for b in doc["broken"]}
    assert all(b["problem"] for b in doc["broken"])

    _tamper(connected, f"UPDATE audit_events SET actor = '{actor}' WHERE id = {event_id}")
    assert connected("audit", "verify", "acme").exit_code == 0

    _tamper(connected, "DELETE FROM audit_events WHERE id = (SELECT MAX(id) FROM audit_events)")
    assert connected.json("audit", "verify", "acme", expect=1)["intact"] is False


def test_a_status_changed_by_sql_is_named_with_its_record(connected: Cli) -> None:
    connected("sync", "acme")
    assert connected("audit", "verify", "acme").exit_code == 0
    with sqlite3.connect(connected.database) as db:
        key, status = db.execute(
            "SELECT kind || ':' || reference, status FROM records WHERE status <> 'posted' LIMIT 1"
        ).fetchone()
        db.execute(f"UPDATE records SET status = 'posted' WHERE kind || ':' || reference = '{key}'")
    doc = connected.json("audit", "verify", "acme", expect=1)
    assert [(b["kind"], b["record"]) for b in doc["broken"]] == [("status-without-event", key)]
    assert status in doc["broken"][0]["problem"]
    assert f"status-without-event at {key}:" in connected("audit", "verify", "acme").stdout


def test_a_head_kept_from_the_run_report_finds_truncation_the_stored_head_hides(
    connected: Cli,
) -> None:
    report = json.loads(connected("sync", "acme", "--json").stdout)
    shown = connected.json("audit", "head", "acme")
    assert shown["head"] == report["audit_head"] == f"{shown['count']}:{shown['link']}"
    connected.ok("connection", "pause", "acme")
    connected.ok("connection", "resume", "acme")
    kept = connected.json("audit", "head", "acme")["head"]
    assert kept in connected.ok("audit", "head", "acme").stdout
    assert f"Head: {kept}" in connected.ok("audit", "verify", "acme").stdout
    assert connected.json("audit", "verify", "acme", "--expect-head", kept)["intact"] is True
    # A head kept after the sync still verifies: the trail grew past it.
    earlier = report["audit_head"]
    assert connected.json("audit", "verify", "acme", "--expect-head", earlier)["intact"] is True

    # Delete the newest two events (pause, resume) and rewrite the stored head to match.
    with sqlite3.connect(connected.database) as db:
        newest = [row[0] for row in db.execute("SELECT id FROM audit_events ORDER BY id DESC")]
        db.execute(f"DELETE FROM audit_events WHERE id >= {newest[1]}")
        last = db.execute("SELECT hash FROM audit_events ORDER BY id DESC LIMIT 1").fetchone()[0]
        db.execute("UPDATE audit_heads SET count = count - 2, last_hash = ?", (last,))
    assert connected("audit", "verify", "acme").exit_code == 0  # the database agrees with itself
    doc = connected.json("audit", "verify", "acme", "--expect-head", kept, expect=1)
    assert [(b["kind"], b["event_id"]) for b in doc["broken"]] == [("truncated", None)]
    assert doc["expected_head"] == kept
    text = connected("audit", "verify", "acme", "--expect-head", kept)
    assert text.exit_code == 1
    assert "truncated at the chain:" in text.stdout

    bad = connected("audit", "verify", "acme", "--expect-head", "12:nothex")
    assert bad.exit_code == 2
    assert "COUNT:LINK" in bad.stderr
    assert connected("audit", "head", "acme", "--expect-head", kept).exit_code == 2


def test_replay_blocked_after_mapping_posts_them_without_cin7(
    connected: Cli, sandboxes: Sandboxes
) -> None:
    assert connected("sync", "acme").exit_code == 1
    blocked = connected.json("records", "acme", "--status", "blocked")["records"]
    assert blocked
    missing = {r["reason"] for r in blocked}
    assert missing <= {"missing item MTR-0.75KW", "missing location Production Floor"}
    before = sandboxes.qad_counts()

    nothing_yet = connected.json("replay", "acme", "--blocked", expect=1)
    assert nothing_yet["counters"]["blocked"] == len(blocked)
    assert nothing_yet["counters"]["cin7_calls"] == 0

    connected.ok("mapping", "set", "acme", "item", "MTR-0.75KW", "WID-100")
    connected.ok("mapping", "set", "acme", "location", "Production Floor", "10-300")
    cin7_calls = sandboxes.cin7.state.stats()["calls"]
    doc = connected.json("replay", "acme", "--blocked", "--actor", "ops:alice")
    assert sandboxes.cin7.state.stats()["calls"] == cin7_calls  # not one Cin7 call
    assert doc["kind"] == "replay"
    assert doc["counters"]["blocked"] == 0
    assert doc["counters"]["purchase_orders"] == len(blocked)
    assert {o["reference"] for o in doc["outcomes"]} == {r["reference"] for r in blocked}
    assert all(o["status"] != "blocked" for o in doc["outcomes"])
    after = sandboxes.qad_counts()
    assert after["purchase_orders"] == before["purchase_orders"] + len(blocked)
    assert connected.json("records", "acme", "--status", "blocked")["records"] == []

    trail = connected.json("audit", "acme", blocked[0]["reference"])["events"]
    replayed = [e for e in trail if e["event"] == "replayed"]
    assert replayed[-1]["actor"] == "ops:alice"
    assert any(e["event"] == "posted" and e["actor"] == "ops:alice" for e in trail)
    assert connected("audit", "verify", "acme").exit_code == 0


def test_replay_by_reference_failed_and_default_actor(connected: Cli) -> None:
    # A currency QAD does not know: the supplier create is refused, so its purchases fail.
    connected.ok("mapping", "set", "acme", "currency", "GBP", "ZZZ")
    connected("sync", "acme")
    reference = connected.json("records", "acme", "--status", "posted")["records"][0]["reference"]
    table = connected.ok("replay", "acme", reference).stdout
    assert reference in table
    trail = connected.json("audit", "acme", reference)["events"]
    (replayed,) = [e for e in trail if e["event"] == "replayed"]
    assert replayed["actor"].startswith("replay:")
    assert replayed["data"]["previous_status"] == "posted"

    failed = connected.json("records", "acme", "--status", "failed")["records"]
    assert failed, "the seeded data holds a GBP purchase, which QAD refuses (currency ZZZ)"
    again = connected("replay", "acme", "--failed")
    assert again.exit_code == 1  # the cause is not fixed, so it fails again
    assert failed[0]["reference"] in again.stdout

    assert connected("replay", "acme").exit_code == 2  # nothing named
    unknown = connected("replay", "acme", "PO-99999")
    assert unknown.exit_code == 2
    assert "PO-99999" in unknown.stderr
