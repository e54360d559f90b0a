"""Syncs queued so workers spread over Cin7 keys: connections on keys A, A, B, B are queued and
taken A, B, A, B, never both A first while B's budget idles."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from procrastinate import App
from procrastinate.testing import InMemoryConnector

from ml_connector.connection import ConnectionConfig
from ml_connector.jobs.defer import key_order
from ml_connector.jobs.scheduler import look
from ml_connector.jobs.tasks import register_tasks
from ml_connector.testing import FakeClock, MemoryStore

NOW = datetime(2026, 12, 2, 9, 15, tzinfo=UTC)


def _config(name: str, key: str, schedule: str | None = None) -> ConnectionConfig:
    settings: dict[str, Any] = {
        "cin7_account_id": "acc-1",
        "cin7_application_key": f"application-key-{key}",
        "qad_url": f"https://{name}.qad.example/clouderp",
        "qad_client_id": "client",
        "qad_username": "integration",
        "qad_password": "password",
        "qad_domain": "10USA",
        "qad_entity": "10USACO",
    }
    if schedule:
        settings["schedule"] = schedule
    return ConnectionConfig.from_settings(name, settings)


def _ordered(*pairs: tuple[str, str]) -> list[tuple[str, int]]:
    return [(c.name, p) for c, p in key_order([_config(n, k) for n, k in pairs])]


def test_keys_a_a_b_b_are_queued_a_b_a_b_one_priority_lower_each_round() -> None:
    assert _ordered(("a1", "A"), ("a2", "A"), ("b1", "B"), ("b2", "B")) == [
        ("a1", 0),
        ("b1", 0),
        ("a2", -1),
        ("b2", -1),
    ]


def test_a_key_with_more_connections_keeps_its_later_ones_for_later_rounds() -> None:
    assert _ordered(("a1", "A"), ("b1", "B"), ("a2", "A"), ("c1", "C"), ("a3", "A")) == [
        ("a1", 0),
        ("b1", 0),
        ("c1", 0),
        ("a2", -1),
        ("a3", -2),
    ]
    assert _ordered(("x", "A"), ("y", "B")) == [("x", 0), ("y", 0)]  # one each: as given
    assert key_order([]) == []


async def test_the_scheduler_queues_due_syncs_so_workers_take_them_a_b_a_b() -> None:
    clock = FakeClock(0, epoch=NOW - timedelta(hours=1))
    store = MemoryStore(clock=clock.utcnow)
    for name, key in (("a1", "A"), ("a2", "A"), ("b1", "B"), ("b2", "B"), ("manual", "B")):
        await store.add_connection(_config(name, key, None if name == "manual" else "every 15m"))
    app = App(connector=InMemoryConnector())
    register_tasks(app)

    async with app.open_async():
        turns, _ = await look(app, store, NOW)
        worker = await app.job_manager.register_worker()
        taken = []
        while (job := await app.job_manager.fetch_job(queues=None, worker_id=worker)) is not None:
            taken.append((job.task_kwargs["connection"], job.priority))

    assert [(t.name, t.action) for t in turns] == [
        ("a1", "deferred"),
        ("a2", "deferred"),
        ("b1", "deferred"),
        ("b2", "deferred"),
        ("manual", "skipped"),
    ]
    assert taken == [("a1", 0), ("b1", 0), ("a2", -1), ("b2", -1)]
