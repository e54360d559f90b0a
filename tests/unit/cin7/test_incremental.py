"""Incremental listing: overlap, (ID, LastUpdatedDate) dedup, cursor = highest stamp of a pass."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from cin7_fakes import ChangingList, PagedList, make_client, rows

from ml_connector.cin7 import IncrementalScan, parse_timestamp
from ml_connector.errors import InvalidPayload


class Held:
    """The store's side of dedup: which version of each document we already hold."""

    def __init__(self) -> None:
        self.versions: dict[str, str] = {}
        self.asked: list[tuple[str, str]] = []

    async def seen(self, cin7_id: str, stamp_raw: str) -> bool:
        self.asked.append((cin7_id, stamp_raw))
        held = self.versions.get(cin7_id)
        return held is not None and parse_timestamp(held) == parse_timestamp(stamp_raw)

    def hold(self, cin7_id: str, stamp_raw: str) -> None:
        self.versions[cin7_id] = stamp_raw


async def run(scan: IncrementalScan[Any], held: Held) -> list[str]:
    orders = []
    async for row in scan:
        orders.append(row.order_number)
        held.hold(row.id, row.last_updated_raw)
    return orders


def listing() -> list[dict[str, Any]]:
    """Ten purchases whose stamps are not in OrderNumber order."""
    items = rows(10)
    stamps = [5, 1, 9, 3, 7, 2, 8, 4, 6, 0]
    for item, minute in zip(items, stamps, strict=True):
        item["LastUpdatedDate"] = f"2026-08-28T12:{minute:02d}:10.5"
    return items


async def test_a_first_pass_reads_everything_and_keeps_the_highest_raw_stamp() -> None:
    source = ChangingList(listing())
    client, _ = make_client(source, page_limit=3)
    held = Held()
    scan = IncrementalScan(client.purchase_list, None, held.seen)
    assert len(await run(scan, held)) == 10
    assert scan.since is None
    assert "UpdatedSince" not in source.requests[0].url.params
    assert scan.new_cursor == "2026-08-28T12:09:10.5"  # PO-00003's, the highest, raw
    assert scan.complete
    assert scan.yielded == 10


async def test_a_quiet_pass_rereads_the_overlap_and_yields_nothing() -> None:
    source = ChangingList(listing())
    client, _ = make_client(source, page_limit=3)
    held = Held()
    first = IncrementalScan(client.purchase_list, None, held.seen)
    await run(first, held)
    source.requests.clear()
    second = IncrementalScan(client.purchase_list, first.new_cursor, held.seen)
    assert await run(second, held) == []
    assert source.requests[0].url.params["UpdatedSince"] == "2026-08-28T11:59:10.500"
    assert second.already_seen == 10  # the whole overlap came back, and was recognised
    assert second.new_cursor == first.new_cursor


async def test_after_edits_exactly_the_edited_purchases_come_back() -> None:
    source = ChangingList(listing())
    client, _ = make_client(source, page_limit=3)
    held = Held()
    first = IncrementalScan(client.purchase_list, None, held.seen)
    await run(first, held)
    source.stamp([2], "2026-08-28T12:30:01.07")
    source.stamp([7, 4], "2026-08-28T12:30:00.9")
    scan = IncrementalScan(client.purchase_list, first.new_cursor, held.seen)
    assert await run(scan, held) == ["PO-00002", "PO-00004", "PO-00007"]
    assert scan.new_cursor == "2026-08-28T12:30:01.07"


async def test_the_overlap_catches_a_change_committed_behind_the_cursor() -> None:
    source = ChangingList(listing())
    client, _ = make_client(source)
    held = Held()
    first = IncrementalScan(client.purchase_list, None, held.seen)
    await run(first, held)
    # A purchase whose stamp lands 3 minutes behind the cursor, committed after the pass.
    late = {**rows(11)[-1], "LastUpdatedDate": "2026-08-28T12:06:10.5"}
    source.items.append(late)
    scan = IncrementalScan(client.purchase_list, first.new_cursor, held.seen)
    assert await run(scan, held) == ["PO-00011"]
    assert scan.new_cursor == first.new_cursor


async def test_a_version_listed_twice_in_a_pass_is_yielded_once() -> None:
    items = rows(3)
    twice = {**items[1], "LastUpdatedDate": "2026-08-28T12:59:44.050"}  # same instant, new text
    source = PagedList([items[0], items[1], twice, items[2]])
    client, _ = make_client(source, page_limit=2)
    held = Held()
    scan = IncrementalScan(client.purchase_list, None, held.seen)
    assert await run(scan, held) == ["PO-00001", "PO-00002", "PO-00003"]
    assert scan.repeated == 1
    assert scan.new_cursor == "2026-08-28T12:59:44.05"  # the raw text first seen is kept


