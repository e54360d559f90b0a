"""Stalled jobs: a killed worker's job, found by its silent heartbeat and run again.

Every worker records a heartbeat in ``procrastinate_workers`` every few seconds. A job still
``doing`` whose worker has not beaten for ``stalled_after`` seconds (or was pruned as dead)
belongs to a process that died — SIGKILL, a lost machine, an OOM kill — and would stay
``doing`` for ever. :func:`recover_stalled` puts each such job back in the queue; every worker
runs it when it starts and then every ``stalled_after / 2`` seconds (:mod:`ml_connector.jobs
.worker`), so one live worker is enough. Several workers recovering at once is harmless: a job
only goes back once (Procrastinate refuses to retry a job that is no longer ``doing``).

Running a killed pass again is safe: the dead process held its connection lock on its own
database session, which PostgreSQL ended with the process, and the pass resolves every write
it left without an outcome by looking in QAD before posting anything.

When the same work is already waiting (the scheduler deferred the next slot meanwhile), the
stalled job cannot go back under its queueing lock; it is closed as failed, and the waiting job
does the work.

The queue is not the record of what happened (the store's runs and trail are), so finished jobs
are forgotten after :data:`JOB_HISTORY`: :func:`prune_finished`, which the workers run hourly,
deletes them with their events; otherwise every slot of every connection would stay a row for
ever.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

from procrastinate import App
from procrastinate.exceptions import ConnectorException, UniqueViolation
from procrastinate.jobs import Status

__all__ = ["JOB_HISTORY", "STALLED_AFTER", "Recovered", "prune_finished", "recover_stalled"]

log = logging.getLogger(__name__)

STALLED_AFTER = 60.0
"""Seconds without a heartbeat after which a worker counts as dead."""

JOB_HISTORY = timedelta(days=7)
"""How long finished jobs (succeeded, failed, cancelled, aborted) stay in the queue's tables."""


@dataclass(frozen=True)
class Recovered:
    """A stalled job and what became of it: ``retried``, or ``merged`` into a waiting job."""

    job_id: int
    task: str
    lock: str | None
    action: Literal["retried", "merged"]


async def recover_stalled(app: App, *, stalled_after: float = STALLED_AFTER) -> list[Recovered]:
    """Put every job of a dead worker back in the queue; what was done, per job."""
    done: list[Recovered] = []
    for job in await app.job_manager.get_stalled_jobs(seconds_since_heartbeat=stalled_after):
        assert job.id is not None
        try:
            await app.job_manager.retry_job(job)
            action: Literal["retried", "merged"] = "retried"
        except UniqueViolation:
            await app.job_manager.finish_job(job, status=Status.FAILED, delete_job=False)
            action = "merged"
        except ConnectorException:
            continue  # another worker recovered it first
        log.warning(
            "job %d (%s, %s) of a dead worker %s",
            job.id,
            job.task_name,
            job.queueing_lock or "no lock",
            "queued again" if action == "retried" else "closed: the same work is already waiting",
        )
        done.append(Recovered(job.id, job.task_name, job.queueing_lock, action))
    return done


async def prune_finished(app: App, *, older_than: timedelta = JOB_HISTORY) -> None:
    """Delete jobs that finished more than ``older_than`` ago, whatever their final state."""
    await app.job_manager.delete_old_jobs(
        nb_hours=max(1, int(older_than.total_seconds() // 3600)),
        include_failed=True,
        include_cancelled=True,
        include_aborted=True,
    )
