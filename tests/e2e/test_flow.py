"""Every row of design.md's table, end to end: Cin7 sandbox → engine → QAD sandbox, over HTTP,
on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import httpx
import pytest
from e2e_world import World

from ml_connector.cin7.models import Purchase
from ml_connector.qad import QadOperations
from ml_connector.sync.actions import PostReceipt
from ml_connector.sync.connect import qad_client
from ml_connector.sync.engine import intent_details
from ml_connector.sync.execute import execute
from ml_connector.sync.inputs import Mappings, PlanContext, Posted
from ml_connector.sync.plan import plan

# Every flow runs on both ways of posting receipts and invoices: REST and QXtend (mixed).
pytestmark = pytest.mark.parametrize("qad_profile", ["rest", "mixed"], indirect=True)


USD_SUPPLIER = "02c19aa9-b6d7-4031-adbe-5f3d418bfbb0"  # Beacon Wire & Cable Co. (seed 11)
CAD_SUPPLIER = "db77b923-df00-4dfa-93e2-22b8e69d2f3b"  # Redwood Steel Supply Inc.


def lines(po: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {line["itemCode"]: line for line in po["lines"]}


def receipts_of(world: World, po_number: str) -> list[dict[str, Any]]:
    return [r for r in world.qad_state()["receipts"] if r["purchaseOrderNumber"] == po_number]


def invoices_of(world: World, reference: str) -> list[dict[str, Any]]:
    return [i for i in world.qad_state()["supplierInvoices"] if i["invoiceReference"] == reference]


async def test_stock_first_purchase_posts_supplier_po_split_receipts_and_invoice(
    world: World, qad_profile: str
) -> None:
    state = world.cin7.state
    doc = state.create_purchase(
        "STOCK",
        [{"sku": "WID-100", "quantity": 10}, {"sku": "BRK-20", "quantity": 40, "discount": 10}],
        supplier_id=USD_SUPPLIER,
        freight=30,
    )
    pid, order = doc["ID"], doc["OrderNumber"]
    state.receive(
        pid,
        [{"sku": "WID-100", "quantity": 6}, {"sku": "BRK-20", "quantity": 40}],
        date="2026-03-02",
        authorise=False,
    )
    state.receive(pid, [{"sku": "WID-100", "quantity": 4}], date="2026-03-05")
    final = state.invoice(pid, "BW-INV-1")

    report = await world.sync()
    assert report.status == "succeeded", report.error

    record = await world.record(order)
    assert record.status == "posted", record.reason
    [po] = world.po_for(order)
    assert po["purchaseOrderNumber"] == order  # fits QAD's 8 characters
    assert order in po["remarks"]
    by_item = lines(po)
    assert by_item["WID-100"]["quantityReceived"] == 10
    assert by_item["BRK-20"]["quantityReceived"] == 40
    assert Decimal(str(by_item["BRK-20"]["purchaseCost"])) == Decimal("1.575")  # 10 % off 1.75
    assert len(receipts_of(world, po["purchaseOrderNumber"])) == 2  # one per delivery day
    [invoice] = invoices_of(world, "BW-INV-1")
    assert Decimal(str(invoice["amountTC"])) == Decimal(str(final["Invoice"]["Total"]))
    supplier = next(
        s for s in world.qad_state()["suppliers"] if s["supplierCode"] == po["supplierCode"]
    )
    assert supplier["name"] == "Beacon Wire & Cable Co."
    events = await world.store.trail(world.cid, record.key)
    trail = [e.event for e in events]
    assert trail[:2] == ["status", "fetched"]
    assert {"planned", "intent", "posted", "completed"} <= set(trail)
    assert [e.data["to"] for e in events if e.event == "status"][-1] == "posted"
    assert await world.store.verify(world.cid) == []
    # The profile decides the channel: receipts and invoices as QDocs on `mixed`, REST on `rest`.
    posted_by = {path for path in world.tenant.stats()["by_path"] if path.startswith("POST")}
    qdocs = {
        "POST /qxi/services/QdocWebService receivePurchaseOrder",
        "POST /qxi/services/QdocWebService bcinvoice",
    }
    rest = {"POST /api/erp/purchaseOrderReceipts", "POST /api/erp/supplierInvoices"}
    assert (qdocs <= posted_by, rest & posted_by == set()) == (qad_profile == "mixed",) * 2
    assert "POST /api/erp/purchaseOrderHeaders" in posted_by


async def test_invoice_first_purchase_is_held_until_the_receipt_then_released(
    world: World,
) -> None:
    state = world.cin7.state
    doc = state.create_purchase(
        "INVOICE", [{"sku": "NUT-M8", "quantity": 12}], supplier_id=USD_SUPPLIER
    )
    pid, order = doc["ID"], doc["OrderNumber"]
    state.invoice(pid, "BW-INV-2")

    await world.sync()
    record = await world.record(order)
    assert record.status == "held"
    assert record.reason is not None
    assert "NUT-M8: invoiced 12, received in QAD 0" in record.reason
    assert world.po_for(order), "the PO is posted while the invoice waits"
    assert invoices_of(world, "BW-INV-2") == []

    state.receive(pid)
    await world.sync()
    record = await world.record(order)
    assert record.status == "posted", record.reason
    assert len(invoices_of(world, "BW-INV-2")) == 1
    events = [e.event for e in await world.store.trail(world.cid, record.key)]
    assert events.index("held") < events.index("released")


async def test_advanced_purchase_receipts_come_from_put_away(world: World) -> None:
    state = world.cin7.state
    doc = state.create_purchase(
        "STOCK", [{"sku": "BRG-6204", "quantity": 20}], supplier_id=USD_SUPPLIER, advanced=True
    )
    pid, order = doc["ID"], doc["OrderNumber"]
    state.receive(pid, [{"sku": "BRG-6204", "quantity": 8}], date="2026-03-02")
    state.receive(pid, [{"sku": "BRG-6204", "quantity": 12}], date="2026-03-09")

    await world.sync()
    assert (await world.record(order)).status == "posted"
    [po] = world.po_for(order)
    assert lines(po)["BRG-6204"]["quantityReceived"] == 20
    assert sorted(
        sum(line["quantity"] for line in r["lines"])
        for r in receipts_of(world, po["purchaseOrderNumber"])
    ) == [8, 12]


async def test_foreign_currency_supplier_and_po(world: World) -> None:
    doc = world.cin7.state.create_purchase(
        "STOCK", [{"sku": "STL-SHT-2", "quantity": 5}], supplier_id=CAD_SUPPLIER
    )
    await world.sync()
    [po] = world.po_for(doc["OrderNumber"])
    supplier = next(
        s for s in world.qad_state()["suppliers"] if s["supplierCode"] == po["supplierCode"]
    )
    assert supplier["currencyCode"] == "CAD"


async def test_edit_after_posting_updates_the_po_never_a_second_one(world: World) -> None:
    state = world.cin7.state
    doc = state.create_purchase(
        "STOCK", [{"sku": "WSH-M8", "quantity": 10}], supplier_id=USD_SUPPLIER
    )
    pid, order = doc["ID"], doc["OrderNumber"]
    await world.sync()
    state.edit(pid, [{"sku": "WSH-M8", "quantity": 15}, {"sku": "SCR-4X30", "quantity": 3}])
    await world.sync()

    [po] = world.po_for(order)
    by_item = lines(po)
    assert by_item["WSH-M8"]["quantityOrdered"] == 15
    assert by_item["SCR-4X30"]["quantityOrdered"] == 3
    assert (await world.record(order)).status == "posted"


async def test_void_before_receipt_closes_the_po(world: World) -> None:
    state = world.cin7.state
    doc = state.create_purchase(
        "STOCK", [{"sku": "RVT-4", "quantity": 4}], supplier_id=USD_SUPPLIER
    )
    await world.sync()
    state.void(doc["ID"])
    await world.sync()
    [po] = world.po_for(doc["OrderNumber"])
    assert po["status"] == "C"


async def test_credit_note_posts_a_credit_and_reverses_the_receipt(world: World) -> None:
    state = world.cin7.state
    doc = state.create_purchase(
        "STOCK", [{"sku": "GLV-NIT-L", "quantity": 10}], supplier_id=USD_SUPPLIER
    )
    pid, order = doc["ID"], doc["OrderNumber"]
    state.receive(pid)
    state.invoice(pid, "BW-INV-3")
    await world.sync()
    state.credit(pid, [{"sku": "GLV-NIT-L", "quantity": 2}], "BW-CR-1")
    await world.sync()

    record = await world.record(order)
    assert record.status == "posted", record.reason
    [po] = world.po_for(order)
    assert lines(po)["GLV-NIT-L"]["quantityReceived"] == 8
    credits = [i for i in world.qad_state()["supplierInvoices"] if i["type"] == "CreditNote"]
    assert len(credits) == 1


async def test_blocked_until_mapped_then_replayed_without_calling_cin7(world: World) -> None:
    state = world.cin7.state
    doc = state.create_purchase(
        "STOCK", [{"sku": "MTR-0.75KW", "quantity": 1}], supplier_id=USD_SUPPLIER
    )
    order = doc["OrderNumber"]
    await world.sync()
    record = await world.record(order)
    assert record.status == "blocked"
    assert record.reason == "missing item MTR-0.75KW"

    world.tenant.add_item("MTR075", "Electric Motor 0.75kW", unit_cost="289", gl_account="630")
    await world.store.set_mapping(world.cid, "item", "MTR-0.75KW", "MTR075", source="manual")
    calls_before = state.stats()["calls"]
    report = await world.replay([record])
    assert report.status == "succeeded"
    assert state.stats()["calls"] == calls_before  # replay reads the stored snapshot only
    assert (await world.record(order)).status == "posted"
    assert lines(world.po_for(order)[0])["MTR075"]["quantityOrdered"] == 1
    events = [e for e in await world.store.trail(world.cid, record.key)]
    assert any(e.event == "replayed" and e.actor == "replay:test" for e in events)


async def test_qad_validation_error_fails_that_record_and_the_others_post(world: World) -> None:
    await world.store.set_mapping(world.cid, "currency", "CAD", "ZZZ", source="manual")
    state = world.cin7.state
    bad = state.create_purchase(
        "STOCK", [{"sku": "ALU-BAR-25", "quantity": 2}], supplier_id=CAD_SUPPLIER
    )
    good = state.create_purchase(
        "STOCK", [{"sku": "ALU-BAR-25", "quantity": 2}], supplier_id=USD_SUPPLIER
    )
    report = await world.sync()
    assert report.status == "succeeded"
    failed = await world.record(bad["OrderNumber"])
    assert failed.status == "failed"
    assert failed.reason is not None
    assert "ZZZ" in failed.reason
    assert (await world.record(good["OrderNumber"])).status == "posted"


async def test_idle_sync_costs_two_cin7_calls(world: World) -> None:
    world.cin7.state.create_purchase(
        "STOCK", [{"sku": "BOX-S", "quantity": 100}], supplier_id=USD_SUPPLIER
    )
    await world.sync()
    before = world.cin7.state.stats()["by_path"]
    report = await world.sync()
    after = world.cin7.state.stats()["by_path"]
    spent = {
        path: after[path] - before.get(path, 0)
        for path in after
        if after[path] != before.get(path, 0)
    }
    assert spent == {"purchaseList": 1, "supplier": 1}
    assert report.counters.cin7_calls == 2


async def test_dry_run_posts_nothing_and_moves_no_cursor(world: World) -> None:
    world.cin7.state.create_purchase(
        "STOCK", [{"sku": "BOX-M", "quantity": 5}], supplier_id=USD_SUPPLIER
    )
    report = await world.sync(dry_run=True)
    assert report.would_post, "a dry run says what it would post"
    assert world.qad_state()["purchaseOrders"] == []
    assert await world.store.get_cursor(world.cid, "purchases") is None


class CorruptingTransport(httpx.AsyncHTTPTransport):
    """Real HTTP, except that the detail of one purchase comes back damaged."""

    def __init__(self, purchase_id: str, damage: Callable[[dict[str, Any]], None]) -> None:
        super().__init__()
        self.purchase_id = purchase_id
        self.damage = damage

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await super().handle_async_request(request)
        if request.url.params.get("ID") != self.purchase_id:
            return response
        body = json.loads(await response.aread())
        self.damage(body)
        return httpx.Response(response.status_code, json=body, request=request)


async def test_malformed_payloads_fail_that_record_with_a_readable_reason(world: World) -> None:
    state = world.cin7.state
    mistyped = state.create_purchase(
        "STOCK", [{"sku": "BOX-L", "quantity": 4}], supplier_id=USD_SUPPLIER
    )
    fine = state.create_purchase(
        "STOCK", [{"sku": "BOX-L", "quantity": 4}], supplier_id=USD_SUPPLIER
    )

    def break_quantity(body: dict[str, Any]) -> None:
        body["Order"]["Lines"][0]["Quantity"] = "four"

    world.cin7_transport = CorruptingTransport(mistyped["ID"], break_quantity)
    report = await world.sync()
    assert report.status == "succeeded"
    failed = await world.record(mistyped["OrderNumber"])
    assert failed.status == "failed"
    assert failed.reason is not None
    assert "'four' is not a number" in failed.reason
    assert (await world.record(fine["OrderNumber"])).status == "posted"


async def test_lines_that_do_not_add_up_fail_with_the_arithmetic(world: World) -> None:
    doc = world.cin7.state.create_purchase(
        "STOCK", [{"sku": "WRAP-500", "quantity": 2}], supplier_id=USD_SUPPLIER
    )

    def inflate_total(body: dict[str, Any]) -> None:
        body["Order"]["Lines"][0]["Total"] = 999

    world.cin7_transport = CorruptingTransport(doc["ID"], inflate_total)
    await world.sync()
    record = await world.record(doc["OrderNumber"])
    assert record.status == "failed"
    assert record.reason is not None
    assert "WRAP-500" in record.reason
    assert "999" in record.reason
    assert world.po_for(doc["OrderNumber"]) == []


async def test_refused_qad_credentials_stop_the_pass_and_mark_the_connection(
    world: World,
) -> None:
    world.cin7.state.create_purchase(
        "STOCK", [{"sku": "BOX-S", "quantity": 1}], supplier_id=USD_SUPPLIER
    )
    await world.change(qad_password="not-the-password")
    report = await world.sync()
    assert report.status == "failed"
    assert report.error_kind == "auth"
    connection = await world.store.get_connection("acme")
    assert not connection.healthy
    assert world.qad_state()["purchaseOrders"] == []
    assert world.tenant.stats()["token_requests"] <= 2  # refused once, not retried in a loop


async def test_refused_cin7_key_stops_the_pass_without_retrying(world: World) -> None:
    await world.change(cin7_application_key="wrong-key")
    before = world.cin7.state.stats()["calls"]
    report = await world.sync()
    assert report.status == "failed"
    assert report.error_kind == "auth"
    assert world.cin7.state.stats()["calls"] - before == 1


async def test_an_intent_without_outcome_is_resolved_by_looking_in_qad(world: World) -> None:
    """A crash between QAD's answer and our record of it: the next pass finds the receipt."""
    state = world.cin7.state
    doc = state.create_purchase(
        "STOCK", [{"sku": "LUB-SPR-400", "quantity": 6}], supplier_id=USD_SUPPLIER
    )
    await world.sync()
    state.receive(doc["ID"])
    record = await world.record(doc["OrderNumber"])
    snapshot = state.detail(doc["ID"])
    posted = {
        key: Posted(p.qad_id or "", p.details)
        for key, p in (await world.store.posted_state(world.cid, record)).items()
    }
    shared = await world.store.get_postings(world.cid, [f"supplier:{USD_SUPPLIER}"])
    posted.update({k: Posted(p.qad_id or "", p.details) for k, p in shared.items()})
    mappings = await world.store.mapping_table(world.cid)
    step = plan(
        Purchase.from_cin7(snapshot),
        None,
        Mappings(item=mappings["item"], location=mappings["location"]),
        posted,
        PlanContext(domain="10USA", entity="10USACO"),
    )
    [receipt] = [a for a in step.actions if isinstance(a, PostReceipt)]
    await world.store.record_intent(
        world.cid, receipt.natural_key, receipt.kind, record.id, intent_details(receipt)
    )
    async with qad_client(world.config) as qad:
        await execute(receipt, QadOperations(qad))  # QAD holds it; no outcome recorded

    await world.sync()

    slips = [r for r in world.qad_state()["receipts"] if r["packingSlip"] == receipt.packing_slip]
    assert len(slips) == 1
    trail = await world.store.trail(world.cid, record.key)
    assert any(e.event == "intent-resolved" and e.data.get("found") for e in trail)
    assert (await world.record(doc["OrderNumber"])).status == "posted"


async def test_a_refused_qad_password_stops_even_a_pass_with_nothing_to_post(
    world: World,
) -> None:
    first = await world.sync()
    assert first.status == "succeeded"
    await world.change(qad_password="not-the-password")
    idle = await world.sync()  # nothing changed in Cin7: no record would call QAD
    assert idle.status == "failed"
    assert idle.error_kind == "auth"
    connection = await world.store.get_connection("acme")
    assert not connection.healthy
