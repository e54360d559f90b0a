"""A second QAD channel needs no change to the planner or the engine: the unchanged engine syncs
Cin7 purchases into the in-memory `FakeQadChannel`, holds and releases invoices, posts nothing
twice, and resolves a crash's open intent through the same look-up as on REST.

Integration tier: the Cin7 sandbox in-process and the store on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal

import httpx
import pytest

from ml_connector.cin7.client import Cin7Client
from ml_connector.errors import AuthRejected
from ml_connector.qad import (
    CreditTerm,
    Currency,
    GlAccount,
    Item,
    ReceiptSpec,
    Site,
    TaxClass,
)
from ml_connector.qad.fake import FakeQadChannel, FakeReference
from ml_connector.sandbox.catalog import qad_catalog
from ml_connector.sandbox.cin7 import Cin7Sandbox, create_cin7_sandbox
from ml_connector.store.models import ConnectionConfig
from ml_connector.store.sql import SqlStore
from ml_connector.sync.connect import cin7_client
from ml_connector.sync.engine import SyncEngine, SyncReport
from ml_connector.sync.reference import suggest_mappings
from ml_connector.vault import Vault

USD_SUPPLIER = "02c19aa9-b6d7-4031-adbe-5f3d418bfbb0"  # Beacon Wire & Cable Co. (seed 11)


def catalog_reference() -> FakeReference:
    """The QAD sandbox's reference data, so Cin7's codes map as they do against the sandbox."""
    c = qad_catalog()
    return FakeReference(
        gl_accounts=tuple(
            GlAccount(
                code=a.code,
                description=a.description,
                type=a.type,
                requires_sub_account=a.requires_sub_account,
                requires_cost_centre=a.requires_cost_centre,
                active=a.active,
            )
            for a in c.gl_accounts
        ),
        items=tuple(
            Item(
                code=i.code,
                description=i.description,
                uom=i.uom,
                product_line=i.product_line,
                status=i.status,
                gl_account=i.gl_account,
                unit_cost=i.unit_cost,
            )
            for i in c.items
        ),
        sites=tuple(Site(code=s.code, description=s.description) for s in c.sites),
        credit_terms=tuple(
            CreditTerm(code=t.code, description=t.description, due_days=t.due_days)
            for t in c.credit_terms
        ),
        currencies=tuple(Currency(code=code, description=code) for code in c.currencies),
        tax_classes=tuple(
            TaxClass(code=t.code, description=t.description, percent=t.percent)
            for t in c.tax_classes
        ),
    )


class DiesAfterAReceipt(FakeQadChannel):
    """QAD records the next receipt, then the connection dies before its answer is recorded."""

    armed = False

    async def post_receipt(self, spec: ReceiptSpec) -> str | None:
        number = await super().post_receipt(spec)
        if self.armed:
            self.armed = False
            raise AuthRejected("the connection died after QAD's answer", system="qad")
        return number


@dataclass
class Bench:
    cin7: Cin7Sandbox
    store: SqlStore
    config: ConnectionConfig
    qad: DiesAfterAReceipt

    async def sync(self) -> SyncReport:
        async with self.cin7_client() as cin7:
            return await SyncEngine(self.store, self.config, cin7, self.qad).sync()

    def cin7_client(self) -> Cin7Client:
        return cin7_client(self.config, transport=httpx.ASGITransport(app=self.cin7.app))

    async def status(self, order: str) -> tuple[str, str | None]:
        assert self.config.id is not None
        [record] = [
            r for r in await self.store.find_records(self.config.id, order) if r.kind == "purchase"
        ]
        return record.status, record.reason


@pytest.fixture
async def bench(database_url: str) -> AsyncIterator[Bench]:
    cin7 = create_cin7_sandbox(seed=11, suppliers=6, purchases=0, rate_limit=100_000)
    store = await SqlStore.open(database_url, Vault.ephemeral())
    config = await store.add_connection(
        ConnectionConfig.from_settings(
            "fake",
            {
                "cin7_account_id": cin7.account_id,
                "cin7_application_key": cin7.application_key,
                "cin7_base_url": "http://cin7.sandbox/ExternalApi/v2/",
                "qad_url": "https://qad.invalid/clouderp",
                "qad_client_id": "0" * 32,
                "qad_username": "integration",
                "qad_password": "not-used",
                "qad_domain": "10USA",
                "qad_entity": "10USACO",
                "cin7_rate_limit": 100_000,
            },
        )
    )
    assert config.id is not None
    world = Bench(cin7, store, config, DiesAfterAReceipt(reference=catalog_reference()))
    async with world.cin7_client() as client:
        await suggest_mappings(store, config.id, client, world.qad, apply=True)
    try:
        yield world
    finally:
        await store.close()


async def test_the_engine_posts_a_purchase_through_another_channel_once(bench: Bench) -> None:
    state = bench.cin7.state
    doc = state.create_purchase(
        "STOCK",
        [{"sku": "WID-100", "quantity": 10}, {"sku": "BRK-20", "quantity": 40}],
        supplier_id=USD_SUPPLIER,
    )
    state.receive(
        doc["ID"], [{"sku": "WID-100", "quantity": 10}], date="2026-03-02", authorise=False
    )
    state.receive(doc["ID"], [{"sku": "BRK-20", "quantity": 40}], date="2026-03-05")
    final = state.invoice(doc["ID"], "FK-INV-1")

    calls_before = bench.qad.calls
    report = await bench.sync()
    assert report.counters.qad_calls == bench.qad.calls - calls_before  # counted by the seam
    assert report.status == "succeeded", report.error
    assert await bench.status(doc["OrderNumber"]) == ("posted", None)
    po = await bench.qad.get_purchase_order(doc["OrderNumber"])
    assert po is not None
    assert [(line.item_code, line.quantity_received) for line in po.lines] == [
        ("WID-100", Decimal(10)),
        ("BRK-20", Decimal(40)),
    ]
    assert len(bench.qad.receipts_posted) == 2  # one per delivery day
    [invoice] = bench.qad.invoices_posted
    assert invoice.amount == Decimal(str(final["Invoice"]["Total"]))

    writes = list(bench.qad.writes)
    again = await bench.sync()
    assert again.status == "succeeded"
    assert bench.qad.writes == writes  # the second pass finds everything and writes nothing


async def test_an_invoice_first_purchase_is_held_then_released(bench: Bench) -> None:
    state = bench.cin7.state
    doc = state.create_purchase(
        "INVOICE", [{"sku": "NUT-M8", "quantity": 12}], supplier_id=USD_SUPPLIER
    )
    state.invoice(doc["ID"], "FK-INV-2")

    await bench.sync()
    status, reason = await bench.status(doc["OrderNumber"])
    assert status == "held"
    assert reason is not None
    assert "NUT-M8: invoiced 12, received in QAD 0" in reason
    assert bench.qad.invoices_posted == []

    state.receive(doc["ID"])
    await bench.sync()
    assert await bench.status(doc["OrderNumber"]) == ("posted", None)
    assert [i.reference for i in bench.qad.invoices_posted] == ["FK-INV-2"]


async def test_a_receipt_posted_before_a_crash_is_found_not_posted_again(bench: Bench) -> None:
    state = bench.cin7.state
    doc = state.create_purchase(
        "STOCK", [{"sku": "LUB-SPR-400", "quantity": 6}], supplier_id=USD_SUPPLIER
    )
    await bench.sync()
    state.receive(doc["ID"])

    bench.qad.armed = True
    crashed = await bench.sync()
    assert crashed.status == "failed"
    assert len(bench.qad.receipts_posted) == 1  # QAD holds it; our outcome was never recorded

    resumed = await bench.sync()
    assert resumed.status == "succeeded", resumed.error
    assert len(bench.qad.receipts_posted) == 1
    assert bench.qad.calls_by_operation["post_receipt"] == 1
    assert await bench.status(doc["OrderNumber"]) == ("posted", None)
    assert bench.config.id is not None
    [record] = [
        r
        for r in await bench.store.find_records(bench.config.id, doc["OrderNumber"])
        if r.kind == "purchase"
    ]
    trail = await bench.store.trail(bench.config.id, record.key)
    assert any(e.event == "intent-resolved" and e.data.get("found") for e in trail)
