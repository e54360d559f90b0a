"""The job tasks: thin wrappers over the use cases, as the CLI commands are.

Each task opens nothing itself: the worker hands it a :class:`JobRuntime` (the store it opened,
who it is for the audit trail, how to report) through Procrastinate's job context. A task

- runs one use case (:func:`~ml_connector.usecases.passes.sync_connection`,
  :func:`~ml_connector.usecases.passes.replay_records` or
  :func:`~ml_connector.usecases.alerts.evaluate_alerts`), which takes the connection's pass
  lock itself (never waiting: ``wait=0``);
- when that lock is held (a ``sync`` in a terminal, another worker's job) the use case raises
  :class:`~ml_connector.errors.ConnectionBusy` before touching anything, and the task defers
  the same work again ``busy_delay`` seconds later and ends, so it never holds a worker slot
  while waiting; if a job for that work is already waiting, that one will do it;
- reports one :class:`JobOutcome` per job, for the worker's log lines;
- runs in a secret scope of its own (:mod:`ml_connector.masking`): its report masks the
  secrets of its connection, and a worker that runs for months never gathers every tenant's
  passwords in one set.

A pass that ends ``failed`` (a remote unavailable, credentials refused) still ends its job as
succeeded: the pass and its outcome are recorded in the store, where ``runs``, ``status``, the
console and the alerts read them, and the next schedule slot tries again. Work the use case
refuses (the connection was removed after the job was queued, a replay names a purchase it does
not have) is reported as ``refused`` with the reason, in one line, and ends the job: running it
again would be refused again. A job fails only when the task itself could not run (the database
went away).

A killed worker's job is run again by :mod:`ml_connector.jobs.recovery`; that is safe because a
pass resolves every write left without its outcome by looking in QAD before posting.
"""

from __future__ import annotations

import functools
import logging
import os
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, ParamSpec

from procrastinate import App, JobContext

from ml_connector.errors import ConfigError, ConnectionBusy, ConnectionPaused
from ml_connector.jobs.defer import (
    ALERTS_TASK,
    REPLAY_TASK,
    SYNC_TASK,
    Deferral,
    defer_replay,
    defer_sync,
)
from ml_connector.masking import scrub, secret_scope
from ml_connector.store.protocols import Store
from ml_connector.store.sql import SqlStore
from ml_connector.usecases.alerts import evaluate_alerts
from ml_connector.usecases.passes import PassResult, replay_records, sync_connection

__all__ = ["BUSY_DELAY", "JobOutcome", "JobRuntime", "register_tasks", "worker_actor"]

log = logging.getLogger(__name__)

BUSY_DELAY = 15.0
"""Seconds before a job that found its connection locked runs again."""

RUNTIME_KEY = "ml_connector"

P = ParamSpec("P")


def worker_actor() -> str:
    """Who a worker is in the audit trail: ``worker:<host>:<pid>``."""
    return f"worker:{socket.gethostname()}:{os.getpid()}"


@dataclass(frozen=True)
class JobOutcome:
    """What one job did: ``action`` is ``synced``, ``failed``, ``replayed``, ``nothing``,
    ``busy`` (deferred again), ``paused`` (a schedule slot's sync of a connection paused
    since), ``evaluated`` or ``refused`` (``detail`` says why)."""

    task: str
    connection: str
    action: str
    detail: str
    job_id: int | None = None


@dataclass(frozen=True)
class JobRuntime:
    """What the worker gives every task: the open store, the actor, the busy delay, a
    reporter."""

    store: Store
    actor: str = field(default_factory=worker_actor)
    busy_delay: float = BUSY_DELAY
    report: Callable[[JobOutcome], None] = lambda outcome: None


def _own_secret_scope(task: Callable[P, Awaitable[None]]) -> Callable[P, Awaitable[None]]:
    """Run each call of ``task`` (one job) in a secret scope of its own."""

    @functools.wraps(task)
    async def scoped(*args: P.args, **kwargs: P.kwargs) -> None:
        with secret_scope():
            await task(*args, **kwargs)

    return scoped


def register_tasks(app: App) -> None:
    """Declare the tasks on ``app`` (the worker's and every deferring process's)."""
    app.task(name=SYNC_TASK, pass_context=True)(sync_task)
    app.task(name=REPLAY_TASK, pass_context=True)(replay_task)
    app.task(name=ALERTS_TASK, pass_context=True)(alerts_task)


