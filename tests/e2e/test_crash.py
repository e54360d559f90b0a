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
from typing import Any

import httpx
import pytest

from ml_connector.qad.profile import BUILT_IN
from ml_connector.sandbox.process import SandboxProcess
from ml_connector.sandbox.truth import Entry, audit, authorised, read_books
from ml_connector.settings import load_settings
from ml_connector.store.models import ConnectionConfig
from ml_connector.store.sql import SqlStore
from ml_connector.sync.connect import cin7_client, qad_client
from ml_connector.sync.reference import suggest_mappings
from ml_connector.vault import Vault

pytestmark = pytest.mark.slow

SYNC = [sys.executable, "-c", "from ml_connector.cli import main; main()", "sync", "acme"]
ACCOUNT = "5e1b8c3a-0d4f-4a7e-9c21-6f3b2a1d0e99"
KEY = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"
CLIENT_ID = "c0ffee00c0ffee00c0ffee00c0ffee00"
PASSWORD = "crash-test-password"
ACCOUNTED = {"posted", "held", "blocked", "failed", "attention"}


# (profile, purchases): the mixed run is the small one.
CASES = [("rest", 250), pytest.param(("mixed", 80), id="mixed-small")]


class Sandboxes:
    def __init__(self, purchases: int, token_ttl: float, profile: str = "rest") -> None:
        self.purchases = purchases
        self.profile = profile
        self.cin7 = SandboxProcess(
            "cin7",
            "--seed",
            "5",
            "--suppliers",
            "20",
            "--purchases",
            str(purchases),
            "--rate-limit",
            "100000",
            "--account-id",
            ACCOUNT,
            "--application-key",
            KEY,
        )
        self.qad = SandboxProcess(
            "qad",
            "--client-id",
            CLIENT_ID,
            "--password",
            PASSWORD,
            "--token-ttl",
            str(token_ttl),
        )
        self.cin7.wait()
        self.qad.wait()

    def stop(self) -> None:
        self.cin7.stop()
        self.qad.stop()

    def faults(self, cin7: dict[str, Any], qad: dict[str, Any]) -> None:
        httpx.post(f"{self.cin7.control}/faults", json=cin7, timeout=10).raise_for_status()
        httpx.post(f"{self.qad.control}/faults", json=qad, timeout=10).raise_for_status()


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


async def _connect(boxes: Sandboxes, options: dict[str, Any]) -> None:
    settings = load_settings()
    store = await SqlStore.open(settings.database_url, Vault.from_settings(settings))
    try:
        config = await store.add_connection(
            ConnectionConfig.from_settings(
                "acme",
                {
                    "cin7_account_id": ACCOUNT,
                    "cin7_application_key": KEY,
                    "cin7_base_url": boxes.cin7.base,
                    "qad_url": boxes.qad.base,
                    "qad_client_id": CLIENT_ID,
                    "qad_username": "integration",
                    "qad_password": PASSWORD,
                    "qad_domain": "10USA",
                    "qad_entity": "10USACO",
                    "allow_local": True,
                    "cin7_rate_limit": 100_000,
                    "qad_profile": BUILT_IN[boxes.profile],
                    **options,
                },
            )
        )
        assert config.id is not None
        async with cin7_client(config) as cin7, qad_client(config) as qad:
            await suggest_mappings(store, config.id, cin7, qad, apply=True)
    finally:
        await store.close()


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


async def _store_view() -> tuple[dict[str, Any], dict[str, str]]:
    """The records and the item mapping: what the connector says, to account for every
    purchase; what QAD holds is judged from the sandboxes' books alone (`sandbox.truth`)."""
    settings = load_settings()
    store = await SqlStore.open(settings.database_url, Vault.from_settings(settings))
    try:
        cid = await store.connection_id("acme")
        records = {r.reference: r for r in await store.list_records(cid, kind="purchase")}
        items = (await store.mapping_table(cid)).get("item", {})
        return records, {sku.upper(): code for sku, code in items.items()}
    finally:
        await store.close()


def _assert_exactly_once(boxes: Sandboxes) -> None:
    books = read_books(boxes.cin7.control, boxes.qad.control)
    records, items = asyncio.run(_store_view())

    authorised_count = settled = 0
    for entry in books.ledger:
        if not authorised(entry):
            continue
        authorised_count += 1
        order = entry["order_number"]
        record = records.get(order)
        assert record is not None, f"{order} never reached the store"
        assert record.status in ACCOUNTED, f"{order}: {record.status}"
        if record.status != "posted":
            assert record.reason, f"{order} is {record.status} with no reason"
        settled += record.status in ("posted", "held")
    assert authorised_count > boxes.purchases * 2 // 5

    def in_qad(entry: Entry) -> bool:
        record = records.get(entry["order_number"])
        return authorised(entry) and record is not None and record.status in ("posted", "held")

    # Service purchases land as invoices without a PO; one supplier invoice number may be on
    # several purchases, each its own QAD invoice: `audit` knows both.
    verdict = audit(books, expected=in_qad, item_codes=items)
    assert verdict.purchases == settled
    assert verdict.clean, verdict.findings[:20]
    assert books.qad["supplierInvoices"], "no invoice reached QAD"


def test_sigkill_mid_sync_loses_nothing_and_posts_nothing_twice(
    home: Path, sandboxes: Sandboxes
) -> None:
    asyncio.run(_connect(sandboxes, {}))
    _crash_and_finish(kills=6, rng=random.Random(20261127))
    _assert_exactly_once(sandboxes)


def test_sigkill_with_faults_on_both_sides(home: Path, sandboxes: Sandboxes) -> None:
    asyncio.run(_connect(sandboxes, {"cin7_timeout": 2, "qad_timeout": 5}))
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
    _assert_exactly_once(sandboxes)
