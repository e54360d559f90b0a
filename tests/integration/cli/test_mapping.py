"""`mapping suggest | list | set | remove | import | export`."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from cli_helpers import Cli, Sandboxes

KINDS = {"account", "item", "supplier", "location", "payment_term", "tax_rule", "currency"}


def test_suggest_shows_every_kind_and_stores_nothing_without_apply(
    cli: Cli, sandboxes: Sandboxes
) -> None:
    cli.ok("connection", "add", *sandboxes.add_args("acme"))
    doc = cli.json("mapping", "suggest", "acme")
    assert doc["applied"] is False
    assert set(doc["kinds"]) == KINDS
    item = doc["kinds"]["item"]
    assert item["matched"] == sum(item["by_rule"].values()) > 0
    assert "MTR-0.75KW" in {u["cin7_value"] for u in item["unmatched"]}
    assert cli.json("mapping", "list", "acme")["mappings"] == []

    table = cli.ok("mapping", "suggest", "acme").stdout
    assert "not applied" in table
    assert "created in QAD" in table  # unmatched suppliers are created, not blocked
    assert "MTR-0.75KW" in table


def test_suggest_apply_then_list_export_import_round_trip(
    cli: Cli, sandboxes: Sandboxes, tmp_path: Path
) -> None:
    cli.ok("connection", "add", *sandboxes.add_args("acme"))
    applied = cli.json("mapping", "suggest", "acme", "--apply")
    assert applied["applied"] is True
    stored = cli.json("mapping", "list", "acme")["mappings"]
    assert len(stored) == sum(k["matched"] for k in applied["kinds"].values())
    items = cli.json("mapping", "list", "acme", "--kind", "item")["mappings"]
    assert items
    assert {m["kind"] for m in items} == {"item"}

    exported = tmp_path / "mappings.csv"
    cli.ok("mapping", "export", "acme", str(exported))
    rows = list(csv.DictReader(io.StringIO(exported.read_text())))
    assert len(rows) == len(stored)
    assert cli.ok("mapping", "export", "acme").stdout == exported.read_text()

    first = rows[0]
    cli.ok("mapping", "remove", "acme", first["kind"], first["cin7_value"])
    assert len(cli.json("mapping", "list", "acme")["mappings"]) == len(stored) - 1

    cli.ok("mapping", "import", "acme", str(exported))
    after = cli.json("mapping", "list", "acme")["mappings"]
    key = lambda m: (m["kind"], m["cin7_value"], m["qad_value"])  # noqa: E731
    assert sorted(map(key, after)) == sorted(map(key, stored))

    # a second suggest keeps everything and proposes nothing new
    again = cli.json("mapping", "suggest", "acme", "--apply")
    assert all(k["matched"] == 0 for k in again["kinds"].values())


def test_set_and_remove(cli: Cli, sandboxes: Sandboxes) -> None:
    cli.ok("connection", "add", *sandboxes.add_args("acme"))
    cli.ok("mapping", "set", "acme", "item", "MTR-0.75KW", "MTR-075")
    (row,) = cli.json("mapping", "list", "acme")["mappings"]
    assert row == {
        "kind": "item",
        "cin7_value": "MTR-0.75KW",
        "qad_value": "MTR-075",
        "source": "manual",
        "confidence": 1.0,
    }
    cli.ok("mapping", "set", "acme", "item", "MTR-0.75KW", "MTR-076")
    assert cli.json("mapping", "list", "acme")["mappings"][0]["qad_value"] == "MTR-076"

    assert cli("mapping", "set", "acme", "widget", "a", "b").exit_code == 2
    cli.ok("mapping", "remove", "acme", "item", "MTR-0.75KW")
    missing = cli("mapping", "remove", "acme", "item", "MTR-0.75KW")
    assert missing.exit_code == 2
    assert "no item mapping" in missing.stderr


def test_import_reports_every_bad_line(cli: Cli, sandboxes: Sandboxes, tmp_path: Path) -> None:
    cli.ok("connection", "add", *sandboxes.add_args("acme"))
    bad = tmp_path / "bad.csv"
    bad.write_text("kind,cin7_value,qad_value\nitem,A,\nwidget,B,C\nitem,D,E\n")
    result = cli("mapping", "import", "acme", str(bad))
    assert result.exit_code == 2
    assert "line 2" in result.stderr
    assert "line 3" in result.stderr
    assert cli.json("mapping", "list", "acme")["mappings"] == []

    missing = cli("mapping", "import", "acme", str(tmp_path / "nope.csv"))
    assert missing.exit_code == 2
    assert "cannot read" in missing.stderr
