"""Work asked for from a command line: `sync NAME --queue`, `replay NAME … --queue`.

Instead of running the pass in the asking process, these put it in the queue for the workers.
The connection is looked up first, so a misspelt name is refused (exit 2) rather than queued to
fail later; the replay's choice of records is checked the same way `replay` checks it. What is
queued is keyed as every job is (:mod:`ml_connector.jobs.defer`): asking twice while the first
still waits queues nothing more.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from procrastinate import App

from ml_connector.errors import ConfigError
from ml_connector.jobs.app import job_app
from ml_connector.jobs.defer import Deferral, defer_replay, defer_sync
from ml_connector.jobs.schema import ensure_job_schema, libpq_url
from ml_connector.settings import AppSettings
from ml_connector.usecases.opening import load_connection, open_store

__all__ = ["queue_replay", "queue_sync"]


async def queue_sync(settings: AppSettings, name: str) -> Deferral:
    """Queue a sync of connection ``name`` for the workers."""
    return await _queue(settings, name, lambda app: defer_sync(app, name))


async def queue_replay(
    settings: AppSettings,
    name: str,
    references: Sequence[str] = (),
    *,
    failed: bool = False,
    blocked: bool = False,
    actor: str | None = None,
) -> Deferral:
    """Queue a replay of connection ``name``'s named and/or failed/blocked purchases."""
    if not (references or failed or blocked):
        raise ConfigError("name the records to replay, or use --failed and/or --blocked")
    return await _queue(
        settings,
        name,
        lambda app: defer_replay(
            app, name, references, failed=failed, blocked=blocked, actor=actor
        ),
    )


async def _queue(
    settings: AppSettings, name: str, defer: Callable[[App], Awaitable[Deferral]]
) -> Deferral:
    try:
        libpq_url(settings.database_url)
    except ConfigError:
        raise ConfigError(
            "--queue needs PostgreSQL (the job queue's database); on SQLite leave it out and "
            "the pass runs here"
        ) from None
    async with open_store(settings) as store:
        await load_connection(store, name)
    await ensure_job_schema(settings.database_url)
    app = job_app(settings.database_url)
    async with app.open_async():
        return await defer(app)
