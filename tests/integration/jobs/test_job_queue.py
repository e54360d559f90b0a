"""The queue's keys: one waiting job per piece of work, one job per schedule slot; the jobs of a
dead worker queued again, finished ones forgotten after a week, work for a removed connection
refused."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from job_queue import jobs, libpq
from procrastinate import App
from procrastinate.jobs import Status

from ml_connector.jobs.app import job_app
from ml_connector.jobs.defer import (
    ALERTS_TASK,
    REPLAY_TASK,
    SYNC_TASK,
    defer_alerts,
    defer_replay,
    defer_sync,
)
from ml_connector.jobs.recovery import prune_finished, recover_stalled
from ml_connector.jobs.schema import ensure_job_schema
from ml_connector.jobs.tasks import JobOutcome
from ml_connector.jobs.worker import work
from ml_connector.store.sql import SqlStore
from ml_connector.vault import Vault

SLOT = datetime(2026, 12, 2, 9, 15, tzinfo=UTC)

pytestmark = pytest.mark.postgres


@pytest.fixture
async def app(pg_url: str) -> AsyncIterator[App]:
    await ensure_job_schema(pg_url)
    app = job_app(pg_url)
    async with app.open_async():
        yield app


async def test_a_second_sync_while_one_waits_is_merged_into_it(app: App, pg_url: str) -> None:
    first = await defer_sync(app, "acme")
    assert first.outcome == "deferred"
    assert (await defer_sync(app, "acme")).outcome == "waiting"
    assert (await defer_sync(app, "acme", delay=30)).outcome == "waiting"
    assert (await defer_sync(app, "globex")).outcome == "deferred"  # another connection

    rows = jobs(pg_url)
    assert [(r.task, r.queueing_lock, r.args) for r in rows] == [
        (SYNC_TASK, "sync:acme", {"connection": "acme", "timestamp": None}),
        (SYNC_TASK, "sync:globex", {"connection": "globex", "timestamp": None}),
    ]


async def test_a_running_sync_does_not_block_the_next_one(app: App, pg_url: str) -> None:
    first = await defer_sync(app, "acme")
    await _start(app, "worker-a")  # first is now doing
    second = await defer_sync(app, "acme")
    assert second.outcome == "deferred"
    assert [r.status for r in jobs(pg_url)] == ["doing", "todo"]
    assert first.job_id != second.job_id


async def test_each_schedule_slot_is_deferred_once(app: App, pg_url: str) -> None:
    first = await defer_sync(app, "acme", slot=SLOT)
    assert first.outcome == "deferred"
    assert (await defer_sync(app, "acme", slot=SLOT)).outcome == "slot-taken"
    # The next slot while the first still waits: the waiting job covers it.
    assert (await defer_sync(app, "acme", slot=SLOT + timedelta(minutes=15))).outcome == "waiting"
    await _start(app, "worker-a")
    assert (await defer_sync(app, "acme", slot=SLOT)).outcome == "slot-taken"
    later = await defer_sync(app, "acme", slot=SLOT + timedelta(minutes=15))
    assert later.outcome == "deferred"
    assert [r.args["timestamp"] for r in jobs(pg_url)] == [
        int(SLOT.timestamp()),
        int((SLOT + timedelta(minutes=15)).timestamp()),
    ]


async def test_replays_and_alerts_are_keyed_by_what_they_do(app: App, pg_url: str) -> None:
    assert (await defer_replay(app, "acme", ["PO-2", "PO-1"])).outcome == "deferred"
    assert (await defer_replay(app, "acme", ["PO-1", "PO-2"])).outcome == "waiting"
    assert (await defer_replay(app, "acme", failed=True)).outcome == "deferred"
    assert (await defer_alerts(app, "acme")).outcome == "deferred"
    assert (await defer_alerts(app, "acme")).outcome == "waiting"
    rows = jobs(pg_url)
    assert [r.task for r in rows] == [REPLAY_TASK, REPLAY_TASK, ALERTS_TASK]
    assert rows[0].args["references"] == ["PO-1", "PO-2"]
    assert rows[0].queueing_lock != rows[1].queueing_lock


async def test_a_dead_workers_job_is_queued_again(app: App, pg_url: str) -> None:
    job = await defer_sync(app, "acme")
    dead = await _start(app, "worker-dead")
    _silence(pg_url, dead, seconds=120)

    assert await recover_stalled(app, stalled_after=300) == []  # not silent long enough
    recovered = await recover_stalled(app, stalled_after=60)

    assert [(r.job_id, r.action) for r in recovered] == [(job.job_id, "retried")]
    (row,) = jobs(pg_url)
    assert (row.status, row.attempts) == ("todo", 1)
    assert await recover_stalled(app, stalled_after=60) == []  # once only


async def test_a_dead_workers_job_whose_work_already_waits_is_closed(app: App, pg_url: str) -> None:
    stalled = await defer_sync(app, "acme")
    dead = await _start(app, "worker-dead")
    waiting = await defer_sync(app, "acme")
    _silence(pg_url, dead, seconds=120)

    recovered = await recover_stalled(app, stalled_after=60)

    assert [(r.job_id, r.action) for r in recovered] == [(stalled.job_id, "merged")]
    assert [(r.id, r.status) for r in jobs(pg_url)] == [
        (stalled.job_id, "failed"),
        (waiting.job_id, "todo"),
    ]


async def _start(app: App, name: str) -> int:
    """A worker that registers and takes the next job, as a real one does, then stops."""
    worker_id = await app.job_manager.register_worker()
    job = await app.job_manager.fetch_job(queues=None, worker_id=worker_id)
    assert job is not None, name
    return worker_id


def _silence(url: str, worker_id: int, *, seconds: int) -> None:
    with psycopg.connect(libpq(url), autocommit=True) as conn:
        conn.execute(
            "UPDATE procrastinate_workers SET last_heartbeat = now() - make_interval(secs => %s) "
            "WHERE id = %s",
            (seconds, worker_id),
        )


async def test_jobs_finished_more_than_a_week_ago_are_forgotten(app: App, pg_url: str) -> None:
    finished = [await defer_sync(app, "acme", slot=SLOT), await defer_alerts(app, "acme")]
    worker = await app.job_manager.register_worker()
    for status in (Status.SUCCEEDED, Status.FAILED):
        job = await app.job_manager.fetch_job(queues=None, worker_id=worker)
        assert job is not None
        await app.job_manager.finish_job(job, status=status, delete_job=False)
    waiting = await defer_sync(app, "globex")
    with psycopg.connect(libpq(pg_url), autocommit=True) as conn:
        conn.execute(
            "UPDATE procrastinate_events SET at = at - interval '8 days' WHERE job_id = ANY(%s)",
            ([d.job_id for d in finished],),
        )

    await prune_finished(app)

    assert [(r.id, r.status) for r in jobs(pg_url)] == [(waiting.job_id, "todo")]


async def test_work_for_a_removed_connection_is_refused_in_one_line(app: App, pg_url: str) -> None:
    await defer_sync(app, "ghost")
    await defer_replay(app, "ghost", ["PO-1"])
    await defer_alerts(app, "ghost")
    outcomes: list[JobOutcome] = []
    store = await SqlStore.open(pg_url, Vault.ephemeral())
    try:
        await work(
            app, store, wait=False, on_outcome=outcomes.append, install_signal_handlers=False
        )
    finally:
        await store.close()

    assert sorted((o.task, o.action) for o in outcomes) == [
        ("alerts", "refused"),
        ("replay", "refused"),
        ("sync", "refused"),
    ]
    assert all("ghost" in o.detail for o in outcomes)
    assert {r.status for r in jobs(pg_url)} == {"succeeded"}
