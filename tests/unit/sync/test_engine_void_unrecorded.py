"""A purchase voided after our create reached QAD, before its outcome was recorded.

The void of a posted PO closes it; of a posted invoice, tells a person to reverse it. Our own
document whose outcome was lost (a kill between QAD's commit and ours, a refusal after QAD
saved it) is looked up in QAD first, so the void is planned from what QAD really holds: the PO
is closed once, never left open; the invoice is named, never forgotten. Documents we never sent
are not looked for.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from memory_world import MemoryWorld, catalog_reference, memory_world

from ml_connector.qad.models import PoHeaderChange, PurchaseOrder, PurchaseOrderSpec
from ml_connector.testing import FakeQadChannel


class KillingQad(FakeQadChannel):
    """The process dies (its task is cancelled) right after QAD commits the operation named
    in `after`, or right before QAD sees the one named in `before`."""

    victim: asyncio.Task[Any] | None = None
    after = "add_po_line"
    before = ""
    closes = 0

    def _kill(self) -> None:
        if self.victim is not None:
            self.victim.cancel()
            self.victim = None

    async def add_po_line(self, spec: PurchaseOrderSpec, line: Any) -> None:
        await super().add_po_line(spec, line)
        if self.after == "add_po_line":
            self._kill()
            await asyncio.sleep(0)

    async def create_purchase_order(self, spec: PurchaseOrderSpec) -> PurchaseOrder:
        if self.before == "create_purchase_order" and self.victim is not None:
            self._kill()
            await asyncio.sleep(0)
        return await super().create_purchase_order(spec)

    async def update_po_header(self, held: PurchaseOrder, change: PoHeaderChange) -> None:
        if change.status == "C":
            self.closes += 1
        await super().update_po_header(held, change)


@pytest.fixture
async def killing() -> tuple[MemoryWorld, KillingQad]:
    qad = KillingQad(reference=catalog_reference())
    return await memory_world(qad), qad


async def _killed(world: MemoryWorld, qad: KillingQad) -> None:
    killed = asyncio.create_task(world.sync())
    qad.victim = killed
    with pytest.raises(asyncio.CancelledError):
        await killed


async def test_a_po_qad_took_before_a_kill_is_closed_once_when_voided(
    killing: tuple[MemoryWorld, KillingQad],
) -> None:
    world, qad = killing
    doc = world.purchase("STOCK", WID_100=6, BRK_20=40)
    order = doc["OrderNumber"]
    await _killed(world, qad)
    half = await qad.get_purchase_order(order)
    assert half is not None
    assert half.status == "O"
    assert [i.natural_key for i in await world.store.open_intents(world.cid)] == [f"po:{order}"]
    world.cin7.state.void(doc["ID"])

    voided = await world.sync()

    assert voided.status == "succeeded", voided.error
    po = await qad.get_purchase_order(order)
    assert po is not None
    assert po.status == "C"
    assert qad.closes == 1
    assert qad.calls_by_operation["create_purchase_order"] == 1  # never completed, never again
    assert voided.counters.closed == 1
    record = await world.record(order)
    assert (record.status, record.reason) == ("void", f"PO {order} is closed in QAD")
    trail = await world.trail(order)
    resolved = [e.data for e in trail if e.event == "intent-resolved"]
    assert resolved == [
        {"natural_key": f"po:{order}", "found": True, "qad_id": order, "voided": True}
    ]
    closed = [
        e.data for e in trail if e.event == "posted" and e.data["natural_key"].startswith("close:")
    ]
    assert [c["action"] for c in closed] == [f"close PO {order} ({order}, voided in Cin7)"]
    assert await world.store.open_intents(world.cid) == []
    posting = await world.store.get_posting(world.cid, f"po:{order}")
    assert posting is not None
    assert posting.state == "posted"
    assert [line["line"] for line in posting.details["lines"]] == [1]  # what QAD took

    writes = list(qad.writes)
    again = await world.sync()
    assert again.status == "succeeded", again.error
    assert qad.writes == writes
    assert qad.closes == 1


async def test_a_po_intent_qad_never_saw_is_dropped_and_the_void_recorded(
    killing: tuple[MemoryWorld, KillingQad],
) -> None:
    world, qad = killing
    qad.after, qad.before = "", "create_purchase_order"
    doc = world.purchase("STOCK", WID_100=6)
    order = doc["OrderNumber"]
    await _killed(world, qad)
    assert await qad.get_purchase_order(order) is None
    assert [i.natural_key for i in await world.store.open_intents(world.cid)] == [f"po:{order}"]
    world.cin7.state.void(doc["ID"])
    writes = list(qad.writes)

    voided = await world.sync()

    assert voided.status == "succeeded", voided.error
    assert qad.writes == writes
    assert await qad.get_purchase_order(order) is None
    record = await world.record(order)
    assert (record.status, record.reason) == (
        "void",
        "voided in Cin7 before anything was posted to QAD",
    )
    resolved = [e.data for e in await world.trail(order) if e.event == "intent-resolved"]
    assert resolved == [{"natural_key": f"po:{order}", "found": False, "voided": True}]
    assert await world.store.open_intents(world.cid) == []

    replayed = await world.engine(actor="replay:test").replay([record])

    assert replayed.status == "succeeded", replayed.error
    assert qad.writes == writes
    events = [e.event for e in await world.trail(order)]
    assert events.count("intent-resolved") == 1  # looked up once: QAD did not hold it


async def test_a_dry_run_of_the_void_previews_the_close_and_writes_nothing(
    killing: tuple[MemoryWorld, KillingQad],
) -> None:
    world, qad = killing
    doc = world.purchase("STOCK", WID_100=6, BRK_20=40)
    order = doc["OrderNumber"]
    await _killed(world, qad)
    world.cin7.state.void(doc["ID"])
    writes = list(qad.writes)
    trail = await world.trail(order)

    preview = await world.engine().sync(dry_run=True)

    assert preview.status == "succeeded", preview.error
    assert preview.preview is not None
    assert (order, f"close PO {order} ({order}, voided in Cin7)") in preview.preview.post
    assert qad.writes == writes
    added = [e.event for e in await world.trail(order)][len(trail) :]
    assert added == ["fetched"]  # a dry run stages the void, records nothing of QAD
    assert [i.natural_key for i in await world.store.open_intents(world.cid)] == [f"po:{order}"]


async def test_our_invoice_qad_saved_then_refused_is_named_when_the_purchase_is_voided(
    killing: tuple[MemoryWorld, KillingQad],
) -> None:
    world, qad = killing
    qad.after = ""
    doc = world.purchase("STOCK", WID_100=6)
    order = doc["OrderNumber"]
    world.cin7.state.receive(doc["ID"])
    world.cin7.state.invoice(doc["ID"], "VOID-INV")
    qad.inject("create_supplier_invoice", "error-after-write", times=1)
    first = await world.sync()
    record = await world.record(order)
    assert record.status == "failed", first.error
    [invoice] = qad.invoices_posted
    assert await world.store.open_intents(world.cid) == []  # dropped on the refusal
    world.cin7.state.void(doc["ID"])
    writes = list(qad.writes)

    voided = await world.sync()

    assert voided.status == "succeeded", voided.error
    assert qad.writes == writes  # an invoice is never posted twice, nor reversed by us
    record = await world.record(order)
    assert record.status == "attention"
    assert "QAD holds its invoices VOID-INV: reverse them in QAD" in (record.reason or "")
    resolved = [e.data for e in await world.trail(order) if e.event == "intent-resolved"]
    assert len(resolved) == 1
    assert resolved[0]["found"] is True
    assert resolved[0]["qad_id"] == str(invoice.voucher)
    assert resolved[0]["natural_key"].startswith("invoice:")
