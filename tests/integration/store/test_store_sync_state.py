"""Cursors, snapshots, records, runs and transactions: what the poll/stage/plan loop relies on."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from ml_connector.errors import StoreError
from ml_connector.store import SqlStore, parse_cin7_timestamp, snapshot_hash

PAYLOAD: dict[str, Any] = {
    "ID": "b1d7c5f0-0000-4000-8000-000000000001",
    "OrderNumber": "PO-00412",
    "LastUpdatedDate": "2024-05-10T03:21:07.417",
    "Order": {"Status": "AUTHORISED", "Lines": [{"SKU": "WID-100", "Quantity": 10}]},
}


class Boom(Exception):
    pass


async def test_cursor_starts_empty_and_keeps_the_raw_value(store: SqlStore, cid: int) -> None:
    assert await store.get_cursor(cid, "purchases") is None
    await store.set_cursor(cid, "purchases", "2026-08-28T12:59:44.05")
    cursor = await store.get_cursor(cid, "purchases")
    assert cursor is not None
    assert cursor.value == "2026-08-28T12:59:44.05"
    assert cursor.value_at == datetime(2026, 8, 28, 12, 59, 44, 50000, tzinfo=UTC)
    await store.set_cursor(cid, "purchases", "2026-08-29T00:00:00")
    cursor = await store.get_cursor(cid, "purchases")
    assert cursor is not None
    assert cursor.value == "2026-08-29T00:00:00"
    assert await store.get_cursor(cid, "suppliers") is None
    assert await store.reset_cursor(cid) == 1
    assert await store.get_cursor(cid, "purchases") is None
    with pytest.raises(StoreError, match="unknown stream"):
        await store.set_cursor(cid, "sales", "2026-08-29T00:00:00")


def test_cin7_timestamps_parse_as_utc() -> None:
    assert parse_cin7_timestamp("2024-05-10T03:21:07.417") == datetime(
        2024, 5, 10, 3, 21, 7, 417000, tzinfo=UTC
    )
    assert parse_cin7_timestamp("2024-05-10T03:21:07Z") == datetime(
        2024, 5, 10, 3, 21, 7, tzinfo=UTC
    )
    assert parse_cin7_timestamp("yesterday") is None


async def test_a_failed_pass_rolls_back_snapshots_and_cursor_together(
    store: SqlStore, cid: int
) -> None:
    await store.set_cursor(cid, "purchases", "2024-05-01T00:00:00")

    async def failing_pass() -> None:
        async with store.transaction():
            staged = await store.stage_snapshot(
                cid, "purchase", PAYLOAD["ID"], "PO-00412", PAYLOAD["LastUpdatedDate"], PAYLOAD
            )
            assert staged.changed
            await store.set_cursor(cid, "purchases", "2024-05-10T03:21:07.417")
            # Inside the transaction the verbs see their own writes.
            assert await store.latest_snapshot(cid, "purchase", PAYLOAD["ID"]) is not None
            raise Boom

    with pytest.raises(Boom):
        await failing_pass()

    cursor = await store.get_cursor(cid, "purchases")
    assert cursor is not None
    assert cursor.value == "2024-05-01T00:00:00"
    assert await store.latest_snapshot(cid, "purchase", PAYLOAD["ID"]) is None

    async with store.transaction():
        await store.stage_snapshot(
            cid, "purchase", PAYLOAD["ID"], "PO-00412", PAYLOAD["LastUpdatedDate"], PAYLOAD
        )
        await store.set_cursor(cid, "purchases", "2024-05-10T03:21:07.417")
    cursor = await store.get_cursor(cid, "purchases")
    assert cursor is not None
    assert cursor.value == "2024-05-10T03:21:07.417"
    assert await store.latest_snapshot(cid, "purchase", PAYLOAD["ID"]) is not None


async def test_a_nested_transaction_is_a_savepoint(store: SqlStore, cid: int) -> None:

    async def failing_part() -> None:
        async with store.transaction():
            await store.set_cursor(cid, "suppliers", "2024-05-02T00:00:00")
            raise Boom

    async with store.transaction():
        await store.set_cursor(cid, "purchases", "2024-05-01T00:00:00")
        with pytest.raises(Boom):
            await failing_part()
    assert await store.get_cursor(cid, "purchases") is not None
    assert await store.get_cursor(cid, "suppliers") is None


async def test_a_transaction_belongs_to_its_task(store: SqlStore, cid: int) -> None:
    async with store.transaction():
        with pytest.raises(StoreError, match="another task"):
            await asyncio.create_task(store.get_cursor(cid, "purchases"))


async def test_snapshots_get_a_new_version_only_when_content_changes(
    store: SqlStore, cid: int
) -> None:
    doc = PAYLOAD["ID"]
    first = await store.stage_snapshot(cid, "purchase", doc, "PO-00412", "t1", PAYLOAD)
    assert (first.version, first.changed) == (1, True)
    assert first.hash == snapshot_hash(PAYLOAD)

    again = await store.stage_snapshot(cid, "purchase", doc, "PO-00412", "t1", dict(PAYLOAD))
    assert (again.version, again.changed, again.hash) == (1, False, first.hash)

    # Touched by Cin7 without a content change: same version, new timestamp recognised.
    touched = {**PAYLOAD, "LastUpdatedDate": "2024-05-11T00:00:00"}
    same = await store.stage_snapshot(cid, "purchase", doc, "PO-00412", "t2", touched)
    assert (same.version, same.changed) == (1, False)
    assert await store.seen(cid, "purchase", doc, "t2")

    edited = {
        **PAYLOAD,
        "Order": {"Status": "AUTHORISED", "Lines": [{"SKU": "WID-100", "Quantity": 12}]},
    }
    second = await store.stage_snapshot(cid, "purchase", doc, "PO-00412", "t3", edited)
    assert (second.version, second.changed) == (2, True)
    assert second.hash != first.hash

    latest = await store.latest_snapshot(cid, "purchase", doc)
    assert latest is not None
    assert latest.version == 2
    assert latest.payload == edited
    v1 = await store.get_snapshot(cid, "purchase", doc, 1)
    assert v1 is not None
    assert v1.payload["Order"]["Lines"][0]["Quantity"] == 10
    assert [s.version for s in await store.snapshot_versions(cid, "purchase", doc)] == [1, 2]
    # Key order does not matter to the hash.
    reordered = dict(reversed(list(edited.items())))
    assert (
        await store.stage_snapshot(cid, "purchase", doc, "PO-00412", "t3", reordered)
    ).changed is False


async def test_seen_dedups_on_id_and_last_updated(store: SqlStore, cid: int) -> None:
    await store.stage_snapshot(cid, "purchase", "a", "PO-1", "2024-05-10T03:21:07.417", {"x": 1})
    await store.stage_snapshot(cid, "purchase", "b", "PO-2", "2024-05-10T03:21:08", {"x": 2})
    assert await store.seen(cid, "purchase", "a", "2024-05-10T03:21:07.417")
    assert not await store.seen(cid, "purchase", "a", "2024-05-10T03:21:09")
    assert not await store.seen(cid, "supplier", "a", "2024-05-10T03:21:07.417")
    pairs = [("a", "2024-05-10T03:21:07.417"), ("b", "changed"), ("c", "new")]
    pairs += [(f"n{i}", "x") for i in range(1200)]  # spans several IN chunks
    assert await store.seen_many(cid, "purchase", pairs) == {"a"}


async def test_records_upsert_and_keep_unset_fields(store: SqlStore, cid: int) -> None:
    rec = await store.upsert_record(
        cid,
        "purchase",
        "id-1",
        reference="PO-1",
        supplier_id="sup-1",
        latest_version=1,
        month="2024-05",
        amounts={"invoiced": {"USD": "100.00"}},
    )
    assert rec.status == "pending"
    assert rec.key == "purchase:PO-1"
    again = await store.upsert_record(cid, "purchase", "id-1", reference="PO-1", latest_version=2)
    assert again.id == rec.id
    assert again.latest_version == 2
    assert again.supplier_id == "sup-1"
    assert again.month == "2024-05"
    assert again.amounts == {"invoiced": {"USD": "100.00"}}

    held = await store.upsert_record(
        cid,
        "purchase",
        "id-1",
        reference="PO-1",
        status="held",
        reason="WID-100: invoiced 10, received in QAD 6",
    )
    assert held.status == "held"
    assert (held.reason or "").startswith("WID-100")
    posted = await store.set_record_status(rec.id, "posted", posted_version=2)
    assert posted.status == "posted"
    assert posted.reason is None
    assert posted.posted_version == 2
    assert posted.status_since >= held.status_since

    with pytest.raises(StoreError, match="unknown record status"):
        await store.set_record_status(rec.id, "done")  # type: ignore[arg-type]
    with pytest.raises(StoreError, match="month"):
        await store.upsert_record(cid, "purchase", "id-2", reference="PO-2", month="May 2024")


async def test_records_filter_count_and_find(store: SqlStore, cid: int) -> None:
    for i, status in enumerate(["posted", "held", "blocked", "failed", "held"]):
        await store.upsert_record(
            cid,
            "purchase",
            f"id-{i}",
            reference=f"PO-{i}",
            status=status,  # type: ignore[arg-type]
            month="2024-05" if i < 3 else "2024-06",
            supplier_id="sup-1",
        )
    await store.upsert_record(cid, "supplier", "sup-1", reference="Acme Ltd", status="posted")

    held = await store.list_records(cid, status="held")
    assert [r.reference for r in held] == ["PO-1", "PO-4"]
    assert len(await store.list_records(cid, status=["blocked", "failed"])) == 2
    assert len(await store.list_records(cid, kind="purchase", month="2024-05")) == 3
    assert len(await store.list_records(cid, kind="purchase", limit=2)) == 2
    assert [r.cin7_id for r in await store.find_records(cid, "PO-3")] == ["id-3"]
    counts = await store.count_records(cid)
    assert counts == {
        "pending": 0,
        "posted": 2,
        "held": 2,
        "blocked": 1,
        "failed": 1,
        "waiting": 0,
        "void": 0,
        "attention": 0,
        "resolved": 0,
        "ignored": 0,
        "before-cutover": 0,
        "go-live": 0,
    }
    assert (await store.get_record(cid, "supplier", "sup-1")) is not None
    assert await store.get_record(cid, "purchase", "missing") is None


async def test_reconcile_sums_amounts_per_supplier_and_currency(store: SqlStore, cid: int) -> None:
    await store.upsert_record(cid, "supplier", "sup-1", reference="Acme Ltd")
    await store.upsert_record(
        cid,
        "purchase",
        "p1",
        reference="PO-1",
        supplier_id="sup-1",
        month="2024-05",
        status="posted",
        amounts={
            "invoiced": {"USD": "100.10"},
            "credited": {"USD": "10.01"},
            "posted": {"USD": "90.09"},
            "received": {"USD": "100.10"},
        },
    )
    await store.upsert_record(
        cid,
        "purchase",
        "p2",
        reference="PO-2",
        supplier_id="sup-1",
        month="2024-05",
        status="held",
        amounts={"invoiced": {"USD": "50.05"}, "held": {"USD": "50.05"}},
    )
    await store.upsert_record(
        cid,
        "purchase",
        "p3",
        reference="PO-3",
        supplier_id="sup-1",
        month="2024-06",
        amounts={"invoiced": {"USD": "999"}},
    )
    [line] = await store.reconcile(cid, month="2024-05")
    assert line.supplier_name == "Acme Ltd"
    assert line.currency == "USD"
    assert line.invoiced == Decimal("150.15")
    assert line.credited == Decimal("10.01")
    assert line.posted == Decimal("90.09")
    assert line.held == Decimal("50.05")
    assert line.received == Decimal("100.10")
    assert line.records == 2
    assert line.statuses == {"posted": 1, "held": 1}
    assert len(await store.reconcile(cid)) == 1


async def test_runs_record_counters(store: SqlStore, cid: int) -> None:
    run = await store.start_run(cid, "sync")
    assert run.status == "running"
    assert run.finished_at is None
    done = await store.finish_run(run.id, "succeeded", {"fetched": 3, "cin7_calls": 2})
    assert done.status == "succeeded"
    assert done.counters == {"fetched": 3, "cin7_calls": 2}
    assert done.finished_at is not None
    replay = await store.start_run(cid, "replay", actor="replay:alice")
    assert await store.interrupt_runs(cid) == 1
    got = await store.get_run(replay.id)
    assert got is not None
    assert got.status == "interrupted"
    assert got.actor == "replay:alice"
    assert [r.kind for r in await store.list_runs(cid)] == ["replay", "sync"]
    assert [r.kind for r in await store.list_runs(cid, kind="sync")] == ["sync"]
    with pytest.raises(StoreError):
        await store.finish_run(9999, "failed")


async def test_database_errors_leave_as_store_errors_without_parameters(store: SqlStore) -> None:
    with pytest.raises(StoreError) as caught:
        await store.set_cursor(424242, "purchases", "2024-05-10T03:21:07.417-SECRETISH")
    assert type(caught.value) is StoreError
    assert "SECRETISH" not in str(caught.value)
    assert caught.value.__cause__ is None


async def test_a_task_outliving_the_transaction_gets_its_own(store: SqlStore, cid: int) -> None:
    release = asyncio.Event()

    async def later() -> None:
        await release.wait()
        await store.set_cursor(cid, "suppliers", "2024-05-02T00:00:00")

    async with store.transaction():
        await store.set_cursor(cid, "purchases", "2024-05-01T00:00:00")
        background = asyncio.create_task(later())
    release.set()
    await background
    assert await store.get_cursor(cid, "suppliers") is not None