@_own_secret_scope
async def sync_task(context: JobContext, connection: str, timestamp: int | None = None) -> None:
    """One sync pass over ``connection``. ``timestamp`` is the schedule slot of a job the
    scheduler queued (None: asked for now, by hand): such a pass does not run once the
    connection is paused."""
    runtime = _runtime(context)
    try:
        result = await sync_connection(
            runtime.store, connection, actor=runtime.actor, scheduled=timestamp is not None
        )
    except ConnectionBusy as busy:
        again = await defer_sync(context.app, connection, delay=runtime.busy_delay)
        _report(runtime, context, "sync", connection, "busy", _busy_detail(busy, again))
        return
    except ConnectionPaused as paused:  # paused after the scheduler queued this slot
        _report(runtime, context, "sync", connection, "paused", str(paused))
        return
    except ConfigError as exc:
        _report(runtime, context, "sync", connection, "refused", str(exc))
        return
    report = result.report
    action = "failed" if report.status == "failed" else "synced"
    _report(runtime, context, "sync", connection, action, _pass_detail(result))


@_own_secret_scope
async def replay_task(
    context: JobContext,
    connection: str,
    references: list[str],
    failed: bool = False,
    blocked: bool = False,
    actor: str | None = None,
) -> None:
    """Replay the named purchases and/or every failed/blocked one from their snapshots."""
    runtime = _runtime(context)
    try:
        result = await replay_records(
            runtime.store,
            connection,
            references,
            failed=failed,
            blocked=blocked,
            actor=actor or runtime.actor,
        )
    except ConnectionBusy as busy:
        again = await defer_replay(
            context.app,
            connection,
            references,
            failed=failed,
            blocked=blocked,
            actor=actor,
            delay=runtime.busy_delay,
        )
        _report(runtime, context, "replay", connection, "busy", _busy_detail(busy, again))
        return
    except ConfigError as exc:
        _report(runtime, context, "replay", connection, "refused", str(exc))
        return
    if result is None:
        _report(runtime, context, "replay", connection, "nothing", "no record to replay")
        return
    _report(runtime, context, "replay", connection, "replayed", _pass_detail(result))


@_own_secret_scope
async def alerts_task(context: JobContext, connection: str, timestamp: int | None = None) -> None:
    """Evaluate ``connection``'s alert rules (time-based ones fire without a pass)."""
    runtime = _runtime(context)
    store = runtime.store
    if not isinstance(store, SqlStore):  # pragma: no cover - workers always open a SqlStore
        raise TypeError("alerts are evaluated from the SQL store")
    try:
        sent = await evaluate_alerts(store, connection)
    except ConfigError as exc:
        _report(runtime, context, "alerts", connection, "refused", str(exc))
        return
    detail = ", ".join(f"{n.condition} {n.state}" for n in sent) or "nothing changed"
    _report(runtime, context, "alerts", connection, "evaluated", detail)


def _runtime(context: JobContext) -> JobRuntime:
    runtime: Any = context.additional_context.get(RUNTIME_KEY)
    if not isinstance(runtime, JobRuntime):
        raise RuntimeError("ml-connector jobs run in `ml-connector worker` (no runtime given)")
    return runtime


def _report(
    runtime: JobRuntime,
    context: JobContext,
    task: str,
    connection: str,
    action: str,
    detail: str,
) -> None:
    detail = scrub(detail)
    outcome = JobOutcome(task, connection, action, detail, context.job.id)
    log.info(
        "%s %s: %s: %s",
        task,
        connection,
        action,
        detail,
        extra={"connection": connection, "action": action, "detail": detail},
    )
    runtime.report(outcome)


def _busy_detail(busy: ConnectionBusy, again: Deferral) -> str:
    if again.outcome == "deferred":
        return f"{busy}; deferred again as job {again.job_id}"
    return f"{busy}; a job for it is already waiting"


def _pass_detail(result: PassResult) -> str:
    report = result.report
    c = report.counters
    done = report.error or f"{c.purchase_orders} POs posted, {c.failed} failed, {c.blocked} blocked"
    return f"{done}; audit head {result.head}"
