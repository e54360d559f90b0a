"""`worker` and `scheduler` need PostgreSQL; `db upgrade` there sets up the job queue too, and
`scheduler --once` queues what is due, and `sync`/`replay --queue` queue a pass for the workers."""

from __future__ import annotations

import pytest
from cli_helpers import Cli, Sandboxes
from job_queue import jobs
from postgres_helpers import empty_public_schema


def test_worker_on_sqlite_says_where_to_go_instead(cli: Cli) -> None:
    result = cli("worker", "--concurrency", "2")
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "is not PostgreSQL" in lines[0]
    assert "`ml-connector run`" in lines[0]
    assert not cli.database.exists()  # refused before anything was opened


def test_worker_refuses_a_concurrency_below_one(cli: Cli) -> None:
    assert cli("worker", "--concurrency", "0").exit_code == 2


@pytest.mark.postgres
def test_db_upgrade_on_postgres_sets_up_the_job_queue_once(pg_cli: Cli) -> None:
    cli = pg_cli
    first = cli.ok("db", "upgrade").stdout
    assert "Job queue schema created" in first
    again = cli.ok("db", "upgrade").stdout
    assert "Job queue schema up to date." in again


def test_scheduler_on_sqlite_says_where_to_go_instead(cli: Cli) -> None:
    result = cli("scheduler", "--once")
    assert result.exit_code == 2
    assert "`ml-connector run`" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.fixture
def pg_cli(cli: Cli, postgres_database: str) -> Cli:
    """The runner on the session's PostgreSQL database, emptied."""
    cli.env["ML_CONNECTOR_DATABASE_URL"] = empty_public_schema(postgres_database)
    return cli


@pytest.mark.postgres
def test_scheduler_once_queues_a_due_sync_once(pg_cli: Cli, sandboxes: Sandboxes) -> None:
    cli, url = pg_cli, str(pg_cli.env["ML_CONNECTOR_DATABASE_URL"])
    cli.ok("connection", "add", *sandboxes.add_args("acme"), "--schedule", "every 15m")
    cli.ok("connection", "add", *sandboxes.add_args("globex"))

    first = cli.ok("scheduler", "--once")
    assert "acme: deferred: sync job" in first.stderr
    assert "globex: skipped: no schedule" in first.stderr
    again = cli.ok("scheduler", "--once")
    assert "deferred" not in again.stderr
    assert [(j.task, j.queueing_lock) for j in jobs(url)] == [("ml_connector.sync", "sync:acme")]


def test_queue_on_sqlite_says_to_leave_it_out(connected: Cli) -> None:
    result = connected("sync", "acme", "--queue")
    assert result.exit_code == 2
    assert "--queue needs PostgreSQL" in result.stderr
    assert connected("sync", "acme", "--queue", "--dry-run").exit_code == 2


@pytest.mark.postgres
def test_sync_and_replay_queue_for_the_workers_once(pg_cli: Cli, sandboxes: Sandboxes) -> None:
    cli, url = pg_cli, str(pg_cli.env["ML_CONNECTOR_DATABASE_URL"])
    cli.ok("connection", "add", *sandboxes.add_args("acme"))

    assert cli.ok("sync", "acme", "--queue").stdout.startswith("Queued sync job 1 for acme.")
    assert "already waiting" in cli.ok("sync", "acme", "--queue").stdout
    replay = cli.json("replay", "acme", "--failed", "--queue", "--json")
    assert replay["queued"] is True
    assert cli("replay", "acme", "--queue").exit_code == 2  # no records named
    assert cli("sync", "globex", "--queue").exit_code == 2  # no such connection
    sync_job, replay_job = jobs(url)
    assert (sync_job.task, sync_job.queueing_lock) == ("ml_connector.sync", "sync:acme")
    assert (replay_job.id, replay_job.task) == (replay["job_id"], "ml_connector.replay")
    assert replay_job.args["failed"] is True
