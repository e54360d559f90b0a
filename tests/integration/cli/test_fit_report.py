"""`connection fit` and `mapping report` from the command line, against the sandboxes."""

from __future__ import annotations

import csv
import io
import json
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


def test_connection_fit_exits_2_when_qxtend_is_missing_for_the_profile(
    connected: Cli, sandboxes: Sandboxes
) -> None:
    connected.ok("connection", "edit", "acme", "--qad-profile", "mixed")
    shown = connected.json("connection", "show", "acme", "--json")
    assert (shown["qad_profile"], shown["qad_channels"]["receipts"]) == ("mixed", "qxtend")
    table = connected.ok("connection", "show", "acme").stdout
    assert "suppliers rest, purchase orders rest, receipts qxtend, invoices qxtend" in table
    assert connected.json("connection", "fit", "acme", "--json")["fits"] is True
    sandboxes.tenant.qxtend_exposed = False
    result = connected("connection", "fit", "acme", "--json")
    assert result.exit_code == 2, result.stderr
    doc = json.loads(result.stdout)
    receipts = next(c for c in doc["capabilities"] if c["name"] == "receipts")
    assert (doc["fits"], doc["profile"], receipts["ok"]) == (False, "mixed", False)
    assert "use the rest profile" in receipts["advice"]
    connected.ok("connection", "edit", "acme", "--qad-profile", "rest")
    assert connected.json("connection", "fit", "acme", "--json")["fits"] is True


def test_a_profile_file_is_read_once_and_a_bad_one_names_the_field(
    cli: Cli, sandboxes: Sandboxes, tmp_path: Path
) -> None:
    good = tmp_path / "acme.toml"
    good.write_text('[channels]\nreceipts = "qxtend"\n[defaults]\nbill_to = "10-100"\n')
    cli.ok("connection", "add", *sandboxes.add_args("acme"), "--qad-profile", str(good))
    good.unlink()  # the settings were stored with the connection, not the path
    doc = cli.json("connection", "fit", "acme", "--json")
    assert (doc["profile"], doc["fits"]) == ("acme.toml", True)
    bad = tmp_path / "bad.toml"
    bad.write_text('[channels]\nreceipts = "soap"\n')
    result = cli("connection", "edit", "acme", "--qad-profile", str(bad))
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        "error: profile bad.toml: [channels] receipts: 'soap' is not one of rest, qxtend"
    ]
    assert cli.json("connection", "show", "acme", "--json")["qad_profile"] == "acme.toml"
    far = tmp_path / "far.toml"
    far.write_text('[qxtend]\nurl = "ftp://qad.example.com/qxi/services/QdocWebService"\n')
    result = cli("connection", "edit", "acme", "--qad-profile", str(far))
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        "error: profile far.toml: [qxtend] url must start with https:// (got ftp scheme)"
    ]
    assert cli.json("connection", "show", "acme", "--json")["qad_profile"] == "acme.toml"
