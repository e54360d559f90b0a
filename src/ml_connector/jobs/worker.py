"""``ml-connector worker``: run queued jobs from PostgreSQL, any number of processes and machines.

A worker opens the store (applying our migrations), brings Procrastinate's schema up to date
(:mod:`ml_connector.jobs.schema`), recovers the jobs of dead workers, and runs jobs —
up to ``concurrency`` at once, each a different connection or a different piece of work — until
SIGINT or SIGTERM. It then stops fetching, lets running jobs finish for up to
:data:`GRACE_SECONDS`, and cancels what is left: an interrupted pass is recorded as such and
resumes safely on the next one.

Start as many as the work needs, on as many machines, all with the same
``ML_CONNECTOR_DATABASE_URL`` (or ``--database-url``) and master key::

    ml-connector db upgrade
    ml-connector worker --concurrency 4 &     # as many times as wanted
    ml-connector scheduler &                  # one is enough; more do no harm

While it runs, the worker beats its heart every ``stalled_after / 6`` seconds, looks for
stalled jobs every ``stalled_after / 2`` seconds and deletes jobs finished more than a week ago
every hour (:mod:`ml_connector.jobs.recovery`).

Its store keeps a connection pool sized for ``concurrency`` (:func:`store_pool_size`), so a
job never waits for another's connection; PostgreSQL's ``max_connections`` has to cover every
worker's pool plus Procrastinate's own few (:data:`~ml_connector.jobs.app.POOL_MAX`) each.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable

from procrastinate import App
from procrastinate.exceptions import ProcrastinateException

from ml_connector.jobs.app import job_app
from ml_connector.jobs.recovery import STALLED_AFTER, Recovered, prune_finished, recover_stalled
from ml_connector.jobs.schema import ensure_job_schema, libpq_url
from ml_connector.jobs.tasks import BUSY_DELAY, RUNTIME_KEY, JobOutcome, JobRuntime, worker_actor
from ml_connector.settings import AppSettings
from ml_connector.store.protocols import Store
from ml_connector.usecases.opening import open_store
from ml_connector.usecases.remotes import DEFAULT_CONCURRENCY

__all__ = ["CONNECTIONS_PER_JOB", "GRACE_SECONDS", "run_worker", "store_pool_size", "work"]

log = logging.getLogger(__name__)

PRUNE_EVERY = 3600.0
"""Seconds between two deletions of long-finished jobs (:func:`~ml_connector.jobs.recovery
.prune_finished`)."""

CONNECTIONS_PER_JOB = 2 + DEFAULT_CONCURRENCY
"""Store connections one running pass may hold at once: its connection's lock (a session held
for the whole pass), the pass's own reads and writes, and one per purchase it posts at once
(:data:`~ml_connector.usecases.remotes.DEFAULT_CONCURRENCY`), whose pacer and QAD slot
statements run between them. Sized from this, a worker's jobs never wait on each other for
a connection: with SQLAlchemy's default pool (5, and 10 more on demand) sixteen jobs holding
their locks left nothing for their work, and each timed out after 30 s."""

GRACE_SECONDS = 30.0
"""How long a stopping worker lets its running jobs finish before cancelling them."""


def store_pool_size(concurrency: int) -> int:
    """How many store connections a worker running ``concurrency`` jobs at once keeps:
    :data:`CONNECTIONS_PER_JOB` for each (SQLAlchemy's default of 5 at least)."""
    return max(5, concurrency * CONNECTIONS_PER_JOB)


async def run_worker(
    settings: AppSettings,
    *,
    concurrency: int = 1,
    stalled_after: float = STALLED_AFTER,
    on_outcome: Callable[[JobOutcome], None] = lambda outcome: None,
    on_recovered: Callable[[Recovered], None] = lambda recovered: None,
    install_signal_handlers: bool = True,
    wait: bool = True,
) -> None:
    """Open the settings' store and job queue, then :func:`work` until stopped (``wait=False``:
    until the queue is empty)."""
    libpq_url(settings.database_url)  # refuses SQLite before anything is opened
    async with open_store(settings, pool_size=store_pool_size(concurrency)) as store:
        await ensure_job_schema(settings.database_url)
        app = job_app(settings.database_url)
        async with app.open_async():
            await work(
                app,
                store,
                concurrency=concurrency,
                stalled_after=stalled_after,
                wait=wait,
                on_outcome=on_outcome,
                on_recovered=on_recovered,
                install_signal_handlers=install_signal_handlers,
            )


async def work(
    app: App,
    store: Store,
    *,
    concurrency: int = 1,
    stalled_after: float = STALLED_AFTER,
    busy_delay: float = BUSY_DELAY,
    wait: bool = True,
    on_outcome: Callable[[JobOutcome], None] = lambda outcome: None,
    on_recovered: Callable[[Recovered], None] = lambda recovered: None,
    install_signal_handlers: bool = True,
) -> None:
    """Run ``app``'s jobs over ``store`` (``wait=False``: until the queue is empty)."""
    runtime = JobRuntime(store, worker_actor(), busy_delay, on_outcome)
    recovery = asyncio.create_task(_recover_forever(app, stalled_after, on_recovered))
    try:
        await app.run_worker_async(
            concurrency=concurrency,
            wait=wait,
            name=runtime.actor,
            additional_context={RUNTIME_KEY: runtime},
            update_heartbeat_interval=max(1.0, stalled_after / 6),
            stalled_worker_timeout=stalled_after,
            shutdown_graceful_timeout=GRACE_SECONDS,
            install_signal_handlers=install_signal_handlers,
        )
    finally:
        recovery.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await recovery


async def _recover_forever(
    app: App, stalled_after: float, on_recovered: Callable[[Recovered], None]
) -> None:
    pruned_at: float | None = None
    while True:
        try:
            for recovered in await recover_stalled(app, stalled_after=stalled_after):
                on_recovered(recovered)
            if pruned_at is None or time.monotonic() - pruned_at >= PRUNE_EVERY:
                await prune_finished(app)
                pruned_at = time.monotonic()
        except ProcrastinateException as exc:  # the database blinked: look again next time
            log.warning("stalled or old jobs not looked after: %s", type(exc).__name__)
        await asyncio.sleep(max(1.0, stalled_after / 2))
