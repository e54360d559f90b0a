"""Kill -9 the connector mid-sync, again and again, and prove nothing was lost or posted twice.

Both sandboxes run in their own processes (so they outlive every kill); `ml-connector sync`
runs in a child process killed with SIGKILL at random moments, then restarted; a last run goes
to completion. QAD must then hold exactly one PO per Cin7 OrderNumber, receipt quantities equal
to Cin7's received quantities, each invoice once, and every authorised Cin7 purchase must be
accounted for (posted, held, or blocked/failed with a reason). The second test does the same
with faults on both sides: 5xx, HTML pages, timeouts, 429s, expiring tokens, silent and lost
receipts. Both run on the `rest` profile with 250 purchases and on `mixed` (receipts and
invoices as QXtend QDocs, with QXtend's receipt quirks as faults) with 80, to keep the tier's
time in check.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from crash_world import Sandboxes, assert_exactly_once, connect

from ml_connector.settings import load_settings
from ml_connector.store.sql import SqlStore
from ml_connector.vault import Vault

pytestmark = pytest.mark.slow

SYNC = [sys.executable, "-c", "from ml_connector.cli import main; main()", "sync", "acme"]


# (profile, purchases): the mixed run is the small one.
CASES = [("rest", 250), pytest.param(("mixed", 80), id="mixed-small")]


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ML_CONNECTOR_HOME", str(tmp_path))
    monkeypatch.setenv("ML_CONNECTOR_MASTER_KEY", Vault.generate_key())
    monkeypatch.delenv("ML_CONNECTOR_DATABASE_URL", raising=False)
    return tmp_path


@pytest.fixture(params=CASES, ids=lambda case: case[0])
def sandboxes(request: pytest.FixtureRequest) -> Iterator[Sandboxes]:
    profile, purchases = request.param
    boxes = Sandboxes(purchases=purchases, token_ttl=3, profile=profile)
    try:
        yield boxes
    finally:
        boxes.stop()


def _sync_child(timeout: float | None) -> int | None:
    """`ml-connector sync acme` in a child process; SIGKILLed after `timeout` seconds if given."""
    proc = subprocess.Popen(
        SYNC,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=os.environ.copy(),
    )
    try:
        return proc.wait(timeout=timeout if timeout is not None else 600)
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        return None


def _crash_and_finish(kills: int, rng: random.Random) -> None:
    for _ in range(kills):
        _sync_child(timeout=rng.uniform(0.5, 4.0))
    for _ in range(6):  # then run to completion: transient leftovers retry on the next pass
        assert _sync_child(timeout=None) is not None
        if not asyncio.run(_pending()):
            return
    raise AssertionError("records still pending after six complete passes")


async def _pending() -> int:
    settings = load_settings()
    store = await SqlStore.open(settings.database_url, Vault.from_settings(settings))
    try:
        cid = await store.connection_id("acme")
        return len(await store.list_records(cid, status="pending", kind="purchase"))
    finally:
        await store.close()


def test_sigkill_mid_sync_loses_nothing_and_posts_nothing_twice(
    home: Path, sandboxes: Sandboxes
) -> None:
    asyncio.run(connect(sandboxes, {}))
    _crash_and_finish(kills=6, rng=random.Random(20261127))
    assert_exactly_once(sandboxes)


def test_sigkill_with_faults_on_both_sides(home: Path, sandboxes: Sandboxes) -> None:
    asyncio.run(connect(sandboxes, {"cin7_timeout": 2, "qad_timeout": 5}))
    sandboxes.faults(
        cin7={
            "error_rate": 0.04,
            "html_rate": 0.03,
            "timeout_rate": 0.01,
            "timeout_seconds": 4,
            "rate_limit_per_minute": 200,
        },
        qad={
            "error_rate": 0.03,
            "html_rate": 0.02,
            "lost_response_rate": 0.03,
            "expire_tokens_now": True,
            **(
                {"qdoc_silent_receipt_rate": 0.15, "qdoc_posted_error_rate": 0.05}
                if sandboxes.profile == "mixed"
                else {"silent_receipt_rate": 0.15}
            ),
        },
    )
    _crash_and_finish(kills=5, rng=random.Random(7))
    assert_exactly_once(sandboxes)
