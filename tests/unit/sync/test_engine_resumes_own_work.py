"""What ml-connector half-did in QAD itself is resumed, never taken for work keyed by hand.

Adoption (go-live) looks in QAD before every create and records what finance keyed as posted.
A document the connector itself started — a PO whose header QAD created before a kill or an
unanswered line, a receipt or invoice whose answer was lost — is found there too; it must be
finished by the idempotent operations (missing PO lines added, nothing posted a second time),
not adopted, and never sent to needs-attention as "keyed in QAD by hand".
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from memory_world import MemoryWorld, catalog_reference, memory_world

from ml_connector.qad.models import (
    PurchaseOrderLineSpec,
    PurchaseOrderSpec,
    Receipt,
    ReceiptSpec,
)
from ml_connector.store.models import ConnectionConfig
from ml_connector.sync.engine import SyncEngine
from ml_connector.sync.reference import suggest_mappings
from ml_connector.testing import FakeQadChannel


class KilledAfterFirstLine(FakeQadChannel):
    """QAD adds the next PO line, then the process dies before any further line is sent."""

    victim: asyncio.Task[Any] | None = None

    async def add_po_line(self, spec: PurchaseOrderSpec, line: PurchaseOrderLineSpec) -> None:
        await super().add_po_line(spec, line)
        if self.victim is not None:
            self.victim.cancel()
            self.victim = None
            await asyncio.sleep(0)


class KilledAfterAReceipt(FakeQadChannel):
    """QAD posts the next receipt, then the process dies before the engine hears back; QAD's
    receiver search cannot find receipts by packing slip (`blind`), as a tenant that does not
    keep the slip searchable."""

    victim: asyncio.Task[Any] | None = None
    blind = False

    async def post_receipt(self, spec: ReceiptSpec) -> str | None:
        number = await super().post_receipt(spec)
        if self.victim is not None:
            self.victim.cancel()
            self.victim = None
            await asyncio.sleep(0)
        return number

    async def find_receipts(self, po_number: str, packing_slip: str | None = None) -> list[Receipt]:
        if self.blind and packing_slip is not None:
            return []
        return await super().find_receipts(po_number, packing_slip)


@pytest.fixture
async def world() -> MemoryWorld:
    return await memory_world()


async def _killed(world: MemoryWorld, qad: Any) -> None:
    killed = asyncio.create_task(world.sync())
    qad.victim = killed
    with pytest.raises(asyncio.CancelledError):
        await killed


async def _events(world: MemoryWorld, order: str) -> list[str]:
    return [e.event for e in await world.trail(order)]


async def test_a_po_half_created_before_a_kill_gets_its_missing_lines_not_adopted() -> None:
    qad = KilledAfterFirstLine(reference=catalog_reference())
    world = await memory_world(qad)
    doc = world.purchase("STOCK", WID_100=6, BRK_20=40, NUT_M8=12)
    world.cin7.state.receive(doc["ID"])
    world.cin7.state.invoice(doc["ID"], "RESUME-1")
    order = doc["OrderNumber"]

    await _killed(world, qad)
    half = await qad.get_purchase_order(order)
    assert half is not None
    assert len(half.lines) == 1

    resumed = await world.sync()

    assert resumed.status == "succeeded", resumed.error
    record = await world.record(order)
    assert (record.status, record.reason) == ("posted", None)
    po = await qad.get_purchase_order(order)
    assert po is not None
    assert sorted(line.item_code for line in po.lines) == ["BRK-20", "NUT-M8", "WID-100"]
    assert qad.calls_by_operation["create_purchase_order"] == 1
    assert len(qad.receipts_posted) == 1
    assert [i.reference for i in qad.invoices_posted] == ["RESUME-1"]
    assert resumed.counters.adopted == 0
    assert "adopted" not in await _events(world, order)
    assert await world.store.open_intents(world.cid) == []


async def test_a_po_whose_lines_qad_left_unanswered_is_finished_on_the_next_pass(
    world: MemoryWorld,
) -> None:
    doc = world.purchase("STOCK", WID_100=6, BRK_20=40)
    order = doc["OrderNumber"]
    world.qad.inject("add_po_line", "unavailable", times=1)

    first = await world.sync()
    assert (await world.record(order)).status == "pending", first.error
    half = await world.qad.get_purchase_order(order)
    assert half is not None
    assert half.lines == []

    second = await world.sync()

    assert second.status == "succeeded", second.error
    assert (await world.record(order)).status in ("posted", "waiting")
    po = await world.qad.get_purchase_order(order)
    assert po is not None
    assert sorted(line.item_code for line in po.lines) == ["BRK-20", "WID-100"]
    assert second.counters.adopted == 0
    assert second.counters.attention == 0
    assert "adopted" not in await _events(world, order)


async def test_a_po_line_qad_refused_is_finished_by_replay_not_adopted(
    world: MemoryWorld,
) -> None:
    doc = world.purchase("STOCK", WID_100=6, BRK_20=40)
    order = doc["OrderNumber"]
    # QAD creates the header and the first line, then answers that line with an error.
    world.qad.inject("add_po_line", "error-after-write", times=1)

    first = await world.sync()
    record = await world.record(order)
    assert record.status == "failed", first.error
    assert "QAD refused" in (record.reason or "")

    replayed = await world.engine(actor="replay:test").replay([record])

    assert replayed.status == "succeeded", replayed.error
    record = await world.record(order)
    assert record.status in ("posted", "waiting"), record.reason
    po = await world.qad.get_purchase_order(order)
    assert po is not None
    assert sorted(line.item_code for line in po.lines) == ["BRK-20", "WID-100"]
    assert replayed.counters.adopted == 0
    assert "adopted" not in await _events(world, order)


async def test_our_receipt_qad_cannot_find_by_slip_is_recognised_by_quantity_once() -> None:
    qad = KilledAfterAReceipt(reference=catalog_reference())
    world = await memory_world(qad)
    doc = world.purchase("STOCK", WID_100=6)
    order = doc["OrderNumber"]
    await world.sync()
    world.cin7.state.receive(doc["ID"])
    qad.blind = True

    await _killed(world, qad)
    assert len(qad.receipts_posted) == 1

    resumed = await world.sync()

    assert resumed.status == "succeeded", resumed.error
    assert len(qad.receipts_posted) == 1  # non-idempotent in QAD: never a second receiver
    assert qad.calls_by_operation["post_receipt"] == 1
    record = await world.record(order)
    assert record.status in ("posted", "waiting"), record.reason
    assert resumed.counters.adopted == 0
    events = await _events(world, order)
    assert "adopted" not in events
    resolved = [e for e in await world.trail(order) if e.event == "intent-resolved"]
    assert resolved[-1].data["found"] is True


async def test_our_invoice_qad_saved_but_refused_is_recorded_once_not_adopted(
    world: MemoryWorld,
) -> None:
    doc = world.purchase("STOCK", WID_100=6)
    order = doc["OrderNumber"]
    world.cin7.state.receive(doc["ID"])
    world.cin7.state.invoice(doc["ID"], "RESUME-INV")
    world.qad.inject("create_supplier_invoice", "error-after-write", times=1)

    first = await world.sync()
    record = await world.record(order)
    assert record.status == "failed", first.error
    assert [i.reference for i in world.qad.invoices_posted] == ["RESUME-INV"]

    replayed = await world.engine(actor="replay:test").replay([record])

    assert replayed.status == "succeeded", replayed.error
    assert [i.reference for i in world.qad.invoices_posted] == ["RESUME-INV"]
    assert (await world.record(order)).status == "posted"
    assert replayed.counters.adopted == 0
    assert "adopted" not in await _events(world, order)


async def test_documents_finance_keyed_by_hand_are_still_adopted(world: MemoryWorld) -> None:
    doc = world.purchase("STOCK", WID_100=6)
    order = doc["OrderNumber"]
    world.cin7.state.receive(doc["ID"])
    world.cin7.state.invoice(doc["ID"], "BY-HAND-1")
    first = await world.sync()
    assert (first.counters.purchase_orders, first.counters.adopted) == (1, 0)
    # A second connection to the same tenant has no intent for any of it: to it, QAD's
    # documents are finance's, keyed by hand, and they are adopted, not posted again.
    settings = {**world.config.settings()}
    other = await world.store.add_connection(ConnectionConfig.from_settings("other", settings))
    assert other.id is not None
    await suggest_mappings(world.store, other.id, world.cin7, world.qad, apply=True)
    writes = list(world.qad.writes)

    adopted = await SyncEngine(world.store, other, world.cin7, world.qad).sync()

    assert adopted.status == "succeeded", adopted.error
    assert world.qad.writes == writes
    assert adopted.counters.adopted == 3  # the PO, its receipt and its invoice
    trail = await world.store.trail(other.id, (await world.record(order)).key)
    assert [e.event for e in trail].count("adopted") == 3
