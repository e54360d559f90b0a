"""One pass per connection at a time: the sync and replay use cases hold the connection's lock
(an advisory lock on PostgreSQL, a lock file on SQLite), so two passes never overlap.

Each "process" here is its own SqlStore (see conftest.py: `setup.first`, `setup.second`).
"""

from __future__ import annotations

import asyncio
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
from usecase_world import Setup

from ml_connector.errors import ConnectionBusy
from ml_connector.store.models import ConnectionConfig
from ml_connector.store.sql import SqlStore
from ml_connector.usecases import replay_records, scheduler_turn, sync_connection
from ml_connector.usecases.lock import LockHolder, advisory_key, connection_lock
from ml_connector.vault import Vault

BUSY = "connection acme is being synced by another process (since "


async def test_a_second_pass_is_refused_while_another_holds_the_connection(setup: Setup) -> None:
    config = await setup.config()
    async with connection_lock(setup.first, config):
        with pytest.raises(ConnectionBusy) as busy:
            await sync_connection(setup.second, "acme", remotes=setup.remotes)
        assert str(busy.value).startswith(BUSY)
        assert f"pid {os.getpid()}" in str(busy.value)
        with pytest.raises(ConnectionBusy):
            await replay_records(setup.second, "acme", failed=True, remotes=setup.remotes)
    assert await setup.second.list_runs(config.id or 0) == []  # refused before anything ran
    assert setup.qad_po_numbers() == []


async def test_overlapping_syncs_cannot_both_run(setup: Setup) -> None:
    """Both passes start together; the one that finds the connection locked gives way at once,
    the other posts every purchase exactly once."""
    outcomes = await asyncio.gather(
        sync_connection(setup.first, "acme", remotes=setup.remotes),
        sync_connection(setup.second, "acme", remotes=setup.remotes),
        return_exceptions=True,
    )
    busy = [o for o in outcomes if isinstance(o, ConnectionBusy)]
    done = [o for o in outcomes if not isinstance(o, BaseException)]
    assert len(busy) == 1, outcomes
    assert len(done) == 1, outcomes
    assert done[0].report.status == "succeeded"
    numbers = setup.qad_po_numbers()
    assert numbers
    assert len(numbers) == len(set(numbers)) == done[0].report.counters.purchase_orders


async def test_a_waiting_pass_runs_after_the_first_finishes(setup: Setup) -> None:
    """With a wait, the second pass queues behind the first instead of overlapping it, and
    finds nothing left to post."""
    first, second = await asyncio.gather(
        sync_connection(setup.first, "acme", remotes=setup.remotes, wait=120),
        sync_connection(setup.second, "acme", remotes=setup.remotes, wait=120),
    )
    config = await setup.config()
    runs = sorted(await setup.first.list_runs(config.id or 0), key=lambda r: r.started_at)
    assert [r.status for r in runs] == ["succeeded", "succeeded"]
    assert runs[0].finished_at is not None
    assert runs[0].finished_at <= runs[1].started_at
    posted = first.report.counters.purchase_orders + second.report.counters.purchase_orders
    numbers = setup.qad_po_numbers()
    assert posted == len(numbers) == len(set(numbers)) > 0
    assert 0 in (first.report.counters.purchase_orders, second.report.counters.purchase_orders)


async def test_the_lock_waits_for_its_holder_then_proceeds(setup: Setup) -> None:
    config = await setup.config()
    held, released = asyncio.Event(), asyncio.Event()
    order: list[str] = []

    async def holder() -> None:
        async with connection_lock(setup.first, config):
            order.append("first holds")
            held.set()
            await released.wait()
            order.append("first releases")

    task = asyncio.create_task(holder())
    await held.wait()
    asyncio.get_running_loop().call_later(0.5, released.set)
    async with connection_lock(setup.second, config, wait=30) as me:
        order.append("second holds")
        assert me.pid == os.getpid()
    await task
    assert order == ["first holds", "first releases", "second holds"]

    with pytest.raises(ConnectionBusy):  # a short wait is not forever
        async with (
            connection_lock(setup.first, config),
            connection_lock(setup.second, config, wait=0.3),
        ):
            pass


async def test_a_lock_left_by_a_failed_pass_is_released(setup: Setup) -> None:
    config = await setup.config()
    with pytest.raises(RuntimeError):
        async with connection_lock(setup.first, config):
            raise RuntimeError("the pass broke")
    async with connection_lock(setup.second, config):
        pass


async def test_another_connection_is_not_held_up(setup: Setup) -> None:
    config = await setup.config()
    other = config.model_copy(update={"id": (config.id or 0) + 1000, "name": "other"})
    async with connection_lock(setup.first, config), connection_lock(setup.second, other):
        pass


def test_lock_keys_are_stable_and_distinct() -> None:
    assert advisory_key(1) == advisory_key(1)
    assert len({advisory_key(i) for i in range(1000)}) == 1000
    assert all(0 < advisory_key(i) < 2**63 for i in range(100))


async def test_the_sqlite_lock_file_names_its_holder(tmp_path: Path) -> None:
    vault = Vault.ephemeral()
    store = await SqlStore.open(f"sqlite+aiosqlite:///{tmp_path / 'home' / 'db.sqlite'}", vault)
    try:
        config = await store.add_connection(
            ConnectionConfig.from_settings(
                "acme",
                {
                    "cin7_account_id": "a",
                    "cin7_application_key": "key-key-key",
                    "qad_url": "https://acme.example.com/clouderp",
                    "qad_client_id": "c",
                    "qad_username": "u",
                    "qad_password": "password",
                    "qad_domain": "D",
                    "qad_entity": "E",
                },
            )
        )
        lock_file = tmp_path / "home" / "locks" / f"connection-{config.id}.lock"
        async with connection_lock(store, config) as me:
            assert lock_file.stat().st_mode & 0o777 == 0o600
            assert f'"pid": {os.getpid()}' in lock_file.read_text()
            assert isinstance(me, LockHolder)
        assert lock_file.read_text() == ""  # no stale holder once released
    finally:
        await store.close()


async def test_the_scheduler_skips_a_connection_another_process_is_syncing(setup: Setup) -> None:
    config = await setup.first.update_connection(
        (await setup.config()).with_settings({"schedule": "every 15m"})
    )
    async with connection_lock(setup.first, config):
        turn, due = await scheduler_turn(
            setup.second, config, datetime.now(UTC), remotes=setup.remotes
        )
    assert turn.action == "skipped"
    assert turn.detail.startswith(BUSY)
    assert due is None
    assert await setup.second.list_runs(config.id or 0) == []
