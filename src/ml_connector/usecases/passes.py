"""Passes over one connection: a sync (or its dry run) and a replay.

A pass is the only thing that writes a connection's sync state, so these two use cases are where
the engine runs, each inside the connection's lock (:mod:`ml_connector.usecases.lock`): a
second pass over the same connection waits up to ``wait`` seconds and otherwise raises
:class:`~ml_connector.errors.ConnectionBusy` before it reads or writes anything.

They return the engine's report with the elapsed time, the audit chain head after the pass
and, for a replay, where each chosen record stands afterwards; how a caller turns that into an
exit code, a page or a retried job is the caller's business.

After every pass, whatever its outcome, the connection's alert rules are evaluated
(:func:`ml_connector.usecases.alerts.evaluate_quietly`): that is how `sync`, `run` and job
workers all alert, from the database, without a process of their own. A pass that never started
because another process holds the connection leaves the evaluation to that process.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from ml_connector.errors import ConfigError, ConnectionBusy, ConnectionPaused
from ml_connector.store.audit import ChainHead
from ml_connector.store.models import ConnectionConfig, Record
from ml_connector.store.protocols import Store
from ml_connector.sync.engine import Progress, SyncReport
from ml_connector.usecases.alerts import evaluate_quietly
from ml_connector.usecases.lock import connection_lock
from ml_connector.usecases.opening import load_connection, os_user
from ml_connector.usecases.remotes import DEFAULT_CONCURRENCY, Remotes, open_engine
from ml_connector.usecases.reports import find_record
from ml_connector.vocab import RecordStatus, RunKind

__all__ = ["PassResult", "RecordOutcome", "replay_records", "sync_connection"]


@dataclass(frozen=True)
class RecordOutcome:
    """Where a replayed record stands after the pass."""

    reference: str
    status: RecordStatus
    reason: str | None


@dataclass(frozen=True)
class PassResult:
    """One pass: ``kind`` is ``sync``, ``dry-run`` or ``replay``."""

    connection: str
    kind: RunKind
    report: SyncReport
    elapsed_s: float
    head: ChainHead
    """The connection's audit chain head after the pass: keep it elsewhere, and
    ``audit verify NAME --expect-head HEAD`` finds the newest events deleted later."""
    outcomes: tuple[RecordOutcome, ...] = ()
    paused: bool = False
    """The connection is paused: this pass was asked for by hand (the scheduler skips it)."""


async def sync_connection(
    store: Store,
    name: str,
    *,
    dry_run: bool = False,
    actor: str | None = None,
    progress: Progress | None = None,
    wait: float = 0.0,
    remotes: Remotes | None = None,
    concurrency: int = DEFAULT_CONCURRENCY,
    scheduled: bool = False,
) -> PassResult:
    """Poll Cin7, plan, post to QAD and release held invoices; ``dry_run`` posts nothing and
    moves no cursor. The actor defaults to ``cli:<OS user>``. A ``scheduled`` pass (the
    scheduler's, a job's for a schedule slot) over a paused connection raises
    ConnectionPaused, however long ago it was decided; one asked for by hand runs."""
    config = await load_connection(store, name)
    if scheduled and config.sync.paused:
        raise ConnectionPaused(name)
    started = time.monotonic()
    try:
        async with (
            connection_lock(store, config, wait=wait),
            open_engine(
                store,
                config,
                actor=actor or f"cli:{os_user()}",
                progress=progress,
                remotes=remotes,
                concurrency=concurrency,
            ) as engine,
        ):
            report = await engine.sync(dry_run=dry_run)
    except ConnectionBusy:
        raise
    except Exception:
        await evaluate_quietly(store, name)
        raise
    await evaluate_quietly(store, name)
    kind: RunKind = "dry-run" if dry_run else "sync"
    assert config.id is not None
    return PassResult(
        name,
        kind,
        report,
        time.monotonic() - started,
        await store.head(config.id),
        paused=config.sync.paused,
    )


async def replay_records(
    store: Store,
    name: str,
    references: Sequence[str] = (),
    *,
    failed: bool = False,
    blocked: bool = False,
    actor: str | None = None,
    progress: Progress | None = None,
    wait: float = 0.0,
    remotes: Remotes | None = None,
) -> PassResult | None:
    """Re-run records from their stored snapshots, without calling Cin7.

    The records are the named purchases plus, with ``failed``/``blocked``, every purchase in
    that status; None when that is nobody. The actor defaults to ``replay:<OS user>``.
    """
    if not (references or failed or blocked):
        raise ConfigError("name the records to replay, or use --failed and/or --blocked")
    config = await load_connection(store, name)
    try:
        async with connection_lock(store, config, wait=wait):
            result = await _replay_locked(
                store, config, references, failed, blocked, actor, progress, remotes
            )
    except ConnectionBusy:
        raise
    except Exception:
        await evaluate_quietly(store, name)
        raise
    await evaluate_quietly(store, name)
    return result


async def _replay_locked(
    store: Store,
    config: ConnectionConfig,
    references: Sequence[str],
    failed: bool,
    blocked: bool,
    actor: str | None,
    progress: Progress | None,
    remotes: Remotes | None,
) -> PassResult | None:
    # Records are chosen under the lock, so their statuses are the last pass's final word.
    name = config.name
    assert config.id is not None
    chosen: dict[int, Record] = {}
    for reference in references:
        record, _key = await find_record(store, config.id, reference)
        if record is None or record.kind != "purchase":
            raise ConfigError(f"connection {name!r} has no purchase {reference!r}")
        chosen[record.id] = record
    statuses = [s for s, wanted in (("failed", failed), ("blocked", blocked)) if wanted]
    if statuses:
        for record in await store.list_records(config.id, status=statuses, kind="purchase"):
            chosen.setdefault(record.id, record)
    if not chosen:
        return None
    started = time.monotonic()
    async with open_engine(
        store,
        config,
        actor=actor or f"replay:{os_user()}",
        with_cin7=False,
        progress=progress,
        remotes=remotes,
    ) as engine:
        report = await engine.replay(chosen.values())
    now = [await store.get_record_by_id(rid) or old for rid, old in chosen.items()]
    outcomes = tuple(
        RecordOutcome(r.reference, r.status, r.reason)
        for r in sorted(now, key=lambda r: r.reference)
    )
    head = await store.head(config.id)
    return PassResult(name, "replay", report, time.monotonic() - started, head, outcomes)
