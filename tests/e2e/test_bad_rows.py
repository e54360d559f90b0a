"""A malformed purchase list row is quarantined; it never stops the sync of everything else.

Cin7 sandbox → engine → QAD sandbox over HTTP, on SQLite and PostgreSQL. The bad row is planted
with the sandbox's tamper control; `untamper` is Cin7 correcting it.
"""

from __future__ import annotations

from typing import Any

import pytest
from e2e_world import World

from ml_connector.store.models import Record

SUPPLIER = "02c19aa9-b6d7-4031-adbe-5f3d418bfbb0"  # Beacon Wire & Cable Co. (seed 11)
LONG_ORDER_NUMBER = "PO-" + "7" * 200


def _complete_purchase(world: World, sku: str = "WID-100") -> tuple[str, str]:
    """A stock-first purchase, received and invoiced: (ID, OrderNumber)."""
    state = world.cin7.state
    doc = state.create_purchase("STOCK", [{"sku": sku, "quantity": 10}], supplier_id=SUPPLIER)
    state.receive(doc["ID"])
    state.invoice(doc["ID"])
    return str(doc["ID"]), str(doc["OrderNumber"])


async def _record(world: World, cin7_id: str) -> Record:
    record = await world.store.get_record(world.cid, "purchase", cin7_id)
    assert record is not None, f"no record for {cin7_id}"
    return record


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("OrderDate", "19/12/2025"),
        ("LastUpdatedDate", "yesterday"),
        ("OrderNumber", LONG_ORDER_NUMBER),
    ],
)
async def test_a_bad_list_row_is_quarantined_and_the_rest_syncs(
    world: World, field: str, value: Any
) -> None:
    good_id, good_order = _complete_purchase(world)
    bad_id, bad_order = _complete_purchase(world, "BRK-20")
    world.cin7.state.tamper(
        bad_id, {"row": [{"op": "replace", "path": f"/{field}", "value": value}]}
    )

    first = await world.sync()
    assert first.status == "succeeded", first.error
    assert first.counters.failed == 1  # the command exits 1
    bad = await _record(world, bad_id)
    assert bad.status == "failed"
    assert bad.reason is not None
    assert field in bad.reason, bad.reason
    assert (await _record(world, good_id)).status == "posted"
    assert world.po_for(good_order)
    assert not world.po_for(bad_order), "nothing of the quarantined purchase reaches QAD"
    trail = [e.event for e in await world.store.trail(world.cid, bad.key)]
    assert "failed" in trail

    later_id, later_order = _complete_purchase(world, "NUT-M8")
    second = await world.sync()
    assert second.status == "succeeded", second.error
    assert (await _record(world, later_id)).status == "posted", "the cursor moved past it"
    assert world.po_for(later_order)
    assert (await _record(world, bad_id)).status == "failed"

    world.cin7.state.untamper(bad_id)
    third = await world.sync()
    assert third.status == "succeeded", third.error
    healed = await _record(world, bad_id)
    assert healed.status == "posted", healed.reason
    assert healed.reason is None
    assert len(world.po_for(bad_order)) == 1


@pytest.mark.parametrize(
    ("tampering", "words"),
    [
        (
            {"detail_error": {"status": 400, "message": "Purchase with specified ID not found"}},
            ("Cin7 refused the purchase detail", "Purchase with specified ID not found"),
        ),
        (
            {"detail": [{"op": "replace", "path": "", "value": ["not", "a", "purchase"]}]},
            ("Cin7 document unreadable", "the answer is not a JSON object"),
        ),
    ],
)
async def test_a_detail_cin7_will_not_give_is_quarantined_and_replay_keeps_it_so(
    world: World, tampering: dict[str, Any], words: tuple[str, str]
) -> None:
    good_id, _ = _complete_purchase(world)
    bad_id, bad_order = _complete_purchase(world, "BRK-20")
    world.cin7.state.tamper(bad_id, tampering)

    report = await world.sync()
    assert report.status == "succeeded", report.error
    assert (await _record(world, good_id)).status == "posted"
    bad = await _record(world, bad_id)
    assert (bad.status, bad.reference) == ("failed", bad_order)
    assert bad.reason is not None
    assert all(word in bad.reason for word in words), bad.reason

    calls = world.cin7.state.calls
    replayed = await world.replay([bad])
    assert replayed.counters.failed == 1
    assert world.cin7.state.calls == calls, "a replay never calls Cin7"
    again = await _record(world, bad_id)
    assert (again.status, again.reason) == ("failed", bad.reason)
    assert (await world.sync()).counters.failed == 0, "a version already quarantined is seen"

    world.cin7.state.untamper(bad_id)
    await world.sync()
    assert (await _record(world, bad_id)).status == "posted"
    assert len(world.po_for(bad_order)) == 1


async def test_a_row_whose_id_is_not_a_guid_is_quarantined_under_that_id(world: World) -> None:
    good_id, _ = _complete_purchase(world)
    bad_id, bad_order = _complete_purchase(world, "BRK-20")
    world.cin7.state.tamper(bad_id, {"row": [{"op": "replace", "path": "/ID", "value": "X" * 90}]})

    report = await world.sync()
    assert report.status == "succeeded", report.error
    assert (await _record(world, good_id)).status == "posted"
    [bad] = [r for r in await world.store.list_records(world.cid, status="failed")]
    assert bad.reference == bad_order
    assert len(bad.cin7_id) <= 64
    assert bad.reason is not None
    assert "ID: not a GUID" in bad.reason
    assert not world.po_for(bad_order)
