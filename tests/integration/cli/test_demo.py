"""`ml-connector demo`: in-process (counts checked against the sandboxes) and as a real process."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import Cli

from ml_connector import demo as demo_flow
from ml_connector.demo import DemoOptions, DemoSummary, run_demo
from ml_connector.sandbox.cin7 import Cin7Sandbox
from ml_connector.sandbox.qad import QadSandbox

REQUIRED = ("purchase_orders", "receipts", "invoices", "held", "blocked", "failed", "cin7_calls")
ENTRY_POINT = Path(sys.executable).with_name("ml-connector")


def _guarded_env(tmp_path: Path) -> dict[str, str]:
    """An environment whose home and database the demo must never touch."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ML_CONNECTOR_")}
    env["ML_CONNECTOR_HOME"] = str(tmp_path / "users-home")
    env["ML_CONNECTOR_DATABASE_URL"] = "mysql://nobody@nowhere/never"
    env["COLUMNS"] = "120"
    return env


def test_run_demo_counts_agree_with_the_sandboxes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in _guarded_env(tmp_path).items():
        monkeypatch.setenv(name, value)
    seen: dict[str, Any] = {}

    def observe(cin7: Cin7Sandbox, qad: QadSandbox) -> None:
        seen["qad"] = qad.tenant().state()
        seen["cin7_calls"] = cin7.state.stats()["calls"]
        seen["approach"] = {
            p.order_number: p.approach
            for p in (cin7.state.lookup(i) for i in cin7.state.purchase_ids())
            if p
        }

    lines: list[str] = []
    summary = asyncio.run(
        run_demo(DemoOptions(purchases=40), narrate=lines.append, observe=observe)
    )

    qad = seen["qad"]
    assert summary.purchase_orders == len(qad["purchaseOrders"]) > 0
    assert summary.receipts == len(qad["receipts"])
    assert summary.invoices + summary.credit_notes == len(qad["supplierInvoices"])
    assert summary.suppliers_created == len(qad["suppliers"])
    assert summary.cin7_calls == seen["cin7_calls"]
    po_numbers = {po["purchaseOrderNumber"] for po in qad["purchaseOrders"]}
    assert len(po_numbers) == len(qad["purchaseOrders"])  # each PO once

    # the held invoice-first purchases were received in Cin7 and released by the second sync
    assert summary.held_after_first_sync > 0
    assert summary.received_in_cin7
    assert all(seen["approach"][ref] == "INVOICE" for ref in summary.received_in_cin7)
    assert summary.released >= len(summary.received_in_cin7)
    assert not {i.reference for i in summary.held} & set(summary.received_in_cin7)
    assert all(i.reason.startswith("missing ") for i in summary.blocked)

    assert any("RAISED to 6000" in line for line in lines)
    home = Path(next(ln for ln in lines if ln.startswith("Temporary home:")).split()[2])
    assert not home.exists()  # removed at the end
    assert not (tmp_path / "users-home").exists()


def test_demo_json_through_the_cli_keeps_home_when_asked(tmp_path: Path) -> None:
    cli = Cli(tmp_path / "users-home", ML_CONNECTOR_DATABASE_URL="mysql://nobody@nowhere/x")
    result = cli("demo", "--json", "--purchases", "20", "--keep-home")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)  # stdout holds the JSON object and nothing else
    for key in REQUIRED:
        assert type(doc[key]) is int, key
    assert doc["purchases"] == 20
    assert doc["rate_limit"] == 6000
    assert doc["purchase_orders"] > 0
    assert "RAISED" in result.stderr  # narration goes to stderr with --json
    kept = Path(doc["home"])
    try:
        assert (kept / "ml-connector.db").is_file()
        assert (kept / "master.key").stat().st_mode & 0o777 == 0o600
    finally:
        shutil.rmtree(kept)
    assert not cli.home.exists()


