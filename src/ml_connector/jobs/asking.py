"""Work asked for by a person: `sync NAME --queue`, `replay NAME … --queue`, the console's replays.

Instead of running the pass in the asking process, these put it in the queue for the workers.
The connection is looked up first, so a misspelt name is refused (exit 2) rather than queued to
fail later; the replay's choice of records is checked the same way `replay` checks it. What is
queued is keyed as every job is (:mod:`ml_connector.jobs.defer`): asking twice while the first
still waits queues nothing more.

The console asks through :func:`replay_or_queue`: on PostgreSQL the replay is queued, as
``replay --queue`` queues it, so a web request never runs a pass; on SQLite there is no worker
and the replay runs in the console's process.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from procrastinate import App

from ml_connector.errors import ConfigError
from ml_connector.jobs.app import job_app
from ml_connector.jobs.defer import Deferral, defer_replay, defer_sync
from ml_connector.jobs.schema import ensure_job_schema, libpq_url
from ml_connector.settings import AppSettings
from ml_connector.store.sql import SqlStore
from ml_connector.usecases.error_queue import queued_references
from ml_connector.usecases.opening import load_connection, open_store
from ml_connector.usecases.passes import PassResult, replay_records

__all__ = ["queue_replay", "queue_sync", "replay_or_queue"]


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
    return await _queue(
        settings,
        name,
        _replay(name, references, failed=failed, blocked=blocked, actor=actor),
    )


async def replay_or_queue(
    store: SqlStore,
    name: str,
    references: Sequence[str] = (),
    *,
    group: str | None = None,
    record_ids: Sequence[int] = (),
    actor: str,
) -> PassResult | Deferral | None:
    """Replay connection ``name``'s named purchases, or those of one error-queue ``group`` or of
    the ticked ``record_ids`` (:func:`~ml_connector.usecases.error_queue.queued_references`),
    for a process that holds ``store`` (the console).

    On PostgreSQL the replay is queued for the workers, as ``replay --queue`` queues it, and the
    :class:`~ml_connector.jobs.defer.Deferral` returned; on SQLite, where no worker runs, it
    runs here and the pass is returned. None when the ticked records have left the queue.
    ConfigError when nothing is chosen, the group is gone or there is no such connection.
    """
    if not references:
        references = await queued_references(store, name, group=group, record_ids=record_ids)
        if not references:
            return None
    if store.dialect != "postgresql":
        return await replay_records(store, name, references, actor=actor)
    await load_connection(store, name)
    database_url = store.engine.url.render_as_string(hide_password=False)
    return await _defer(database_url, _replay(name, references, actor=actor))


def _replay(
    name: str,
    references: Sequence[str],
    *,
    failed: bool = False,
    blocked: bool = False,
    actor: str | None = None,
) -> Callable[[App], Awaitable[Deferral]]:
    if not (references or failed or blocked):
        raise ConfigError("name the records to replay, or use --failed and/or --blocked")
    return lambda app: defer_replay(
        app, name, references, failed=failed, blocked=blocked, actor=actor
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
    return await _defer(settings.database_url, defer)


async def _defer(database_url: str, defer: Callable[[App], Awaitable[Deferral]]) -> Deferral:
    await ensure_job_schema(database_url)
    app = job_app(database_url)
    async with app.open_async():
        return await defer(app)
