"""Postings (intent before every QAD create, outcome after) and cross-reference mappings."""

from __future__ import annotations

import pytest
from store_helpers import raw

from ml_connector.errors import AlreadyPosted, StoreError
from ml_connector.store import MappingRow, SqlStore


async def test_intent_then_posted_then_refused_twice(store: SqlStore, cid: int) -> None:
    rec = await store.upsert_record(cid, "purchase", "id-1", reference="PO-00412")
    intent = await store.record_intent(cid, "po:PO-00412", "po", rec.id, {"lines": {"1": 10}})
    assert intent.state == "intent"
    assert intent.qad_id is None
    # A retried create after a crash finds the same intent.
    assert (await store.record_intent(cid, "po:PO-00412", "po", rec.id)).id == intent.id
    assert [p.natural_key for p in await store.open_intents(cid)] == ["po:PO-00412"]

    posted = await store.record_posted(cid, "po:PO-00412", "PO-00412")
    assert posted.state == "posted"
    assert posted.qad_id == "PO-00412"
    assert posted.details == {"lines": {"1": 10}}
    assert await store.open_intents(cid) == []

    with pytest.raises(AlreadyPosted, match="po:PO-00412"):
        await store.record_intent(cid, "po:PO-00412", "po", rec.id)

    # An edit after posting updates the same posting, never a second one.
    updated = await store.record_posted(cid, "po:PO-00412", "PO-00412", {"lines": {"1": 12}})
    assert updated.id == posted.id
    assert updated.details == {"lines": {"1": 12}}
    assert await raw(store, "SELECT COUNT(*) FROM postings") == [(1,)]


async def test_posted_state_lists_a_records_postings(store: SqlStore, cid: int) -> None:
    rec = await store.upsert_record(cid, "purchase", "id-1", reference="PO-1")
    other = await store.upsert_record(cid, "purchase", "id-2", reference="PO-2")
    await store.record_intent(cid, "po:PO-1", "po", rec.id)
    await store.record_posted(cid, "po:PO-1", "PO-1")
    await store.record_intent(cid, "receipt:PO-1:2024-05-06", "receipt", rec.id, {"WID-100": 6})
    await store.record_intent(cid, "po:PO-2", "po", other.id)

    state = await store.posted_state(cid, rec)
    assert set(state) == {"po:PO-1", "receipt:PO-1:2024-05-06"}
    assert state["po:PO-1"].state == "posted"
    assert state["receipt:PO-1:2024-05-06"].state == "intent"
    assert state["receipt:PO-1:2024-05-06"].details == {"WID-100": 6}
    assert set(await store.posted_state(cid, other.id)) == {"po:PO-2"}

    both = await store.get_postings(cid, ["po:PO-1", "po:PO-2", "po:PO-3"])
    assert set(both) == {"po:PO-1", "po:PO-2"}
    assert len(await store.list_postings(cid, kind="po")) == 2
    assert len(await store.list_postings(cid, state="posted")) == 1


async def test_an_intent_found_absent_in_qad_is_abandoned(store: SqlStore, cid: int) -> None:
    await store.record_intent(cid, "invoice:sup-1:INV-9", "invoice", None)
    assert await store.abandon_intent(cid, "invoice:sup-1:INV-9") is True
    assert await store.get_posting(cid, "invoice:sup-1:INV-9") is None
    await store.record_posted(cid, "supplier:sup-1", "S0001", kind="supplier")
    assert await store.abandon_intent(cid, "supplier:sup-1") is False  # posted rows stay
    with pytest.raises(StoreError, match="pass kind="):
        await store.record_posted(cid, "receipt:unknown", "R1")


async def test_natural_keys_are_per_connection(store: SqlStore, cid: int) -> None:
    from store_helpers import make_config

    other = await store.add_connection(make_config("other"))
    assert other.id is not None
    await store.record_posted(cid, "po:PO-1", "PO-1", kind="po")
    await store.record_intent(other.id, "po:PO-1", "po", None)
    assert (await store.get_posting(other.id, "po:PO-1")).state == "intent"  # type: ignore[union-attr]


async def test_mappings_read_both_ways(store: SqlStore, cid: int) -> None:
    await store.set_mapping(cid, "account", "5000", "6100", source="exact")
    await store.set_mapping(cid, "account", "5010", "6100", source="name", confidence=0.8)
    await store.set_mapping(cid, "item", "WID-100", "10-100")

    found = await store.get_mapping(cid, "account", "5010")
    assert found is not None
    assert (found.qad_value, found.source, found.confidence) == ("6100", "name", 0.8)
    back = await store.reverse_mappings(cid, "account", "6100")
    assert [m.cin7_value for m in back] == ["5000", "5010"]
    assert await store.reverse_mappings(cid, "item", "6100") == []
    assert await store.get_mapping(cid, "item", "WID-999") is None

    table = await store.mapping_table(cid)
    assert table["account"] == {"5000": "6100", "5010": "6100"}
    assert table["item"] == {"WID-100": "10-100"}
    assert table["currency"] == {}


async def test_suggestions_do_not_overwrite_manual_mappings(store: SqlStore, cid: int) -> None:
    await store.set_mapping(cid, "supplier", "sup-1", "S-MANUAL")
    kept = await store.set_mapping(
        cid, "supplier", "sup-1", "S-GUESS", source="name", confidence=0.6, overwrite=False
    )
    assert kept.qad_value == "S-MANUAL"
    assert kept.source == "manual"
    replaced = await store.set_mapping(cid, "supplier", "sup-1", "S-NEW")
    assert replaced.qad_value == "S-NEW"
    assert await store.remove_mapping(cid, "supplier", "sup-1") is True
    assert await store.remove_mapping(cid, "supplier", "sup-1") is False


async def test_import_and_export_round_trip(store: SqlStore, cid: int) -> None:
    rows = [MappingRow("item", f"SKU-{i:04d}", f"ITEM-{i:04d}", "import", 1.0) for i in range(1200)]
    rows.append(MappingRow("location", "Main Warehouse", "10-100", "import"))
    assert await store.import_mappings(cid, rows) == 1201
    exported = await store.export_mappings(cid)
    assert sorted(exported, key=lambda r: (r.kind, r.cin7_value)) == sorted(
        rows, key=lambda r: (r.kind, r.cin7_value)
    )
    assert len(await store.list_mappings(cid, "location")) == 1


async def test_import_checks_every_row_before_writing(store: SqlStore, cid: int) -> None:
    bad = [
        MappingRow("item", "SKU-1", "ITEM-1"),
        MappingRow("colour", "red", "RED"),  # type: ignore[arg-type]
    ]
    with pytest.raises(StoreError, match="unknown mapping kind"):
        await store.import_mappings(cid, bad)
    assert await store.list_mappings(cid) == []
    with pytest.raises(StoreError, match="both a Cin7 and a QAD value"):
        await store.set_mapping(cid, "item", "SKU-1", "")
