"""A worker with ``--concurrency 12`` runs twelve syncs at once on PostgreSQL, each finding a
store connection kept for it: none waits for another job's connection, none times out."""

from __future__ import annotations

from pathlib import Path

import pytest
from sandbox_config import sandbox_config
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

from ml_connector.jobs.app import job_app
from ml_connector.jobs.defer import defer_sync
from ml_connector.jobs.schema import ensure_job_schema
from ml_connector.jobs.tasks import JobOutcome
from ml_connector.jobs.worker import CONNECTIONS_PER_JOB, run_worker, store_pool_size
from ml_connector.sandbox.cin7 import create_cin7_sandbox
from ml_connector.sandbox.qad import create_qad_sandbox
from ml_connector.serve import ServerThread
from ml_connector.settings import load_settings
from ml_connector.usecases import open_store, suggest

pytestmark = pytest.mark.postgres

CONCURRENCY = 12
USD_SUPPLIER = "02c19aa9-b6d7-4031-adbe-5f3d418bfbb0"  # seed 11


def test_the_store_pool_grows_with_the_jobs_a_worker_runs_at_once() -> None:
    assert store_pool_size(1) >= 5  # never below SQLAlchemy's default
    assert store_pool_size(12) == 12 * CONNECTIONS_PER_JOB
    assert CONNECTIONS_PER_JOB >= 2  # a pass's lock session and its own work, at least


async def test_twelve_syncs_run_at_once_without_waiting_for_a_connection(
    pg_url: str, tmp_path: Path
) -> None:
    settings = load_settings(
        {"ML_CONNECTOR_HOME": str(tmp_path), "ML_CONNECTOR_DATABASE_URL": pg_url}
    )
    names = [f"t{i:02d}" for i in range(CONCURRENCY)]
    cin7 = create_cin7_sandbox(seed=11, suppliers=6, purchases=0, rate_limit=100_000)
    qad = create_qad_sandbox(seed=11, tenants=names)
    for quantity in (10, 11, 12):
        cin7.state.create_purchase(
            "STOCK", [{"sku": "WSH-M8", "quantity": quantity}], supplier_id=USD_SUPPLIER
        )
    with ServerThread(cin7.app) as cin7_server, ServerThread(qad.app) as qad_server:
        async with open_store(settings) as store:
            for name in names:
                await store.add_connection(
                    sandbox_config(
                        name,
                        cin7,
                        qad,
                        cin7_url=cin7_server.url,
                        qad_url=qad.base_url(qad_server.url, name),
                    )
                )
                await suggest(store, name, apply=True)
        for name in names:
            qad.tenant(name).faults.latency_ms = 100  # passes long enough to overlap
        await ensure_job_schema(pg_url)
        app = job_app(pg_url)
        async with app.open_async():
            for name in names:
                await defer_sync(app, name)

        crowded: list[str] = []  # pools that handed out more connections than they keep

        def on_connect(connection: Connection) -> None:
            pool = connection.engine.pool
            if pool.checkedout() > pool.size():  # type: ignore[attr-defined]
                crowded.append(pool.status())

        outcomes: list[JobOutcome] = []
        event.listen(Engine, "engine_connect", on_connect)
        try:
            await run_worker(
                settings,
                concurrency=CONCURRENCY,
                wait=False,
                on_outcome=outcomes.append,
                install_signal_handlers=False,
            )
        finally:
            event.remove(Engine, "engine_connect", on_connect)

    assert sorted((o.connection, o.action) for o in outcomes) == [(n, "synced") for n in names]
    assert crowded == []
    async with open_store(settings) as store:
        spans = []
        for name in names:
            config = await store.get_connection(name)
            assert config.id is not None
            (run,) = await store.list_runs(config.id, kind="sync")
            assert run.finished_at is not None
            spans.append((run.started_at, run.finished_at))
    assert max(start for start, _ in spans) < min(end for _, end in spans)  # all 12 at once
