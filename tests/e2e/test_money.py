"""Accounts payable end to end (issue 8): each Cin7 purchase invoice becomes its own QAD invoice
on its own PO, also when a crash leaves an intent behind."""

from __future__ import annotations

from typing import Any

import pytest
from e2e_world import World

from ml_connector.cin7.models import Purchase
from ml_connector.sync.actions import PostInvoice
from ml_connector.sync.engine import intent_details
from ml_connector.sync.inputs import Mappings, PlanContext, Posted
from ml_connector.sync.plan import plan

# Every flow runs on both ways of posting receipts and invoices: REST and QXtend (mixed).
pytestmark = pytest.mark.parametrize("qad_profile", ["rest", "mixed"], indirect=True)


USD_SUPPLIER = "02c19aa9-b6d7-4031-adbe-5f3d418bfbb0"  # Beacon Wire & Cable Co. (seed 11)


def invoices_of(world: World, reference: str) -> list[dict[str, Any]]:
    return [i for i in world.qad_state()["supplierInvoices"] if i["invoiceReference"] == reference]


def received_and_invoiced(world: World, sku: str, quantity: int, number: str) -> dict[str, Any]:
    state = world.cin7.state
    doc = state.create_purchase(
        "STOCK", [{"sku": sku, "quantity": quantity}], supplier_id=USD_SUPPLIER
    )
    state.receive(doc["ID"])
    return state.invoice(doc["ID"], number)


async def test_one_supplier_invoice_number_on_two_purchases_posts_two_invoices(
    world: World,
) -> None:
    first = received_and_invoiced(world, "WID-100", 10, "BW-SPLIT-1")
    second = received_and_invoiced(world, "BRK-20", 40, "BW-SPLIT-1")

    report = await world.sync()

    assert report.status == "succeeded", report.error
    invoices = invoices_of(world, "BW-SPLIT-1")
    by_po = {tuple(inv["purchaseOrders"]): inv for inv in invoices}
    assert set(by_po) == {(first["OrderNumber"],), (second["OrderNumber"],)}
    for doc in (first, second):
        record = await world.record(doc["OrderNumber"])
        assert record.status == "posted", record.reason
        invoice = by_po[(doc["OrderNumber"],)]
        assert str(invoice["amountTC"]) == str(doc["Invoice"]["Total"])
        postings = await world.store.posted_state(world.cid, record)
        [voucher] = [p.qad_id for k, p in postings.items() if k.startswith("invoice:")]
        assert voucher == str(invoice["voucher"])


async def test_after_a_crash_a_purchase_never_takes_another_purchases_invoice(
    world: World,
) -> None:
    """An intent left by a crash before QAD saw the second purchase's invoice: the look-up
    must not take the first purchase's invoice (same supplier and number) for it."""
    state = world.cin7.state
    first = received_and_invoiced(world, "WID-100", 10, "BW-SPLIT-2")
    second = state.create_purchase(
        "STOCK", [{"sku": "BRK-20", "quantity": 40}], supplier_id=USD_SUPPLIER
    )
    state.receive(second["ID"])
    await world.sync()  # the first purchase posts whole, the second its PO and receipt
    state.invoice(second["ID"], "BW-SPLIT-2")
    record = await world.record(second["OrderNumber"])
    posted = {
        k: Posted(p.qad_id or "", p.details)
        for k, p in (await world.store.posted_state(world.cid, record)).items()
    }
    shared = await world.store.get_postings(world.cid, [f"supplier:{USD_SUPPLIER}"])
    posted.update({k: Posted(p.qad_id or "", p.details) for k, p in shared.items()})
    tables = await world.store.mapping_table(world.cid)
    step = plan(
        Purchase.from_cin7(state.detail(second["ID"])),
        None,
        Mappings(**{kind: tables.get(kind, {}) for kind in ("item", "location", "currency")}),
        posted,
        PlanContext(domain="10USA", entity="10USACO"),
    )
    [invoice] = [a for a in step.actions if isinstance(a, PostInvoice)]
    await world.store.record_intent(
        world.cid, invoice.natural_key, invoice.kind, record.id, intent_details(invoice)
    )  # the crash: QAD never got the call

    await world.sync()

    invoices = invoices_of(world, "BW-SPLIT-2")
    by_po = {inv["purchaseOrders"][0]: inv for inv in invoices}
    assert sorted(by_po) == sorted([first["OrderNumber"], second["OrderNumber"]])
    postings = await world.store.posted_state(world.cid, record)
    assert postings[invoice.natural_key].qad_id == str(by_po[second["OrderNumber"]]["voucher"])
    assert (await world.record(second["OrderNumber"])).status == "posted"


async def test_each_receipt_goes_to_the_site_of_its_receiving_location(world: World) -> None:
    state = world.cin7.state
    doc = state.create_purchase(
        "STOCK",
        [{"sku": "WID-100", "quantity": 10}],
        supplier_id=USD_SUPPLIER,
        location="Main Warehouse",
    )
    state.receive(
        doc["ID"],
        [{"sku": "WID-100", "quantity": 4, "location": "East Coast DC"}],
        "2026-03-02",
        authorise=False,
    )
    state.receive(doc["ID"], [{"sku": "WID-100", "quantity": 6}], "2026-03-03")

    await world.sync()

    record = await world.record(doc["OrderNumber"])
    assert record.status == "posted", record.reason
    po_site = {
        ln.site for ln in world.tenant.purchase_order("10USA", doc["OrderNumber"]).lines.values()
    }
    receivers = world.tenant.receivers_by_po[("10USA", doc["OrderNumber"])]
    by_day = {
        rc.effective_date[:10]: [(ln.quantity, ln.site) for ln in rc.lines] for rc in receivers
    }
    assert po_site == {"10-100"}
    assert by_day == {"2026-03-02": [(4, "10-200")], "2026-03-03": [(6, "10-100")]}


