"""No Cin7 detail call for a list row that cannot lead to a QAD action (drafts; voids of nothing
posted), counted against FakeCin7: a pass costs its two list calls plus one detail call per
changed actionable purchase."""

from __future__ import annotations

from typing import Any

import pytest
from memory_world import USD_SUPPLIER, MemoryWorld, memory_world

from ml_connector.cin7.models import PurchaseListRow
from ml_connector.sync.listing import inactive

LIST_CALLS = 2  # suppliers and purchases, one page each
ID = "5b0a3c1d-2e4f-4a6b-8c7d-9e0f1a2b3c4d"


def row(**fields: Any) -> PurchaseListRow:
    return PurchaseListRow.from_cin7(
        {"ID": ID, "OrderNumber": "PO-1", "LastUpdatedDate": "2026-11-30T10:00:00", **fields}
    )


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"Status": "ORDERING", "OrderStatus": "DRAFT"}, "draft"),
        ({"Status": "ORDERING", "OrderStatus": "NOT AVAILABLE"}, "draft"),
        ({"Status": "DRAFT", "OrderStatus": " draft "}, "draft"),
        ({"Status": "VOIDED", "OrderStatus": "AUTHORISED"}, "void"),
        ({"Status": "ORDERED", "OrderStatus": "VOIDED"}, "void"),
        ({"Status": "VOIDED", "OrderStatus": "DRAFT"}, "void"),
        ({"Status": "ORDERED", "OrderStatus": "AUTHORISED"}, None),
        ({"Status": "RECEIVED / CREDITED", "OrderStatus": "AUTHORISED"}, None),
        # goods can arrive on a blind receipt before any order: fetch it
        ({"Status": "RECEIVING", "OrderStatus": "NOT AVAILABLE", "BlindReceipt": True}, None),
        # only what the row says plainly is skipped
        ({"Status": "", "OrderStatus": ""}, None),
        ({"Status": "ORDERING", "OrderStatus": "ON HOLD"}, None),
    ],
)
def test_a_row_alone_tells_drafts_and_voids(fields: dict[str, Any], expected: str | None) -> None:
    assert inactive(row(**fields)) == expected


@pytest.fixture
async def world() -> MemoryWorld:
    return await memory_world()


def draft(world: MemoryWorld) -> str:
    """A purchase the buyer has started and not authorised (Order NOT AVAILABLE)."""
    p = world.cin7.state.new_purchase({"Approach": "STOCK", "SupplierID": USD_SUPPLIER})
    return p.order_number


async def test_drafts_and_voids_never_posted_cost_no_detail_call(world: MemoryWorld) -> None:
    live = world.purchase("STOCK", WID_100=10)
    started = draft(world)
    gone = world.purchase("STOCK", BRK_20=4)
    world.cin7.state.void(gone["ID"])

    report = await world.sync()

    assert report.status == "succeeded", report.error
    assert report.counters.cin7_calls == LIST_CALLS + 1
    assert (report.counters.purchases_fetched, report.counters.not_fetched) == (1, 2)
    assert (await world.record(live["OrderNumber"])).status == "posted"
    for skipped in (started, gone["OrderNumber"]):
        assert await world.store.find_records(world.cid, skipped) == []


async def test_a_void_of_something_posted_is_fetched_and_closes_the_po(world: MemoryWorld) -> None:
    doc = world.purchase("STOCK", WID_100=10)
    assert (await world.sync()).counters.purchase_orders == 1
    world.cin7.state.void(doc["ID"])

    report = await world.sync()

    assert report.counters.cin7_calls == LIST_CALLS + 1
    assert report.counters.not_fetched == 0
    assert report.counters.closed == 1
    assert (await world.record(doc["OrderNumber"])).status == "void"


async def test_a_held_purchase_voided_since_is_fetched_so_its_old_snapshot_never_posts(
    world: MemoryWorld,
) -> None:
    doc = world.purchase("INVOICE", NUT_M8=12)
    world.cin7.state.invoice(doc["ID"], "MEM-INV-V")
    await world.sync()
    assert (await world.record(doc["OrderNumber"])).status == "held"
    world.cin7.state.void(doc["ID"])

    report = await world.sync()

    assert report.counters.cin7_calls == LIST_CALLS + 1
    record = await world.record(doc["OrderNumber"])
    assert record.status == "void"  # PO closed, nothing was received or invoiced in QAD
    assert world.qad.invoices_posted == []


async def test_an_hourly_sync_costs_the_changed_actionable_purchases_plus_two(
    world: MemoryWorld,
) -> None:
    docs = [world.purchase("STOCK", WID_100=n + 1) for n in range(5)]
    await world.sync()
    world.clock.advance(3600)
    for doc in docs[:3]:
        world.cin7.state.receive(doc["ID"])
    draft(world)
    draft(world)
    late = world.purchase("STOCK", BRK_20=8)
    world.cin7.state.void(late["ID"])

    report = await world.sync()

    assert report.counters.cin7_calls == 3 + LIST_CALLS
    assert report.counters.receipts == 3
    assert report.counters.not_fetched == 3


async def test_a_dry_run_lists_what_it_did_not_fetch(world: MemoryWorld) -> None:
    started = draft(world)

    report = await world.engine().sync(dry_run=True)

    assert report.preview is not None
    assert (started, "draft in Cin7: nothing for QAD") in report.preview.skip
    assert report.counters.cin7_calls == LIST_CALLS


async def test_a_dry_run_lists_holds_blocks_and_skips_and_posts_nothing(
    world: MemoryWorld,
) -> None:
    invoiced = world.purchase("INVOICE", NUT_M8=12)
    world.cin7.state.invoice(invoiced["ID"], "MEM-INV-9")
    await world.store.remove_mapping(world.cid, "item", "WID-150")
    unmapped = world.purchase("STOCK", WID_150=5)
    started = draft(world)

    report = await world.engine().sync(dry_run=True)

    preview = report.preview
    assert preview is not None
    (hold,) = preview.hold
    assert hold[0] == invoiced["OrderNumber"]
    assert "NUT-M8: invoiced 12, received in QAD 0" in hold[1]
    assert (unmapped["OrderNumber"], "missing item WID-150") in preview.block
    assert (started, "draft in Cin7: nothing for QAD") in preview.skip
    assert world.qad.writes == []
    assert await world.store.get_cursor(world.cid, "purchases") is None
