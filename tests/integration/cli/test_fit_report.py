"""`connection fit` and `mapping report` from the command line, against the sandboxes."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from cli_helpers import Cli, Sandboxes


def test_connection_fit_prints_each_capability_and_exits_0(
    connected: Cli, sandboxes: Sandboxes
) -> None:
    writes = sandboxes.tenant.stats()["writes"]
    doc = connected.json("connection", "fit", "acme", "--json")
    assert (doc["fits"], doc["profile"]) == (True, "rest")
    assert {"qad token", "po write permission", "receipts", "invoices", "cin7"} <= {
        c["name"] for c in doc["capabilities"]
    }
    assert sandboxes.tenant.stats()["writes"] == writes
    shown = connected.ok("connection", "fit", "acme")
    assert "Profile rest: the tenant fits" in shown.stdout
    assert "browse sites" in shown.stdout


def test_mapping_report_as_json_tables_and_csv(connected: Cli, tmp_path: Path) -> None:
    doc = connected.json("mapping", "report", "acme", "--json")
    assert set(doc) == {"cin7_only", "qad_only"}
    assert set(doc["cin7_only"]) == {
        "account",
        "item",
        "supplier",
        "location",
        "payment_term",
        "tax_rule",
        "currency",
    }
    tables = connected.ok("mapping", "report", "acme")
    assert "In QAD, not in Cin7" in tables.stdout
    target = tmp_path / "report.csv"
    connected.ok("mapping", "report", "acme", "--csv", str(target))
    rows = list(csv.reader(io.StringIO(target.read_text(encoding="utf-8"))))
    assert rows[0] == ["side", "kind", "value"]
    expected = sum(len(v) for side in doc.values() for v in side.values())
    assert len(rows) - 1 == expected
    both = connected("mapping", "report", "acme", "--json", "--csv", str(target))
    assert both.exit_code == 2
