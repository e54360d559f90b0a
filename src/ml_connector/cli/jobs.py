"""`ml-connector worker`, `ml-connector scheduler` and `--queue`: the job queue on PostgreSQL.

Worker and scheduler refuse SQLite in one line pointing at `ml-connector run` (exit 2), before
opening anything. Both run until SIGINT (exit 130) or SIGTERM (exit 143), print one timestamped
line per thing they do on stderr, and, like `run`, append JSON lines with `--log-file`.
`sync --queue` and `replay --queue` render through :func:`queue_pass`. The job machinery
(Procrastinate) is imported only when one of these runs.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ml_connector.cli.console import EXIT_OK, emit_json, run, run_until_stopped, say
from ml_connector.cli.logs import ON_STDERR, command_log, report_turn, stamp, stop_reporter
from ml_connector.settings import DATABASE_URL_ENV, AppSettings, load_settings

if TYPE_CHECKING:
    from ml_connector.jobs.defer import Deferral
    from ml_connector.jobs.recovery import Recovered
    from ml_connector.jobs.scheduler import SchedulerTurn
    from ml_connector.jobs.tasks import JobOutcome

__all__ = ["Queue", "queue_pass", "scheduler", "worker"]

Queue = Annotated[
    bool,
    typer.Option(
        "--queue",
        help="PostgreSQL: queue it for `ml-connector worker`s instead of running it here.",
    ),
]

DatabaseUrl = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        metavar="URL",
        help="The PostgreSQL database (default: ML_CONNECTOR_DATABASE_URL).",
        show_default=False,
    ),
]
LogFile = Annotated[
    Path | None,
    typer.Option(
        "--log-file",
        metavar="FILE",
        dir_okay=False,
        help="Also append JSON-lines logs (one object per line) to FILE.",
    ),
]


def worker(
    concurrency: Annotated[
        int,
        typer.Option(
            "--concurrency",
            min=1,
            metavar="N",
            help="Run up to N jobs at once (each a different connection or piece of work).",
        ),
    ] = 1,
    stalled_after: Annotated[
        float,
        typer.Option(
            "--stalled-after",
            min=2,
            metavar="SECONDS",
            help="A worker silent this long is dead: its jobs are queued again.",
        ),
    ] = 60.0,
    database_url: DatabaseUrl = None,
    log_file: LogFile = None,
) -> None:
    """Run queued jobs (syncs, replays, alert checks) from PostgreSQL until stopped.

    Start as many as needed, on any machines, against the same database and master key;
    `ml-connector scheduler` queues each connection's sync on its schedule. Two passes over
    one connection never overlap: a job that finds its connection busy queues itself again.
    """
    log = command_log("ml_connector.jobs", log_file)

    def show_outcome(outcome: JobOutcome) -> None:
        say(
            f"{stamp()} {outcome.task} {outcome.connection}: {outcome.action}: {outcome.detail}",
            err=True,
        )

    def show_recovered(recovered: Recovered) -> None:
        what = "queued again" if recovered.action == "retried" else "closed (already waiting)"
        say(f"{stamp()} job {recovered.job_id} of a dead worker {what}", err=True)

    async def main() -> None:
        from ml_connector.jobs.schema import libpq_url
        from ml_connector.jobs.worker import run_worker

        settings = _settings(database_url)
        libpq_url(settings.database_url)  # SQLite: one line pointing at `run`, exit 2
        say(f"{stamp()} worker starting (concurrency {concurrency}); Ctrl+C stops it", err=True)
        log.info("worker starting", extra={"detail": f"concurrency {concurrency}", **ON_STDERR})
        await run_worker(
            settings,
            concurrency=concurrency,
            stalled_after=stalled_after,
            on_outcome=show_outcome,
            on_recovered=show_recovered,
            install_signal_handlers=False,
        )

    run_until_stopped(main, stop_reporter(log, "worker ", "a pass cut short resumes safely"))


def scheduler(
    once: Annotated[
        bool, typer.Option("--once", help="Queue what is due now, then exit (for cron).")
    ] = False,
    database_url: DatabaseUrl = None,
    log_file: LogFile = None,
) -> None:
    """Queue each connection's sync when its schedule says, for `ml-connector worker`s to run.

    One is enough and more do no harm: each schedule slot is queued once, and never while a
    sync of that connection already waits. Paused connections, connections without a schedule
    and connections whose credentials were refused are skipped, as `run` skips them. Prints
    the jobs it queues and, once, why a connection is skipped.
    """
    log = command_log("ml_connector.jobs", log_file)
    shown: dict[str, str] = {}

    def show(turn: SchedulerTurn) -> None:
        if turn.action in ("waiting", "queued") or shown.get(turn.name) == turn.detail:
            return
        shown[turn.name] = turn.detail
        report_turn(log, turn.name, turn.action, turn.detail)

    async def main() -> None:
        from ml_connector.jobs.scheduler import run_scheduler
        from ml_connector.jobs.schema import libpq_url

        settings = _settings(database_url)
        libpq_url(settings.database_url)  # SQLite: one line pointing at `run`, exit 2
        if not once:
            say(f"{stamp()} scheduler running; Ctrl+C stops it", err=True)
        await run_scheduler(settings, once=once, on_turn=show)

    run_until_stopped(main, stop_reporter(log, "scheduler ", "queued jobs stay queued"))


def queue_pass(
    kind: str,
    name: str,
    as_json: bool,
    ask: Callable[[AppSettings], Awaitable[Deferral]],
) -> None:
    """`sync --queue` / `replay --queue`: queue the pass, say what became of it (exit 0)."""

    async def main() -> int:
        deferral = await ask(load_settings())
        if as_json:
            emit_json(
                {
                    "connection": name,
                    "kind": kind,
                    "queued": deferral.outcome == "deferred",
                    "job_id": deferral.job_id,
                }
            )
        elif deferral.outcome == "deferred":
            say(f"Queued {kind} job {deferral.job_id} for {name}.")
        else:
            say(f"A {kind} of {name} is already waiting in the queue; nothing more queued.")
        return EXIT_OK

    run(main)


def _settings(database_url: str | None) -> AppSettings:
    if database_url:
        return load_settings({**os.environ, DATABASE_URL_ENV: database_url})
    return load_settings()
