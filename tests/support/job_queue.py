"""Looking into Procrastinate's tables from a test: what each job is, and moving one along."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import psycopg
from sqlalchemy.engine import make_url


def libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@dataclass(frozen=True)
class JobRow:
    id: int
    task: str
    status: str
    queueing_lock: str | None
    args: dict[str, object]
    scheduled_at: datetime | None
    attempts: int


def jobs(url: str) -> list[JobRow]:
    """Every job, oldest first."""
    with psycopg.connect(libpq(url)) as conn:
        rows = conn.execute(
            "SELECT id, task_name, status::text, queueing_lock, args, scheduled_at, attempts "
            "FROM procrastinate_jobs ORDER BY id"
        ).fetchall()
    return [JobRow(*row) for row in rows]


def run_now(url: str, job_id: int) -> None:
    """Make a job scheduled for later runnable at once."""
    with psycopg.connect(libpq(url), autocommit=True) as conn:
        conn.execute("UPDATE procrastinate_jobs SET scheduled_at = now() WHERE id = %s", (job_id,))
