"""A record left `failed` by an internal error (a defect, or our own database refusing a write,
as when two passes used to overlap) heals on the next pass: the plan runs again and every QAD
create looks for its natural key first, so nothing is posted twice. A record QAD refused stays
failed until someone fixes the cause and replays it."""

from __future__ import annotations

from usecase_world import Setup

from ml_connector.store.models import Record
from ml_connector.usecases import sync_connection


async def _posted_purchase(setup: Setup) -> Record:
    config = await setup.config()
    assert config.id is not None
    posted = await setup.first.list_records(config.id, status="posted", kind="purchase")
    assert posted
    return posted[0]


async def test_a_record_wrongly_failed_by_a_race_heals_on_the_next_pass(setup: Setup) -> None:
    await sync_connection(setup.first, "acme", remotes=setup.remotes)
    record = await _posted_purchase(setup)
    before = setup.qad.tenant().state()
    # What the losing pass of an overlap wrote over the winner's "posted".
    await setup.first.set_record_status(
        record.id,
        "failed",
        "internal error (AlreadyPosted): duplicate key value violates unique constraint",
    )

    result = await sync_connection(setup.first, "acme", remotes=setup.remotes)

    healed = await setup.first.get_record_by_id(record.id)
    assert healed is not None
    assert (healed.status, healed.reason) == ("posted", None)
    assert result.report.counters.failed == 0
    after = setup.qad.tenant().state()
    for collection in ("purchaseOrders", "receipts", "supplierInvoices", "suppliers"):
        assert len(after[collection]) == len(before[collection]), collection
    trail = await setup.first.trail(record.connection_id, record.key)
    assert trail[-1].event == "completed"


async def test_a_record_qad_refused_waits_for_a_replay(setup: Setup) -> None:
    await sync_connection(setup.first, "acme", remotes=setup.remotes)
    record = await _posted_purchase(setup)
    reason = "QAD refused create PO: supplier is on hold"
    await setup.first.set_record_status(record.id, "failed", reason)
    events = len(await setup.first.trail(record.connection_id, record.key))

    await sync_connection(setup.first, "acme", remotes=setup.remotes)

    still = await setup.first.get_record_by_id(record.id)
    assert still is not None
    assert (still.status, still.reason) == ("failed", reason)
    assert len(await setup.first.trail(record.connection_id, record.key)) == events
