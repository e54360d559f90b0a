"""What ml_connector.testing ships besides the store contract: virtual time, call counts, reset."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from store_helpers import make_config

import ml_connector.testing as testing
from ml_connector.testing import FakeClock, MemoryStore


def test_the_public_surface_is_declared() -> None:
    defined = {
        name
        for name, value in vars(testing).items()
        if isinstance(value, type) and value.__module__ == testing.__name__
    }
    assert defined <= set(testing.__all__)
    assert {"MemoryStore", "FakeQadChannel", "FakeCin7", "FakeClock"} <= set(testing.__all__)
    for name in testing.__all__:
        assert isinstance(getattr(testing, name), type), name


async def test_fake_clock_moves_only_forward_and_records_sleeps() -> None:
    clock = FakeClock(100.0, epoch=datetime(2026, 3, 1, tzinfo=UTC))
    assert clock() == 100.0
    assert clock.utcnow() == datetime(2026, 3, 1, tzinfo=UTC) + timedelta(seconds=100)
    clock.advance(5)
    await asyncio.gather(clock.sleep(10), clock.sleep(3))
    assert clock.sleeps == [10, 3]
    assert clock() == 115.0
    with pytest.raises(ValueError, match="forward"):
        clock.advance(-1)
    with pytest.raises(ValueError, match="aware"):
        FakeClock(epoch=datetime(2026, 3, 1))


async def test_the_store_stamps_with_the_clock_it_is_given() -> None:
    clock = FakeClock()
    store = MemoryStore(clock=clock.utcnow)
    added = await store.add_connection(make_config("acme"))
    assert added.created_at == clock.utcnow()
    assert added.id is not None
    clock.advance(60)
    run = await store.start_run(added.id, "sync")
    assert run.started_at == added.created_at + timedelta(seconds=60)


async def test_the_memory_store_counts_its_verbs_and_resets() -> None:
    store = MemoryStore()
    added = await store.add_connection(make_config("acme"))
    assert added.id is not None
    await store.list_records(added.id)
    await store.find_records(added.id, "PO-1")
    assert store.calls == {"add_connection": 1, "list_records": 2}
    assert "connections=1" in repr(store)
    store.reset()
    assert store.calls == {}
    assert await store.list_connections() == []
    async with store:
        assert await store.find_connection("acme") is None


async def test_a_write_waits_for_another_tasks_transaction() -> None:
    store = MemoryStore()
    added = await store.add_connection(make_config("acme"))
    cid = added.id
    assert cid is not None
    order: list[str] = []
    inside = asyncio.Event()
    release = asyncio.Event()

    async def long_transaction() -> None:
        async with store.transaction():
            await store.set_cursor(cid, "purchases", "2026-01-01T00:00:00")
            inside.set()
            await release.wait()
            order.append("first committed")

    async def other_writer() -> None:
        await inside.wait()
        await store.set_cursor(cid, "suppliers", "2026-01-01T00:00:00")
        order.append("second wrote")

    first = asyncio.create_task(long_transaction())
    second = asyncio.create_task(other_writer())
    await inside.wait()
    for _ in range(5):
        await asyncio.sleep(0)
    assert order == []
    release.set()
    await asyncio.gather(first, second)
    assert order == ["first committed", "second wrote"]
