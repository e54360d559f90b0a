"""Sync jobs against both sandboxes over HTTP, on PostgreSQL: a queued sync posts like `sync`
does, a job that finds its connection locked defers itself instead of waiting, what the
scheduler queues a worker syncs (unless the connection was paused since), and replay and alert
jobs run their use cases."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from alert_sinks import webhook_receiver
from e2e_world import World
from job_queue import jobs, run_now
from postgres_helpers import empty_public_schema
from procrastinate import App

from ml_connector.jobs.app import job_app
from ml_connector.jobs.defer import defer_alerts, defer_replay, defer_sync
from ml_connector.jobs.scheduler import look
from ml_connector.jobs.schema import ensure_job_schema
from ml_connector.jobs.tasks import JobOutcome
from ml_connector.jobs.worker import work
from ml_connector.usecases.alerts import add_alert
from ml_connector.usecases.lock import connection_lock
from ml_connector.usecases.scheduling import set_paused

pytestmark = pytest.mark.postgres


@pytest.fixture
def database_url(postgres_database: str) -> str:
    """PostgreSQL only: Procrastinate has no SQLite."""
    return empty_public_schema(postgres_database)


@pytest.fixture
async def app(world: World, database_url: str) -> AsyncIterator[App]:
    await ensure_job_schema(database_url)
    app = job_app(database_url)
    async with app.open_async():
        yield app


async def _drain(
    app: App, world: World, busy_delay: float = 60, concurrency: int = 2
) -> list[JobOutcome]:
    outcomes: list[JobOutcome] = []
    await work(
        app,
        world.store,
        concurrency=concurrency,
        wait=False,
        busy_delay=busy_delay,
        on_outcome=outcomes.append,
        install_signal_handlers=False,
    )
    return outcomes


async def test_a_sync_job_posts_the_connections_purchases(
    world: World, app: App, database_url: str
) -> None:
    orders = [
        world.cin7.state.create_purchase("STOCK", [{"sku": "BOX-S", "quantity": 3}]),
        world.cin7.state.create_purchase("STOCK", [{"sku": "BOX-S", "quantity": 5}]),
    ]
    deferred = await defer_sync(app, "acme")

    outcomes = await _drain(app, world)

    assert [(o.task, o.connection, o.action, o.job_id) for o in outcomes] == [
        ("sync", "acme", "synced", deferred.job_id)
    ]
    assert "2 POs posted" in outcomes[0].detail
    for order in orders:
        assert len(world.po_for(order["OrderNumber"])) == 1
    (row,) = jobs(database_url)
    assert row.status == "succeeded"
    runs = await world.store.list_runs(world.cid, kind="sync", limit=1)
    assert runs[0].actor.startswith("worker:")


async def test_a_job_that_finds_the_connection_locked_defers_itself(
    world: World, app: App, database_url: str
) -> None:
    order = world.cin7.state.create_purchase("STOCK", [{"sku": "BOX-S", "quantity": 2}])
    first = await defer_sync(app, "acme")

    async with connection_lock(world.store, world.config):  # a `sync acme` in a terminal
        outcomes = await _drain(app, world)

    assert [(o.action, o.job_id) for o in outcomes] == [("busy", first.job_id)]
    assert "deferred again as job" in outcomes[0].detail
    done, again = jobs(database_url)
    assert (done.id, done.status) == (first.job_id, "succeeded")
    assert (again.status, again.queueing_lock) == ("todo", "sync:acme")
    assert again.scheduled_at is not None
    assert world.po_for(order["OrderNumber"]) == []  # nothing was touched while locked
    assert (await defer_sync(app, "acme")).outcome == "waiting"  # the re-deferred job counts

    run_now(database_url, again.id)
    outcomes = await _drain(app, world)

    assert [(o.action, o.job_id) for o in outcomes] == [("synced", again.id)]
    assert len(world.po_for(order["OrderNumber"])) == 1


async def test_the_scheduler_queues_what_a_worker_then_syncs(
    world: World, app: App, database_url: str
) -> None:
    order = world.cin7.state.create_purchase("STOCK", [{"sku": "BOX-S", "quantity": 4}])
    await world.change(schedule="every 15m")

    turns, _ = await look(app, world.store, datetime.now(UTC))
    assert [t.action for t in turns] == ["deferred"]
    outcomes = await _drain(app, world)

    assert [(o.action, o.job_id) for o in outcomes] == [("synced", turns[0].job_id)]
    assert len(world.po_for(order["OrderNumber"])) == 1
    turns, soonest = await look(app, world.store, datetime.now(UTC))
    assert [t.action for t in turns] == ["waiting"]  # the pass moved the schedule on
    assert soonest is not None


async def test_replay_and_alert_jobs_run_their_use_cases(
    world: World, app: App, database_url: str
) -> None:
    order = world.cin7.state.create_purchase("STOCK", [{"sku": "BOX-S", "quantity": 1}])
    await world.sync()
    reference = order["OrderNumber"]
    with webhook_receiver() as hook:
        await add_alert(world.store, "acme", "webhook", {"url": hook.url}, ["credentials"])
        await world.store.set_health(world.cid, False, "QAD refused the password")
        await defer_alerts(app, "acme")  # first: a replay that reaches QAD heals the connection
        await defer_replay(app, "acme", [reference])
        await defer_replay(app, "acme", failed=True)

        outcomes = await _drain(app, world, concurrency=1)  # two replays would take turns

        assert hook.received[0]["condition"] == "credentials"
    actions = sorted((o.task, o.action, o.detail) for o in outcomes)
    assert actions[0] == ("alerts", "evaluated", "credentials firing")
    assert actions[1][:2] == ("replay", "nothing")
    assert actions[2][:2] == ("replay", "replayed")
    assert len(world.po_for(reference)) == 1  # replayed, not posted again
    assert {row.status for row in jobs(database_url)} == {"succeeded"}


async def test_a_slot_queued_before_a_pause_does_not_sync_but_a_sync_asked_for_does(
    world: World, app: App, database_url: str
) -> None:
    order = world.cin7.state.create_purchase("STOCK", [{"sku": "BOX-S", "quantity": 6}])
    await world.change(schedule="every 15m")
    turns, _ = await look(app, world.store, datetime.now(UTC))
    assert [t.action for t in turns] == ["deferred"]
    await set_paused(world.store, "acme", True, actor="cli:ada")

    outcomes = await _drain(app, world)

    assert [(o.action, o.job_id) for o in outcomes] == [("paused", turns[0].job_id)]
    assert "connection acme is paused" in outcomes[0].detail
    assert await world.store.list_runs(world.cid, kind="sync") == []
    turns, _ = await look(app, world.store, datetime.now(UTC))
    assert [t.action for t in turns] == ["skipped"]

    by_hand = await defer_sync(app, "acme")  # `sync acme --queue`: a person asked
    outcomes = await _drain(app, world)
    assert [(o.action, o.job_id) for o in outcomes] == [("synced", by_hand.job_id)]
    assert len(world.po_for(order["OrderNumber"])) == 1


async def test_a_stopping_worker_lets_its_running_pass_finish(
    world: World, app: App, database_url: str
) -> None:
    orders = [
        world.cin7.state.create_purchase("STOCK", [{"sku": "BOX-S", "quantity": q}])
        for q in (1, 2, 3)
    ]
    deferred = await defer_sync(app, "acme")
    outcomes: list[JobOutcome] = []
    worker = asyncio.create_task(
        work(app, world.store, on_outcome=outcomes.append, install_signal_handlers=False)
    )
    for _ in range(1200):  # until the worker has taken the job
        if jobs(database_url)[0].status != "todo":
            break
        await asyncio.sleep(0.05)
    assert jobs(database_url)[0].status == "doing"  # the pass is under way

    worker.cancel()  # what SIGTERM does to `ml-connector worker`
    with pytest.raises(asyncio.CancelledError):
        await worker

    assert [(o.action, o.job_id) for o in outcomes] == [("synced", deferred.job_id)]
    assert jobs(database_url)[0].status == "succeeded"
    for order in orders:
        assert len(world.po_for(order["OrderNumber"])) == 1
