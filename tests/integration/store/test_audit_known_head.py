"""Appending after the head a store last moved: two statements, and never a wrong link.

On SQLite a store remembers the head it moved and each record's last sequence number, and
moves the head only while its hash is still the remembered one. These tests change the chain
behind a store's back (another store on the same database, a rolled-back transaction, a
savepoint) and check that its next appends read the head again and leave a chain that
verifies, with every record's sequence numbers 1, 2, 3, … (on SQLite and PostgreSQL).
"""

from __future__ import annotations

import pytest
from store_helpers import make_config

from ml_connector.store import SqlStore
from ml_connector.store.db import count_statements
from ml_connector.vault import Vault

A = "purchase:PO-1"
B = "purchase:PO-2"


class Boom(Exception):
    pass


async def _append_then_fail(store: SqlStore, cid: int, *appends: tuple[str, str]) -> None:
    """Append in a transaction (a savepoint when one is open) that then rolls back."""
    async with store.transaction():
        for record_key, event in appends:
            await store.append(cid, record_key, event, "sync")  # type: ignore[arg-type]
        raise Boom


async def _sequences(store: SqlStore, cid: int) -> dict[str, list[int]]:
    seqs: dict[str, list[int]] = {}
    for event in await store.events(cid):
        seqs.setdefault(event.record_key, []).append(event.seq)
    return seqs


def _contiguous(seqs: dict[str, list[int]]) -> bool:
    return all(numbers == list(range(1, len(numbers) + 1)) for numbers in seqs.values())


async def test_a_known_head_costs_two_statements_and_a_new_record_three(database_url: str) -> None:
    store = await SqlStore.open(database_url, Vault.ephemeral())
    try:
        added = await store.add_connection(make_config("acme"))
        assert added.id is not None
        cid = added.id
        await store.append(cid, A, "fetched", "sync")  # begins the key version
        await store.append(cid, A, "planned", "sync")  # reads the version once committed
        with count_statements(store.engine) as known:
            await store.append(cid, A, "posted", "sync")
        with count_statements(store.engine) as new_record:
            await store.append(cid, B, "fetched", "sync")
        if store.engine.dialect.name == "sqlite":  # BEGIN, the head moved if as remembered, insert
            assert known.statements == 3
            assert new_record.statements == 4  # the head and the record's number in one read
        else:  # always: the head locked, the record's number, the insert, the head moved
            assert known.statements == new_record.statements == 4
        assert await store.verify(cid) == []
    finally:
        await store.close()


async def test_appends_from_two_stores_interleaved_keep_one_chain(database_url: str) -> None:
    vault = Vault.ephemeral()
    one = await SqlStore.open(database_url, vault)
    two = await SqlStore.open(database_url, vault, migrate=False)
    try:
        added = await one.add_connection(make_config("acme"))
        assert added.id is not None
        cid = added.id
        await one.append(cid, A, "fetched", "sync")
        await two.append(cid, A, "planned", "sync")  # behind one's back
        await one.append(cid, A, "posted", "sync")  # one's remembered head is stale
        await one.append(cid, B, "fetched", "sync")
        await two.append(cid, B, "planned", "sync")
        await two.append(cid, A, "matched", "sync")  # two's number for A is two behind
        await one.append(cid, B, "posted", "sync")
        await one.append(cid, A, "completed", "sync")
        seqs = await _sequences(one, cid)
        assert seqs == {A: [1, 2, 3, 4, 5], B: [1, 2, 3]}
        assert await one.verify(cid) == []
    finally:
        await two.close()
        await one.close()


async def test_a_stale_number_is_not_used_after_the_head_was_read_for_another_record(
    database_url: str,
) -> None:
    vault = Vault.ephemeral()
    one = await SqlStore.open(database_url, vault)
    two = await SqlStore.open(database_url, vault, migrate=False)
    try:
        added = await one.add_connection(make_config("acme"))
        assert added.id is not None
        cid = added.id
        await one.append(cid, A, "fetched", "sync")  # one remembers A at 1
        await two.append(cid, A, "planned", "sync")  # A is at 2 now
        await one.append(cid, B, "fetched", "sync")  # one reads the head (B is new to it)
        await one.append(cid, A, "posted", "sync")  # must be 3, not 2
        assert await _sequences(one, cid) == {A: [1, 2, 3], B: [1]}
        assert await one.verify(cid) == []
    finally:
        await two.close()
        await one.close()


async def test_a_rolled_back_append_is_forgotten(database_url: str) -> None:
    store = await SqlStore.open(database_url, Vault.ephemeral())
    try:
        added = await store.add_connection(make_config("acme"))
        assert added.id is not None
        cid = added.id
        await store.append(cid, A, "fetched", "sync")
        with pytest.raises(Boom):
            await _append_then_fail(store, cid, (A, "planned"), (B, "fetched"))
        await store.append(cid, A, "posted", "sync")
        await store.append(cid, B, "fetched", "sync")
        assert await _sequences(store, cid) == {A: [1, 2], B: [1]}
        assert await store.verify(cid) == []
    finally:
        await store.close()


async def test_a_rolled_back_savepoint_is_forgotten_inside_its_transaction(
    database_url: str,
) -> None:
    store = await SqlStore.open(database_url, Vault.ephemeral())
    try:
        added = await store.add_connection(make_config("acme"))
        assert added.id is not None
        cid = added.id
        await store.append(cid, A, "fetched", "sync")
        async with store.transaction():
            await store.append(cid, A, "planned", "sync")
            with pytest.raises(Boom):
                await _append_then_fail(store, cid, (A, "posted"))
            await store.append(cid, A, "matched", "sync")
        seqs = await _sequences(store, cid)
        assert seqs == {A: [1, 2, 3]}
        assert _contiguous(seqs)
        assert [e.event for e in await store.events(cid)] == ["fetched", "planned", "matched"]
        assert await store.verify(cid) == []
    finally:
        await store.close()
