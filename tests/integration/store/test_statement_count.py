"""`count_statements` counts what the store sends to its database, and only inside its block
(benches report SQL per purchase with it; a test bounds the sync's)."""

from __future__ import annotations

from ml_connector.store import SqlStore
from ml_connector.store.db import count_statements


async def test_statements_are_counted_inside_the_block_only(store: SqlStore, cid: int) -> None:
    with count_statements(store.engine) as counted:
        await store.get_cursor(cid, "purchases")
        one_read = counted.statements
        async with store.transaction():
            await store.set_cursor(cid, "purchases", "2026-11-30T10:00:00")
            await store.set_cursor(cid, "suppliers", "2026-11-30T10:00:00")
    assert one_read >= 1
    assert counted.statements >= one_read + 2
    inside = counted.statements

    await store.get_cursor(cid, "suppliers")
    assert counted.statements == inside  # the listener is gone
