"""Another process holds the connection: `sync` and `replay` exit 5 with one line naming it, or
wait for it with `--wait`, on SQLite and on PostgreSQL."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest
from cli_helpers import Cli, Sandboxes
from sqlalchemy.engine import make_url

# A second process that takes the connection's lock the way a pass does and keeps it until its
# stdin closes.
HOLDER = """
import asyncio, sys
from ml_connector.usecases import open_store
from ml_connector.usecases.lock import connection_lock

async def main():
    async with open_store() as store:
        config = await store.get_connection(sys.argv[1])
        async with connection_lock(store, config):
            print("held", flush=True)
            await asyncio.to_thread(sys.stdin.read)

asyncio.run(main())
"""


@contextmanager
def held_by_another_process(cli: Cli, name: str) -> Iterator[subprocess.Popen[str]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ML_CONNECTOR_")}
    env.update({k: v for k, v in cli.env.items() if v is not None})
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, name],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "held"
        yield holder
    finally:
        if holder.stdin and not holder.stdin.closed:
            holder.stdin.close()
        assert holder.wait(timeout=60) == 0


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest, cli: Cli) -> Cli:
    """The runner on SQLite in its home, or on an empty PostgreSQL database."""
    if request.param == "postgres":
        url: str = request.getfixturevalue("postgres_database")
        libpq = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        with psycopg.connect(libpq, autocommit=True) as conn:
            conn.execute("DROP SCHEMA public CASCADE")
            conn.execute("CREATE SCHEMA public")
        cli.env["ML_CONNECTOR_DATABASE_URL"] = url
    return cli


def test_a_busy_connection_exits_5_with_one_line(backend: Cli, sandboxes: Sandboxes) -> None:
    cli = backend
    cli.ok("connection", "add", *sandboxes.add_args("acme"))
    with held_by_another_process(cli, "acme") as holder:
        for args in (
            ("sync", "acme"),
            ("sync", "acme", "--dry-run"),
            ("replay", "acme", "--failed"),
        ):
            result = cli(*args)
            assert result.exit_code == 5, (args, result.stdout, result.stderr)
            lines = result.stderr.strip().splitlines()
            assert len(lines) == 1, lines
            assert lines[0].startswith(
                "connection acme is being synced by another process (since "
            ), lines
            assert f"pid {holder.pid}" in lines[0]
            assert result.stdout == ""
    assert sandboxes.qad_counts()["purchase_orders"] == 0
    assert cli.json("records", "acme")["records"] == []  # the refused passes read nothing


def test_wait_lets_the_pass_follow_the_other_process(backend: Cli, sandboxes: Sandboxes) -> None:
    cli = backend
    cli.ok("connection", "add", *sandboxes.add_args("acme"))
    cli.ok("mapping", "suggest", "acme", "--apply")
    with held_by_another_process(cli, "acme") as holder:
        assert holder.stdin is not None
        threading.Timer(1.0, holder.stdin.close).start()
        result = cli("sync", "acme", "--wait", "120", "--json")
    assert result.exit_code in (0, 1), result.stderr
    doc = json.loads(result.stdout)
    assert doc["status"] == "succeeded"
    assert doc["counters"]["purchase_orders"] == sandboxes.qad_counts()["purchase_orders"] > 0


def test_wait_is_documented_on_sync_and_replay(cli: Cli) -> None:
    for command in ("sync", "replay"):
        assert "--wait" in cli(command, "--help").stdout
