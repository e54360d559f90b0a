"""Putting work in the queue: which task, under which queueing lock, for which slot.

Every job is keyed by what it works on, and Procrastinate's *queueing lock* refuses a second
job with the same key while one is still **waiting** (``todo``); a job already running does not
block the next one, so work that arrives during a pass is never dropped. Whether two passes may
run at once is not the queue's business: that is the connection's pass lock
(:mod:`ml_connector.usecases.lock`), which a job meeting it answers by deferring itself again.

==========  =======================================  ==============================
task        queueing lock                            arguments
==========  =======================================  ==============================
sync        ``sync:<connection>``                    ``connection``, ``timestamp``
replay      ``replay:<connection>:<digest of args>`` ``connection``, ``references``,
                                                     ``failed``, ``blocked``, ``actor``
alerts      ``alerts:<connection>``                  ``connection``, ``timestamp``
==========  =======================================  ==============================

A scheduled sync (and the scheduler's alert check) is also keyed by its **slot**, the moment the
schedule made it due: it goes through Procrastinate's periodic-defer record
(``procrastinate_periodic_defers``, unique per task, connection and timestamp), so however many
schedulers look, and however often, one slot is deferred once. ``timestamp`` is that slot
(epoch seconds), or None for work asked for now.

Each ``defer_*`` returns a :class:`Deferral`: the new job's id, or why there is none.

Workers take the waiting job of highest **priority**, then the oldest. Connections on one Cin7
application key share that key's budget (60 calls per rolling minute), so two of them syncing
at once go no faster than one while a connection on another key waits. :func:`key_order` puts
a batch of syncs in the order that spreads keys: the first connection of every key, then the
second of every key, and so on, each round one priority lower than the one before, so workers
start as many different keys as they can before a second connection of any key.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from procrastinate import App
from procrastinate.exceptions import AlreadyEnqueued
from procrastinate.types import JSONValue

from ml_connector.cin7.pacer import key_fingerprint
from ml_connector.store.models import ConnectionConfig

__all__ = [
    "ALERTS_TASK",
    "REPLAY_TASK",
    "SYNC_TASK",
    "Deferral",
    "defer_alerts",
    "defer_replay",
    "defer_sync",
    "key_order",
    "sync_lock",
]

SYNC_TASK = "ml_connector.sync"
REPLAY_TASK = "ml_connector.replay"
ALERTS_TASK = "ml_connector.alerts"

DeferOutcome = Literal["deferred", "waiting", "slot-taken"]


@dataclass(frozen=True)
class Deferral:
    """``deferred`` (``job_id`` is the new job), ``waiting`` (a job with the same queueing
    lock is already waiting: it does this work) or ``slot-taken`` (this schedule slot was
    deferred before)."""

    outcome: DeferOutcome
    job_id: int | None = None


def sync_lock(connection: str) -> str:
    return f"sync:{connection}"


def replay_lock(connection: str, arguments: dict[str, object]) -> str:
    digest = hashlib.blake2b(json.dumps(arguments, sort_keys=True).encode(), digest_size=8)
    return f"replay:{connection}:{digest.hexdigest()}"


def key_order(connections: Sequence[ConnectionConfig]) -> list[tuple[ConnectionConfig, int]]:
    """``connections`` in the order to queue their syncs, each with its job priority: round
    after round, one connection of each Cin7 application key (keys and, within a key,
    connections in the order given), round ``n`` at priority ``-n``. Pure.

    Connections on keys A, A, B, B come out A, B, A, B with priorities 0, 0, -1, -1.
    """
    rounds: dict[str, int] = {}
    ranked: list[tuple[int, int, ConnectionConfig]] = []
    for index, config in enumerate(connections):
        key = key_fingerprint(config.cin7.application_key)
        rank = rounds.get(key, 0)
        rounds[key] = rank + 1
        ranked.append((rank, index, config))
    ranked.sort(key=lambda item: (item[0], item[1]))
    return [(config, -rank) for rank, _index, config in ranked]


async def defer_sync(
    app: App,
    connection: str,
    *,
    slot: datetime | None = None,
    delay: float = 0.0,
    priority: int = 0,
) -> Deferral:
    """Queue a sync of ``connection``: for schedule ``slot`` (once per slot), or now/after
    ``delay`` seconds; workers take higher ``priority`` first (:func:`key_order`)."""
    if slot is not None:
        return await _defer_slot(
            app, SYNC_TASK, sync_lock(connection), connection, slot, priority=priority
        )
    return await _defer(
        app,
        SYNC_TASK,
        sync_lock(connection),
        delay,
        priority=priority,
        connection=connection,
        timestamp=None,
    )


async def defer_replay(
    app: App,
    connection: str,
    references: Sequence[str] = (),
    *,
    failed: bool = False,
    blocked: bool = False,
    actor: str | None = None,
    delay: float = 0.0,
) -> Deferral:
    """Queue a replay of the named purchases and/or every failed/blocked one."""
    refs: list[JSONValue] = [*sorted(set(references))]
    arguments: dict[str, object] = {
        "references": refs,
        "failed": failed,
        "blocked": blocked,
        "actor": actor,
    }
    return await _defer(
        app,
        REPLAY_TASK,
        replay_lock(connection, arguments),
        delay,
        connection=connection,
        references=refs,
        failed=failed,
        blocked=blocked,
        actor=actor,
    )


async def defer_alerts(
    app: App, connection: str, *, slot: datetime | None = None, delay: float = 0.0
) -> Deferral:
    """Queue an evaluation of ``connection``'s alert rules: for ``slot`` (once per slot), or
    now/after ``delay`` seconds."""
    lock = f"alerts:{connection}"
    if slot is not None:
        return await _defer_slot(app, ALERTS_TASK, lock, connection, slot)
    return await _defer(app, ALERTS_TASK, lock, delay, connection=connection, timestamp=None)


async def _defer_slot(
    app: App, task: str, queueing_lock: str, connection: str, slot: datetime, *, priority: int = 0
) -> Deferral:
    timestamp = int(slot.timestamp())
    deferrer = app.configure_task(task, queueing_lock=queueing_lock, priority=priority)
    job = deferrer.make_new_job(connection=connection, timestamp=timestamp)
    try:
        job_id = await app.job_manager.defer_periodic_job(
            job, periodic_id=connection, defer_timestamp=timestamp
        )
    except AlreadyEnqueued:
        return Deferral("waiting")
    return Deferral("deferred", job_id) if job_id is not None else Deferral("slot-taken")


async def _defer(
    app: App,
    task: str,
    queueing_lock: str,
    delay: float,
    *,
    priority: int = 0,
    **arguments: JSONValue,
) -> Deferral:
    deferrer = app.configure_task(
        task,
        queueing_lock=queueing_lock,
        schedule_at=datetime.now(UTC) + timedelta(seconds=delay) if delay > 0 else None,
        priority=priority,
    )
    try:
        job_id = await deferrer.defer_async(**arguments)
    except AlreadyEnqueued:
        return Deferral("waiting")
    return Deferral("deferred", job_id)
