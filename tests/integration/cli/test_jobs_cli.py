"""`worker` and `scheduler` need PostgreSQL; `db upgrade` there sets up the job queue too, and
`scheduler --once` queues what is due."""

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
def test_db_upgrade_on_postgres_sets_up_the_job_queue_once(
    cli: Cli, postgres_database: str
) -> None:
    cli.env["ML_CONNECTOR_DATABASE_URL"] = empty_public_schema(postgres_database)
    first = cli.ok("db", "upgrade").stdout
    assert "Job queue schema created" in first
    again = cli.ok("db", "upgrade").stdout
    assert "Job queue schema up to date." in again


def test_scheduler_on_sqlite_says_where_to_go_instead(cli: Cli) -> None:
    result = cli("scheduler", "--once")
    assert result.exit_code == 2
    assert "`ml-connector run`" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.postgres
def test_scheduler_once_queues_a_due_sync_once(
    cli: Cli, sandboxes: Sandboxes, postgres_database: str
) -> None:
    url = empty_public_schema(postgres_database)
    cli.env["ML_CONNECTOR_DATABASE_URL"] = url
    cli.ok("connection", "add", *sandboxes.add_args("acme"), "--schedule", "every 15m")
    cli.ok("connection", "add", *sandboxes.add_args("globex"))

    first = cli.ok("scheduler", "--once")
    assert "acme: deferred: sync job" in first.stderr
    assert "globex: skipped: no schedule" in first.stderr
    again = cli.ok("scheduler", "--once")
    assert "deferred" not in again.stderr
    assert [(j.task, j.queueing_lock) for j in jobs(url)] == [("ml_connector.sync", "sync:acme")]