async def test_goods_received_at_an_unmapped_location_wait_naming_it(world: World) -> None:
    state = world.cin7.state
    doc = state.create_purchase(
        "STOCK", [{"sku": "WID-100", "quantity": 10}], supplier_id=USD_SUPPLIER
    )
    state.receive(doc["ID"], [{"sku": "WID-100", "quantity": 10, "location": "Production Floor"}])

    await world.sync()

    record = await world.record(doc["OrderNumber"])
    assert record.status == "blocked"
    assert record.reason == "missing location Production Floor"
    assert world.tenant.purchase_order("10USA", doc["OrderNumber"]) is None


async def test_service_lines_and_service_purchases_post_to_gl_accounts(world: World) -> None:
    state = world.cin7.state
    mixed = state.create_purchase(
        "INVOICE",
        [{"sku": "WID-100", "quantity": 10}, {"sku": "CST-CAL-1", "quantity": 1, "price": 150}],
        supplier_id=USD_SUPPLIER,
    )
    state.invoice(mixed["ID"], "BW-SVC-1")
    service = state.create_purchase(
        "INVOICE",
        [],
        supplier_id=USD_SUPPLIER,
        service=True,
        charges=[{"description": "Calibration visit", "price": 480, "account": "429"}],
    )
    state.invoice(service["ID"], "BW-SVC-2")

    await world.sync()

    held = await world.record(mixed["OrderNumber"])
    assert held.status == "held"
    assert held.reason == "WID-100: invoiced 10, received in QAD 0"  # not the service
    po = world.tenant.purchase_order("10USA", mixed["OrderNumber"])
    assert po is not None
    assert [line.item for line in po.lines.values()] == ["WID-100"]
    done = await world.record(service["OrderNumber"])
    assert done.status == "posted", done.reason
    [invoice] = invoices_of(world, "BW-SVC-2")
    assert invoice["purchaseOrders"] == []
    assert world.tenant.purchase_order("10USA", service["OrderNumber"]) is None
    voucher = world.tenant.invoices[invoice["voucher"]]
    assert [(g.gl_code, g.amount) for g in voucher.gl_lines] == [("429", 480)]

    state.receive(mixed["ID"])
    await world.sync()

    assert (await world.record(mixed["OrderNumber"])).status == "posted"
    [paper] = invoices_of(world, "BW-SVC-1")
    lines = world.tenant.invoices[paper["voucher"]]
    assert [(m.item, m.quantity) for m in lines.matching] == [("WID-100", 10)]
    assert [(g.gl_code, g.amount) for g in lines.gl_lines] == [("429", 150)]


async def test_the_trail_records_the_account_of_every_invoice_line(world: World) -> None:
    state = world.cin7.state
    doc = state.create_purchase(
        "STOCK",
        [{"sku": "WID-100", "quantity": 10}, {"sku": "CST-CAL-1", "quantity": 1, "price": 150}],
        supplier_id=USD_SUPPLIER,
        freight=30,
    )
    state.receive(doc["ID"])
    state.invoice(doc["ID"], "BW-ACC-1")

    await world.sync()

    record = await world.record(doc["OrderNumber"])
    assert record.status == "posted", record.reason
    trail = await world.store.trail(world.cid, record.key)
    [posted] = [e for e in trail if e.event == "posted" and "invoice" in e.data["action"]]
    accounts = {(row["line"], row["account"]) for row in posted.data["accounts"]}
    assert accounts - {("tax", "(tax)")} == {
        ("WID-100", "630"),  # QAD's item account, as QAD took it for the PO line
        ("CST-CAL-1 Calibration Service", "429"),
        ("Freight", "4250"),
    }
    assert (posted.data["status_code"], posted.data["matched"]) == ("AP-INITIAL", True)


async def test_an_invoice_qad_leaves_unmatched_is_followed_until_it_matches(
    world: World,
) -> None:
    await world.change(price_tolerance_pct=10)
    state = world.cin7.state
    doc = state.create_purchase(
        "STOCK", [{"sku": "WID-100", "quantity": 10, "price": 12.5}], supplier_id=USD_SUPPLIER
    )
    state.receive(doc["ID"])
    state.invoice(
        doc["ID"], "BW-VAR-1", [{"sku": "WID-100", "quantity": 10, "price": 13.5}]
    )  # 8 %: within our 10 %, beyond QAD's 5 %

    await world.sync()

    record = await world.record(doc["OrderNumber"])
    assert record.status == "posted", record.reason
    [invoice] = invoices_of(world, "BW-VAR-1")
    assert invoice["matchingStatus"] == "Ongoing"
    postings = await world.store.posted_state(world.cid, record)
    [key] = [k for k in postings if k.startswith("invoice:")]
    assert postings[key].details["matching_status"] == "Ongoing"
    assert postings[key].details["variances"][0]["po_price"] == "12.5000"

    world.tenant.invoices[invoice["voucher"]].matching_status = "Finished"  # a person in QAD
    await world.sync()

    postings = await world.store.posted_state(world.cid, record)
    assert postings[key].details["matching_status"] == "Finished"
    trail = await world.store.trail(world.cid, record.key)
    assert [e.data["voucher"] for e in trail if e.event == "matched"] == [str(invoice["voucher"])]
