"""The job scheduler's looks: a due connection's slot deferred once, however many schedulers
look; paused, unscheduled and unhealthy connections skipped; alert checks for those with rules."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from job_queue import jobs
from procrastinate import App

from ml_connector.jobs.app import job_app
from ml_connector.jobs.defer import ALERTS_TASK, SYNC_TASK
from ml_connector.jobs.scheduler import look
from ml_connector.jobs.schema import ensure_job_schema
from ml_connector.store.models import ConnectionConfig
from ml_connector.store.sql import SqlStore
from ml_connector.usecases.alerts import add_alert
from ml_connector.usecases.scheduling import set_paused
from ml_connector.vault import Vault

pytestmark = pytest.mark.postgres


@pytest.fixture
async def store(pg_url: str) -> AsyncIterator[SqlStore]:
    store = await SqlStore.open(pg_url, Vault.ephemeral())
    try:
        yield store
    finally:
        await store.close()


@pytest.fixture
async def app(pg_url: str) -> AsyncIterator[App]:
    await ensure_job_schema(pg_url)
    app = job_app(pg_url)
    async with app.open_async():
        yield app


async def _add(store: SqlStore, name: str, **settings: Any) -> ConnectionConfig:
    return await store.add_connection(
        ConnectionConfig.from_settings(
            name,
            {
                "cin7_account_id": f"acc-{name}",
                "cin7_application_key": "key",
                "qad_url": "http://127.0.0.1:9/clouderp",
                "qad_client_id": "client",
                "qad_username": "integration",
                "qad_password": "password",
                "qad_domain": "10USA",
                "qad_entity": "10USACO",
                "allow_local": True,
                **settings,
            },
        )
    )


def _now() -> datetime:
    return datetime.now(UTC)


async def test_a_due_connection_is_deferred_once_per_slot(
    app: App, store: SqlStore, pg_url: str
) -> None:
    await _add(store, "acme", schedule="every 15m")
    now = _now()

    turns, _ = await look(app, store, now)
    assert [(t.name, t.action) for t in turns] == [("acme", "deferred")]
    (job,) = jobs(pg_url)
    assert (job.task, job.queueing_lock, job.id) == (SYNC_TASK, "sync:acme", turns[0].job_id)

    later, _ = await look(app, store, now + timedelta(minutes=1))
    assert [t.action for t in later] == ["queued"]
    assert later[0].slot == turns[0].slot
    assert "was deferred before" in later[0].detail
    assert len(jobs(pg_url)) == 1


async def test_two_schedulers_looking_at_once_defer_one_job(
    app: App, store: SqlStore, pg_url: str
) -> None:
    await _add(store, "acme", schedule="*/5 * * * *")
    await _add(store, "globex", schedule="every 1h")
    now = _now() + timedelta(minutes=10)
    second = job_app(pg_url)
    async with second.open_async():
        looks = await asyncio.gather(look(app, store, now), look(second, store, now))
    actions = sorted(t.action for turns, _ in looks for t in turns)
    assert actions == ["deferred", "deferred", "queued", "queued"]
    assert sorted(j.queueing_lock or "" for j in jobs(pg_url)) == ["sync:acme", "sync:globex"]


async def test_a_connection_synced_recently_waits_for_its_next_run(
    app: App, store: SqlStore, pg_url: str
) -> None:
    config = await _add(store, "acme", schedule="every 15m", timezone="Asia/Kolkata")
    assert config.id is not None
    await store.start_run(config.id, "sync", actor="cli:ada")

    turns, soonest = await look(app, store, _now())

    assert [t.action for t in turns] == ["waiting"]
    assert soonest is not None
    assert timedelta(minutes=14) < soonest - _now() <= timedelta(minutes=15)
    kolkata = soonest.astimezone(ZoneInfo("Asia/Kolkata"))
    assert turns[0].detail == f"next sync at {kolkata:%Y-%m-%d %H:%M:%S} IST (UTC+05:30)"
    assert jobs(pg_url) == []


async def test_paused_unscheduled_and_unhealthy_connections_are_skipped(
    app: App, store: SqlStore, pg_url: str
) -> None:
    await _add(store, "paused", schedule="every 15m")
    await set_paused(store, "paused", True, actor="test")
    await _add(store, "manual")
    sick = await _add(store, "sick", schedule="every 15m")
    assert sick.id is not None
    await store.set_health(sick.id, False, "QAD refused the password")

    turns, soonest = await look(app, store, _now())

    details = {t.name: (t.action, t.detail) for t in turns}
    assert details["paused"] == ("skipped", "paused: `connection resume paused`")
    assert details["manual"] == ("skipped", "no schedule: sync it by hand")
    assert details["sick"][0] == "skipped"
    assert "unhealthy" in details["sick"][1]
    assert soonest is None
    assert jobs(pg_url) == []


async def test_connections_with_alert_rules_get_an_alert_check_per_slot(
    app: App, store: SqlStore, pg_url: str
) -> None:
    await _add(store, "acme")
    await _add(store, "quiet")
    await add_alert(store, "acme", "webhook", {"url": "http://127.0.0.1:9/hook"}, ["no-sync:3"])
    now = datetime.fromtimestamp(int(_now().timestamp()) // 300 * 300 + 10, UTC)

    await look(app, store, now)
    await look(app, store, now + timedelta(seconds=1))

    (job,) = jobs(pg_url)
    assert (job.task, job.queueing_lock) == (ALERTS_TASK, "alerts:acme")
