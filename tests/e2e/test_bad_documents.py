"""Unchecked input is never posted (issue 8): each bad document is quarantined with a reason,
the rest posts, and the corrected document posts normally. Over HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from e2e_world import World

SUPPLIER = "02c19aa9-b6d7-4031-adbe-5f3d418bfbb0"  # Beacon Wire & Cable Co. (seed 11)
OTHER = "0f0e0d0c-0b0a-4908-8706-050403020100"


def _complete_purchase(world: World, sku: str, freight: int | None = None) -> tuple[str, str]:
    state = world.cin7.state
    doc = state.create_purchase(
        "STOCK", [{"sku": sku, "quantity": 10}], supplier_id=SUPPLIER, freight=freight
    )
    state.receive(doc["ID"])
    state.invoice(doc["ID"])
    return str(doc["ID"]), str(doc["OrderNumber"])


@pytest.mark.parametrize(
    ("ops", "words"),
    [
        ([{"op": "replace", "path": "/Approach", "value": "DROPSHIP"}], "Approach"),
        ([{"op": "replace", "path": "/ID", "value": OTHER}], "when asked for"),
        ([{"op": "replace", "path": "/Order/Lines/0/Quantity", "value": 10.00001}], "decimals"),
        (
            [
                {"op": "replace", "path": "/Order/AdditionalCharges/0/Price", "value": -25},
                {"op": "replace", "path": "/Order/AdditionalCharges/0/Total", "value": -25},
            ],
            "price is negative",
        ),
        ([{"op": "replace", "path": "/LastUpdatedDate", "value": "tomorrow"}], "LastUpdatedDate"),
    ],
)
async def test_a_bad_document_is_quarantined_never_posted_and_posts_once_corrected(
    world: World, ops: list[dict[str, Any]], words: str
) -> None:
    good_id, good_order = _complete_purchase(world, "WID-100", freight=25)
    bad_id, bad_order = _complete_purchase(world, "BRK-20", freight=25)
    world.cin7.state.tamper(bad_id, {"detail": ops})

    report = await world.sync()
    assert report.status == "succeeded", report.error
    assert report.counters.failed == 1
    bad = await world.store.get_record(world.cid, "purchase", bad_id)
    assert bad is not None
    assert bad.status == "failed"
    assert bad.reason is not None
    assert words in bad.reason, bad.reason
    assert not world.po_for(bad_order), "nothing of it reaches QAD"
    good = await world.store.get_record(world.cid, "purchase", good_id)
    assert good is not None
    assert good.status == "posted"
    assert world.po_for(good_order)

    world.cin7.state.untamper(bad_id)
    await world.sync()
    healed = await world.store.get_record(world.cid, "purchase", bad_id)
    assert healed is not None
    assert healed.status == "posted", healed.reason
    assert len(world.po_for(bad_order)) == 1
