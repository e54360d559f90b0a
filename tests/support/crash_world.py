"""Crash tests' world: both sandboxes in their own processes (so they outlive every kill), the
connection `acme` to them in the store of the environment's settings, and the judgement of a run
from the sandboxes' books: every authorised Cin7 purchase accounted for, QAD holding each
document exactly once. Used by tests/e2e/test_crash.py (`sync` killed) and
tests/e2e/test_worker_kill.py (a job worker killed)."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from ml_connector.qad.profile import BUILT_IN
from ml_connector.sandbox.process import SandboxProcess
from ml_connector.sandbox.truth import Entry, audit, authorised, read_books
from ml_connector.settings import load_settings
from ml_connector.store.models import ConnectionConfig
from ml_connector.store.sql import SqlStore
from ml_connector.sync.connect import cin7_client, qad_client
from ml_connector.sync.reference import suggest_mappings
from ml_connector.vault import Vault

ACCOUNT = "5e1b8c3a-0d4f-4a7e-9c21-6f3b2a1d0e99"
KEY = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"
CLIENT_ID = "c0ffee00c0ffee00c0ffee00c0ffee00"
PASSWORD = "crash-test-password"
ACCOUNTED = {"posted", "held", "blocked", "failed", "attention"}


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
        self._http = httpx.Client(timeout=10)
        self.cin7.wait()
        self.qad.wait()

    def stop(self) -> None:
        self._http.close()
        self.cin7.stop()
        self.qad.stop()

    def progress(self) -> tuple[int, int]:
        """(calls Cin7 answered, writes QAD took) so far: where a sync has got to."""
        cin7 = self._http.get(f"{self.cin7.control}/stats").raise_for_status().json()
        qad = self._http.get(f"{self.qad.control}/stats").raise_for_status().json()
        return int(cin7["calls"]), int(qad["writes"])

    def faults(self, cin7: dict[str, Any], qad: dict[str, Any]) -> None:
        httpx.post(f"{self.cin7.control}/faults", json=cin7, timeout=10).raise_for_status()
        httpx.post(f"{self.qad.control}/faults", json=qad, timeout=10).raise_for_status()


async def connect(boxes: Sandboxes, options: dict[str, Any]) -> None:
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


async def store_view() -> tuple[dict[str, Any], dict[str, str]]:
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


def assert_exactly_once(boxes: Sandboxes) -> None:
    books = read_books(boxes.cin7.control, boxes.qad.control)
    records, items = asyncio.run(store_view())

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