def test_demo_on_the_mixed_profile_posts_receipts_and_invoices_as_qdocs(tmp_path: Path) -> None:
    cli = Cli(tmp_path / "users-home", ML_CONNECTOR_DATABASE_URL="mysql://nobody@nowhere/x")
    result = cli("demo", "--json", "--purchases", "30", "--qad-profile", "mixed")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["qad_profile"] == "mixed"
    assert doc["receipts"] > 0
    assert doc["invoices"] > 0
    # one receivePurchaseOrder per receipt, one bcinvoice per invoice or credit note, nothing else
    assert doc["qdocs"] == doc["receipts"] + doc["invoices"] + doc["credit_notes"]
    assert doc["failed"] == 0, doc["failed_reasons"]
    assert "QAD profile:       mixed (QXtend QDocs for receipts, invoices" in result.stderr
    rest = json.loads(cli("demo", "--json", "--purchases", "30").stdout)
    assert (rest["qad_profile"], rest["qdocs"]) == ("rest", 0)
    same = ("purchase_orders", "receipts", "invoices", "held", "blocked", "failed")
    assert {k: doc[k] for k in same} == {k: rest[k] for k in same}  # one outcome, two channels


def test_demo_refuses_an_unknown_profile_in_one_line(tmp_path: Path) -> None:
    cli = Cli(tmp_path / "users-home")
    result = cli("demo", "--qad-profile", "soap")
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        "error: unknown QAD profile 'soap': use rest, qxtend, mixed or a TOML file"
    ]


def _run(args: list[str], env: dict[str, str], timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(ENTRY_POINT), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_demo_as_a_process_prints_one_json_object(tmp_path: Path) -> None:
    # The real entry point in its own process: stdout holds the JSON document and nothing else.
    # 40 purchases reach every kind of outcome with the demo's seed (held, released, blocked);
    # the default size is the next test's, without running it.
    done = _run(["demo", "--json", "--purchases", "40"], _guarded_env(tmp_path), timeout=300)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    doc = json.loads(done.stdout)
    assert doc["purchases"] == 40
    for key in REQUIRED:
        assert type(doc[key]) is int, key
    assert doc["purchase_orders"] > 20
    assert doc["receipts"] > 0
    assert doc["invoices"] > 0
    assert doc["released"] > 0
    assert doc["failed"] == len(doc["failed_reasons"])
    assert doc["blocked"] == len(doc["blocked_reasons"])
    assert not (tmp_path / "users-home").exists()


@pytest.mark.parametrize(
    ("flags", "purchases", "rate_limit"),
    [([], 200, 6000), (["--realistic-rate-limit"], 100, 60)],
)
def test_demo_without_a_size_runs_the_default_number_of_purchases(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    flags: list[str],
    purchases: int,
    rate_limit: int,
) -> None:
    # What `./dev.py demo` asks for (the README's figures); the demo itself is proven at
    # smaller sizes above, which keeps a 200-purchase run out of the suite.
    asked: list[DemoOptions] = []

    async def record(options: DemoOptions, **_: Any) -> DemoSummary:
        asked.append(options)
        return DemoSummary(purchases=options.purchase_count, rate_limit=options.rate_limit)

    monkeypatch.setattr(demo_flow, "run_demo", record)
    doc = Cli(tmp_path / "users-home").json("demo", *flags)
    assert (asked[0].purchases, asked[0].purchase_count) == (None, purchases)
    assert (doc["purchases"], doc["rate_limit"]) == (purchases, rate_limit)


def test_realistic_rate_limit_demo_as_a_process(tmp_path: Path) -> None:
    # A fresh process: its Cin7 pacer starts empty, so a few purchases fit in one minute.
    done = _run(
        ["demo", "--json", "--realistic-rate-limit", "--purchases", "5"],
        _guarded_env(tmp_path),
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert doc["rate_limit"] == 60
    assert doc["rate_limit_raised"] is False
    assert doc["cin7_calls"] < 60


def test_errors_are_one_line_without_traceback(tmp_path: Path) -> None:
    env = _guarded_env(tmp_path)
    del env["ML_CONNECTOR_DATABASE_URL"]
    done = _run(["records", "ghost"], env, timeout=60)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr == "error: no connection named 'ghost'\n"

    env["ML_CONNECTOR_DATABASE_URL"] = "mysql://nobody@nowhere/never"
    done = _run(["connection", "list"], env, timeout=60)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1
    assert "Traceback" not in done.stderr
