"""Postings looked up by many keys at once: every size of list (one statement per power of two
serves them, a shorter list repeating its last key; a list past IN_CHUNK goes in chunks), keys
repeated or unknown, and a record's postings in order (on SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest

from ml_connector.store import SqlStore
from ml_connector.store.db import count_statements
from ml_connector.store.sql.base import IN_CHUNK


@pytest.mark.parametrize("asked", [0, 1, 2, 3, 5, 8, 9, IN_CHUNK + 1])
async def test_postings_by_any_number_of_keys(store: SqlStore, cid: int, asked: int) -> None:
    held = [f"PO-{i}" for i in range(0, IN_CHUNK + 2, 2)]  # every other key is held
    async with store.transaction():
        for key in held:
            await store.record_intent(cid, key, "purchase", None)
    keys = [f"PO-{i}" for i in range(asked)]
    with count_statements(store.engine) as counted:
        found = await store.get_postings(cid, [*keys, *keys[:3]])  # repeats are harmless
    assert sorted(found) == sorted(k for k in keys if k in set(held))
    assert all(posting.natural_key == key for key, posting in found.items())
    assert counted.statements == -(-asked // IN_CHUNK)


async def test_a_record_s_postings_in_order(store: SqlStore, cid: int) -> None:
    record = await store.upsert_record(cid, "purchase", "P-1", reference="PO-1")
    for key in ("PO-1/receipt", "PO-1/invoice", "PO-1/order"):
        await store.record_intent(cid, key, "purchase", record.id)
    await store.record_intent(cid, "PO-2/order", "purchase", None)
    state = await store.posted_state(cid, record)
    assert list(state) == ["PO-1/receipt", "PO-1/invoice", "PO-1/order"]
    assert await store.posted_state(cid, record.id + 1) == {}
