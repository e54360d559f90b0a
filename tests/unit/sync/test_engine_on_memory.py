"""The sync engine on the in-package doubles: MemoryStore, FakeCin7, FakeQadChannel.

No database, HTTP or sleep: each test syncs real purchases end to end in milliseconds, so the
engine's promises (an intent before every QAD write and an outcome after it, holds released,
blocked records posted once mapped, a pass stopped by refused credentials, crash intents
resolved from QAD, one pass per connection) are checked in the unit tier.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from memory_world import MemoryWorld, catalog_reference, memory_world

from ml_connector.errors import AuthRejected, ConnectionBusy
from ml_connector.qad.models import ReceiptSpec
from ml_connector.testing import FakeQadChannel
from ml_connector.usecases.lock import connection_lock


@pytest.fixture
async def world() -> MemoryWorld:
    return await memory_world()


async def test_every_qad_write_has_an_intent_before_it_and_an_outcome_after(
    world: MemoryWorld,
) -> None:
    doc = world.purchase("STOCK", WID_100=10, BRK_20=40)
    world.cin7.state.receive(doc["ID"])
    world.cin7.state.invoice(doc["ID"], "MEM-INV-1")
    cin7_before = world.cin7.calls

    report = await world.sync()

    assert report.status == "succeeded", report.error
    record = await world.record(doc["OrderNumber"])
    assert (record.status, record.reason) == ("posted", None)
    assert await world.store.open_intents(world.cid) == []
    postings = await world.store.list_postings(world.cid)
    assert postings
    assert {p.state for p in postings} == {"posted"}
    assert {"create_po", "receipt", "invoice"} <= {p.kind for p in postings}
    seen_intents: set[str] = set()
    outcomes: set[str] = set()
    for event in await world.store.events(world.cid):
        key = event.data.get("natural_key") if isinstance(event.data, dict) else None
        if event.event == "intent":
            seen_intents.add(key)
        elif event.event == "posted" and key:
            assert key in seen_intents, f"{key} posted without an intent before it"
            outcomes.add(key)
    assert outcomes == seen_intents
    assert {p.natural_key for p in postings} <= outcomes
    assert await world.store.verify(world.cid) == []
    assert report.counters.qad_calls > 0
    assert report.counters.cin7_calls == world.cin7.calls - cin7_before

    writes = list(world.qad.writes)
    again = await world.sync()
    assert again.status == "succeeded"
    assert world.qad.writes == writes  # nothing is posted twice
    assert again.counters.purchases_fetched == 0


async def test_an_invoice_before_its_receipt_is_held_then_released(world: MemoryWorld) -> None:
    doc = world.purchase("INVOICE", NUT_M8=12)
    world.cin7.state.invoice(doc["ID"], "MEM-INV-2")

    held = await world.sync()
    record = await world.record(doc["OrderNumber"])
    assert record.status == "held"
    assert "NUT-M8: invoiced 12, received in QAD 0" in (record.reason or "")
    assert world.qad.invoices_posted == []
    assert held.counters.held == 1

    world.cin7.state.receive(doc["ID"])
    released = await world.sync()
    assert (await world.record(doc["OrderNumber"])).status == "posted"
    assert [i.reference for i in world.qad.invoices_posted] == ["MEM-INV-2"]
    assert released.counters.released == 1
    events = [e.event for e in await world.trail(doc["OrderNumber"])]
    assert events.index("held") < events.index("released")


async def test_a_blocked_purchase_posts_once_mapped_and_replayed(world: MemoryWorld) -> None:
    suggested = await world.store.get_mapping(world.cid, "item", "WID-150")
    assert suggested is not None
    await world.store.remove_mapping(world.cid, "item", "WID-150")
    doc = world.purchase("STOCK", WID_150=5)

    blocked = await world.sync()
    record = await world.record(doc["OrderNumber"])
    assert record.status == "blocked"
    assert "WID-150" in (record.reason or "")
    assert blocked.counters.blocked == 1
    assert await world.qad.get_purchase_order(doc["OrderNumber"]) is None

    await world.store.set_mapping(world.cid, "item", "WID-150", suggested.qad_value)
    replayed = await world.engine(actor="replay:test").replay([record])

    assert replayed.status == "succeeded", replayed.error
    assert (await world.record(doc["OrderNumber"])).status == "posted"
    po = await world.qad.get_purchase_order(doc["OrderNumber"])
    assert po is not None
    assert [line.item_code for line in po.lines] == [suggested.qad_value]
    events = [(e.event, e.actor) for e in await world.trail(doc["OrderNumber"])]
    assert ("blocked", "sync") in events
    assert ("replayed", "replay:test") in events
    assert events[-1] == ("completed", "replay:test")


async def test_refused_cin7_credentials_stop_the_pass_and_mark_the_connection(
    world: MemoryWorld,
) -> None:
    world.cin7.fail_with(AuthRejected("Method authentication failed", system="cin7", status=403))

    report = await world.sync()

    assert (report.status, report.error_kind) == ("failed", "auth")
    connection = await world.store.get_connection("memory")
    assert connection.healthy is False
    assert "authentication failed" in (connection.health_message or "")
    [run] = await world.store.list_runs(world.cid)
    assert (run.status, run.error) == ("failed", report.error)
    assert await world.store.get_cursor(world.cid, "purchases") is None

    world.cin7.recover()
    assert (await world.sync()).status == "succeeded"
    assert (await world.store.get_connection("memory")).healthy is True


async def test_refused_qad_credentials_stop_the_pass_and_leave_the_record_pending(
    world: MemoryWorld,
) -> None:
    doc = world.purchase("STOCK", BRK_40=8)
    world.qad.inject("create_purchase_order", "auth-rejected")

    report = await world.sync()

    assert (report.status, report.error_kind) == ("failed", "auth")
    assert (await world.record(doc["OrderNumber"])).status == "pending"
    assert (await world.store.get_connection("memory")).healthy is False
    # The refused create was never sent: its intent is looked up and dropped next pass.
    assert [p.kind for p in await world.store.open_intents(world.cid)] == ["create_po"]

    resumed = await world.sync()
    assert resumed.status == "succeeded", resumed.error
    assert (await world.record(doc["OrderNumber"])).status == "posted"
    assert await world.store.open_intents(world.cid) == []


class KilledAfterAReceipt(FakeQadChannel):
    """QAD records the next receipt, then the process dies before the engine hears back."""

    victim: asyncio.Task[Any] | None = None

    async def post_receipt(self, spec: ReceiptSpec) -> str | None:
        number = await super().post_receipt(spec)
        if self.victim is not None:
            self.victim.cancel()
            self.victim = None
            await asyncio.sleep(0)
        return number


async def test_an_intent_left_by_a_crash_after_qad_answered_is_found_not_posted_again() -> None:
    qad = KilledAfterAReceipt(reference=catalog_reference())
    world = await memory_world(qad)
    doc = world.purchase("STOCK", WID_100=6)
    await world.sync()
    world.cin7.state.receive(doc["ID"])

    killed = asyncio.create_task(world.sync())
    qad.victim = killed
    with pytest.raises(asyncio.CancelledError):
        await killed
    [run, _] = await world.store.list_runs(world.cid)
    assert run.status == "interrupted"
    [intent] = await world.store.open_intents(world.cid)
    assert intent.kind == "receipt"
    assert len(qad.receipts_posted) == 1  # QAD holds it; the outcome was never recorded

    resumed = await world.sync()

    assert resumed.status == "succeeded", resumed.error
    assert len(qad.receipts_posted) == 1
    assert qad.calls_by_operation["post_receipt"] == 1
    assert (await world.record(doc["OrderNumber"])).status == "posted"
    assert await world.store.open_intents(world.cid) == []
    resolved = [e for e in await world.trail(doc["OrderNumber"]) if e.event == "intent-resolved"]
    assert [(e.data["found"], e.data["qad_id"]) for e in resolved] == [
        (True, qad.receipts_posted[0].receiver_number)
    ]


async def test_an_intent_whose_write_never_reached_qad_is_dropped_then_posted(
    world: MemoryWorld,
) -> None:
    doc = world.purchase("STOCK", WID_100=6)
    await world.sync()
    world.cin7.state.receive(doc["ID"])
    world.qad.inject("post_receipt", "auth-rejected")

    stopped = await world.sync()
    assert stopped.error_kind == "auth"
    [intent] = await world.store.open_intents(world.cid)
    assert intent.kind == "receipt"
    assert world.qad.receipts_posted == []

    resumed = await world.sync()

    assert resumed.status == "succeeded", resumed.error
    assert len(world.qad.receipts_posted) == 1
    assert (await world.record(doc["OrderNumber"])).status == "posted"
    resolved = [e for e in await world.trail(doc["OrderNumber"]) if e.event == "intent-resolved"]
    assert [e.data["found"] for e in resolved] == [False]


async def test_one_pass_per_connection_holds_on_the_memory_store(world: MemoryWorld) -> None:
    entered = asyncio.Event()
    leave = asyncio.Event()

    async def first_pass() -> None:
        async with connection_lock(world.store, world.config):
            entered.set()
            await leave.wait()

    holder = asyncio.create_task(first_pass())
    await entered.wait()
    with pytest.raises(ConnectionBusy, match="connection memory is being synced"):
        async with connection_lock(world.store, world.config):
            pass
    leave.set()
    await holder
    async with connection_lock(world.store, world.config):
        pass  # free again once the first pass ended


async def test_two_memory_stores_do_not_share_a_lock() -> None:
    first, second = await memory_world(), await memory_world(FakeQadChannel())
    async with (
        connection_lock(first.store, first.config),
        connection_lock(second.store, second.config),
    ):
        pass
