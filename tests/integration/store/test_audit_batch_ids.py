"""A batch of audit events longer than one INSERT carries: every event gets its own id, in the
batch's order, and the chain verifies (the ids of a multi-row INSERT come back in no promised
order; on SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime

from ml_connector.store import SqlStore
from ml_connector.store.models import TrailEntry
from ml_connector.store.sql.chain import EVENTS_PER_INSERT

AT = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)


async def test_a_long_batch_of_events_keeps_its_ids_in_order(store: SqlStore, cid: int) -> None:
    count = 2 * EVENTS_PER_INSERT + 3
    entries = [
        TrailEntry(f"purchase:PO-{i % 5}", "fetched", "sync", {"i": i}, AT) for i in range(count)
    ]
    appended = await store.append_many(cid, entries)
    stored = await store.events(cid)
    assert [e.id for e in appended] == [e.id for e in stored[-count:]]
    assert [e.data for e in appended] == [{"i": i} for i in range(count)]
    assert await store.verify(cid) == []
