"""The proof benches of issue 8 run at a small size, as scripts, and must hold their promises.

Each bench starts both sandboxes in their own processes and runs the real `ml-connector`
command; its last stdout line is one JSON object, asserted here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow

BENCH = Path(__file__).parents[2] / "bench"


def run_bench(script: str, *args: str) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ML_CONNECTOR_")}
    done = subprocess.run(
        [sys.executable, str(BENCH / script), *args],
        capture_output=True,
        text=True,
        timeout=900,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_badinput_quarantines_every_kind_and_posts_every_good_purchase() -> None:
    result = run_bench("badinput.py", "--good", "3", "--later", "2")
    assert result["kinds"] >= 40
    assert result["posted_wrongly"] == 0
    assert result["stalled_passes"] == 0
    assert result["good_posted"] == result["good_total"] == 5
    assert result["quarantined"] == result["kinds"], result["not_quarantined"]
    assert result["healed"] == result["heal_total"]
    assert result["exit_codes"][0] == 1, "the first pass reports its failed records"


def test_chaos_kills_under_faults_lose_nothing_and_post_nothing_twice() -> None:
    # The bench buys twenty kinds of purchase in turn (n % 20): 20 is each kind once.
    result = run_bench("chaos.py", "--purchases", "20", "--kills", "2")
    assert result["purchases"] == result["checked"] == 20
    assert result["kills"] == 2
    assert (
        result["duplicates"],
        result["lost"],
        result["early_invoices"],
        result["receipt_mismatches"],
    ) == (0, 0, 0, 0)
    assert result["audit_ok"] is True
    assert result["faults"]["qad_error"] > 0, "faults were injected"


def test_chaos_refuses_an_unknown_qad_profile_clearly() -> None:
    done = subprocess.run(
        [sys.executable, str(BENCH / "chaos.py"), "--qad-profile", "soap-of-the-day"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2
    assert "unknown QAD profile 'soap-of-the-day'" in done.stderr


@pytest.mark.parametrize(("channel", "calls"), [("rest", 38.0), ("qxtend", 9.0)])
def test_qad_post_counts_every_call_per_po_on_each_channel(channel: str, calls: float) -> None:
    # Issue 9 item 6: a five-line PO with one receipt, look-ups and read-backs included.
    result = run_bench(
        "qad_post.py", "--purchase-orders", "1", "--latency-ms", "0", "--channel", channel
    )
    assert (result["channel"], result["calls_per_po"]) == (channel, calls)
    qdocs = {k: v for k, v in result["server_calls_by_kind"].items() if "QdocWebService" in k}
    if channel == "rest":
        assert qdocs == {}
    else:  # one QDoc per PO (all five lines) and one per receipt, at concurrency 1, 2, 4, 8
        assert qdocs["POST /qxi/services/QdocWebService maintainPurchaseOrder"] == 4
        assert qdocs["POST /qxi/services/QdocWebService receivePurchaseOrder"] == 4
