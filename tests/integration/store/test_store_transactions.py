"""How the store opens and ends its own transactions (`SqlBase._begun`): a task cancelled inside
one, or while its commit runs, leaves nothing open and gives its connection back; on SQLite the
store's writers take turns on the loop instead of polling SQLite's lock from their threads."""

from __future__ import annotations

import asyncio
import threading
from functools import partial

import pytest

from ml_connector.errors import StoreError
from ml_connector.store import SqlStore
from ml_connector.store.sql import base
from ml_connector.store.sqlite_driver import SqliteConnection


class Boom(Exception):
    pass


def checked_out(store: SqlStore) -> int:
    return int(store.engine.sync_engine.pool.checkedout())  # type: ignore[attr-defined]


async def test_a_task_cancelled_inside_a_transaction_rolls_it_back(
    store: SqlStore, cid: int
) -> None:
    inside = asyncio.Event()

    async def cancelled() -> None:
        async with store.transaction():
            await store.set_cursor(cid, "purchases", "2026-12-01T00:00:00")
            inside.set()
            await asyncio.Event().wait()

    task = asyncio.create_task(cancelled())
    await inside.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert checked_out(store) == 0
    assert await store.get_cursor(cid, "purchases") is None
    async with store.transaction():  # the next writer is not held up
        await store.set_cursor(cid, "purchases", "2026-12-02T00:00:00")
    cursor = await store.get_cursor(cid, "purchases")
    assert cursor is not None
    assert cursor.value == "2026-12-02T00:00:00"
    assert checked_out(store) == 0


async def test_a_block_that_raises_rolls_back_and_gives_its_connection_back(
    store: SqlStore, cid: int
) -> None:
    async def failing() -> None:
        async with store.transaction():
            await store.set_cursor(cid, "suppliers", "2026-12-01T00:00:00")
            raise Boom

    for _ in range(3):
        with pytest.raises(Boom):
            await failing()
    assert checked_out(store) == 0
    assert await store.get_cursor(cid, "suppliers") is None


async def test_a_failed_statement_leaves_as_a_store_error_and_the_store_goes_on(
    store: SqlStore, cid: int
) -> None:
    async def failing() -> None:
        async with store.transaction():
            await store.set_cursor(cid, "purchases", "2026-12-01T00:00:00")
            await store.record_intent(cid, "po:PO-1", "po", 999_999)  # no such record

    with pytest.raises(StoreError):
        await failing()
    assert checked_out(store) == 0
    assert await store.get_cursor(cid, "purchases") is None
    await store.set_cursor(cid, "purchases", "2026-12-03T00:00:00")
    assert await store.get_cursor(cid, "purchases") is not None


# --- SQLite: the commit's trip and the writers' turn -------------------------------------------


sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
"""The commit's trip and the writers' turn exist on SQLite only: no PostgreSQL variant."""


@pytest.fixture
def sqlite_store(store: SqlStore) -> SqlStore:
    assert store.dialect == "sqlite"
    return store


@sqlite_only
async def test_a_task_cancelled_while_its_commit_runs_gives_the_connection_back(
    sqlite_store: SqlStore, cid: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The thread still runs the commit it was handed; the connection, whose state the task
    no longer knows, is closed rather than pooled, and the writers' turn is free again."""
    store = sqlite_store
    gate = threading.Event()
    committing = asyncio.Event()
    real = SqliteConnection.commit

    async def held_commit(self: SqliteConnection) -> None:
        self._sent += 1  # the thread is busy until the gate opens
        self._tx.put_nowait((None, partial(self._call, gate.wait, (), False)))
        committing.set()
        await real(self)

    monkeypatch.setattr(SqliteConnection, "commit", held_commit)

    async def write() -> None:
        async with store.transaction():
            await store.set_cursor(cid, "purchases", "2026-12-01T00:00:00")

    task = asyncio.create_task(write())
    await committing.wait()
    await asyncio.sleep(0.01)
    task.cancel()
    await asyncio.sleep(0.01)
    gate.set()
    with pytest.raises(asyncio.CancelledError):
        await task
    monkeypatch.setattr(SqliteConnection, "commit", real)
    assert checked_out(store) == 0
    cursor = await store.get_cursor(cid, "purchases")
    assert cursor is not None  # the thread committed what it was given
    async with asyncio.timeout(5):
        await store.set_cursor(cid, "suppliers", "2026-12-02T00:00:00")
    assert await store.get_cursor(cid, "suppliers") is not None


@sqlite_only
async def test_writers_of_one_store_take_turns_on_the_loop(
    sqlite_store: SqlStore, cid: int, trips: list[str]
) -> None:
    """The second writer waits for the first one's commit on the loop: its BEGIN IMMEDIATE
    never meets the lock, so it makes no trip and no sleep in SQLite's busy handler."""
    store = sqlite_store
    first_holds = asyncio.Event()
    first_may_commit = asyncio.Event()
    order: list[str] = []

    async def first() -> None:
        async with store.transaction():
            await store.set_cursor(cid, "purchases", "2026-12-01T00:00:00")
            first_holds.set()
            await first_may_commit.wait()
            order.append("first")

    async def second() -> None:
        async with store.transaction():
            order.append("second")
            await store.set_cursor(cid, "purchases", "2026-12-02T00:00:00")

    holder = asyncio.create_task(first())
    await first_holds.wait()
    trips.clear()
    waiter = asyncio.create_task(second())
    await asyncio.sleep(0.05)
    assert order == []  # waiting for its turn
    assert await store.get_cursor(cid, "suppliers") is None  # reads take no turn
    first_may_commit.set()
    await asyncio.gather(holder, waiter)
    assert order == ["first", "second"]
    # (opening a connection for the read makes trips of its own: connect, PRAGMA statements)
    assert "BEGIN IMMEDIATE" not in trips
    assert trips.count("commit") == 2
    cursor = await store.get_cursor(cid, "purchases")
    assert cursor is not None
    assert cursor.value == "2026-12-02T00:00:00"


@sqlite_only
async def test_a_writer_waits_for_its_turn_no_longer_than_the_busy_timeout(
    sqlite_store: SqlStore, cid: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = sqlite_store
    monkeypatch.setattr(base, "BUSY_TIMEOUT_S", 0.05)
    holds = asyncio.Event()
    done = asyncio.Event()

    async def holder() -> None:
        async with store.transaction():
            await store.set_cursor(cid, "purchases", "2026-12-01T00:00:00")
            holds.set()
            await done.wait()

    task = asyncio.create_task(holder())
    await holds.wait()
    with pytest.raises(StoreError, match="database is locked"):
        await store.set_cursor(cid, "suppliers", "2026-12-01T00:00:00")
    done.set()
    await task
    await store.set_cursor(cid, "suppliers", "2026-12-01T00:00:00")
    assert await store.get_cursor(cid, "suppliers") is not None