async def test_a_bulk_touch_larger_than_a_page_does_not_stall_the_cursor() -> None:
    source = ChangingList(listing())
    client, _ = make_client(source, page_limit=4)
    held = Held()
    first = IncrementalScan(client.purchase_list, None, held.seen)
    await run(first, held)
    tie = "2026-08-28T13:00:00.123"
    source.stamp(list(range(1, 11)), tie)  # ten documents, one millisecond, pages of four
    touched = IncrementalScan(client.purchase_list, first.new_cursor, held.seen)
    assert len(await run(touched, held)) == 10
    assert touched.new_cursor == tie
    quiet = IncrementalScan(client.purchase_list, touched.new_cursor, held.seen)
    assert await run(quiet, held) == []
    source.stamp([6], "2026-08-28T13:00:00.124")  # one millisecond later
    after = IncrementalScan(client.purchase_list, quiet.new_cursor, held.seen)
    assert await run(after, held) == ["PO-00006"]
    assert after.new_cursor == "2026-08-28T13:00:00.124"


async def test_the_cursor_is_only_offered_after_a_complete_pass() -> None:
    client, _ = make_client(ChangingList(listing()), page_limit=3)
    held = Held()
    scan = IncrementalScan(client.purchase_list, None, held.seen)
    with pytest.raises(RuntimeError, match="not complete"):
        _ = scan.new_cursor
    async for _row in scan:
        break
    with pytest.raises(RuntimeError, match="not complete"):
        _ = scan.new_cursor
    with pytest.raises(RuntimeError, match="runs once"):
        scan.__aiter__()


async def test_a_failed_page_fails_the_pass_and_keeps_the_old_cursor() -> None:
    source = ChangingList(listing())
    source.script = {2: httpx.Response(403, text="[]")}
    client, _ = make_client(source, page_limit=3)
    scan = IncrementalScan(client.purchase_list, "2026-08-28T11:00:00", Held().seen)
    with pytest.raises(Exception, match="403"):
        await run(scan, Held())
    assert not scan.complete


async def test_suppliers_scan_by_modified_since() -> None:
    suppliers = [
        {"ID": f"5a000000-0000-4000-8000-00000000000{n}", "Name": f"Supplier {n}"}
        | {"LastModifiedOn": f"2026-08-0{n}T10:00:00.2Z"}
        for n in range(1, 5)
    ]
    source = ChangingList(suppliers, list_key="SupplierList")
    client, _ = make_client(source)
    held = Held()

    async def seen(cin7_id: str, raw: str) -> bool:
        return held.versions.get(cin7_id) == raw

    first = IncrementalScan(client.suppliers, None, seen)
    names = []
    async for supplier in first:
        names.append(supplier.name)
        held.hold(supplier.id or "", supplier.last_modified_raw)
    assert names == ["Supplier 1", "Supplier 2", "Supplier 3", "Supplier 4"]
    assert first.new_cursor == "2026-08-04T10:00:00.2Z"
    source.stamp([2], "2026-08-09T00:00:00Z")
    second = IncrementalScan(client.suppliers, first.new_cursor, seen, timedelta(hours=1))
    assert [s.name async for s in second] == ["Supplier 2"]
    params = source.requests[-1].url.params
    assert params["ModifiedSince"] == "2026-08-04T09:00:00.200"
    assert params["IncludeDeprecated"] == "true"


async def test_malformed_rows_go_to_on_invalid_once_per_version() -> None:
    items = listing()
    items[4]["OrderDate"] = "the fifth"
    source = ChangingList(items)
    client, _ = make_client(source)
    held = Held()
    refused: list[str] = []

    def on_invalid(raw: Any, error: InvalidPayload) -> None:
        refused.append(raw["OrderNumber"])
        held.hold(str(raw["ID"]), raw["LastUpdatedDate"])  # the caller records the failure

    first = IncrementalScan(client.purchase_list, None, held.seen, on_invalid=on_invalid)
    assert len(await run(first, held)) == 9
    assert refused == ["PO-00005"]
    assert first.invalid == 1
    second = IncrementalScan(client.purchase_list, None, held.seen, on_invalid=on_invalid)
    assert await run(second, held) == []
    assert refused == ["PO-00005"]  # that version was already dealt with

    loud = IncrementalScan(client.purchase_list, None, Held().seen)
    with pytest.raises(InvalidPayload, match="OrderDate"):
        await run(loud, Held())
