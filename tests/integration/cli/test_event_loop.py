"""A real sync pass on uvloop, the loop the CLI runs on where it is installed (SQLite, whose driver
answers from its own thread through the loop, and PostgreSQL); `ML_CONNECTOR_EVENT_LOOP=asyncio`
runs the same pass on asyncio's loop."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
import uvloop
from cli_helpers import Cli, Sandboxes
from postgres_helpers import empty_public_schema


@pytest.fixture
def uvloops(monkeypatch: pytest.MonkeyPatch) -> list[asyncio.AbstractEventLoop]:
    """The uvloop loops made while the test runs."""
    made: list[asyncio.AbstractEventLoop] = []
    real: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop

    def new_event_loop() -> asyncio.AbstractEventLoop:
        made.append(real())
        return made[-1]

    monkeypatch.setattr(uvloop, "new_event_loop", new_event_loop)
    return made


def _sync_and_check(cli: Cli, sandboxes: Sandboxes) -> None:
    cli.ok("connection", "add", *sandboxes.add_args("acme"))
    cli.ok("mapping", "suggest", "acme", "--apply")
    synced = cli.json("sync", "acme", expect=1)  # blocked records: exit 1
    assert synced["counters"]["purchase_orders"] == sandboxes.qad_counts()["purchase_orders"] > 0
    again = cli.json("sync", "acme", expect=1)
    assert again["counters"]["purchase_orders"] == 0  # exactly once
    assert cli.json("audit", "verify", "acme")["intact"] is True


def test_a_sync_on_sqlite_runs_on_uvloop(
    cli: Cli, sandboxes: Sandboxes, uvloops: list[asyncio.AbstractEventLoop]
) -> None:
    _sync_and_check(cli, sandboxes)
    assert len(uvloops) == len(cli.results)  # every command ran on a uvloop loop
    assert all(loop.is_closed() for loop in uvloops)


@pytest.mark.postgres
def test_a_sync_on_postgres_runs_on_uvloop(
    cli: Cli,
    sandboxes: Sandboxes,
    postgres_database: str,
    uvloops: list[asyncio.AbstractEventLoop],
) -> None:
    cli.env["ML_CONNECTOR_DATABASE_URL"] = empty_public_schema(postgres_database)
    cli.ok("db", "upgrade")
    _sync_and_check(cli, sandboxes)
    assert len(uvloops) == len(cli.results)


def test_the_variable_puts_the_pass_on_asyncios_loop(
    cli: Cli, sandboxes: Sandboxes, uvloops: list[asyncio.AbstractEventLoop]
) -> None:
    cli.env["ML_CONNECTOR_EVENT_LOOP"] = "asyncio"
    _sync_and_check(cli, sandboxes)
    assert uvloops == []


def test_an_unknown_loop_is_one_line_exit_2(cli: Cli) -> None:
    result = cli("connection", "list", ML_CONNECTOR_EVENT_LOOP="trio")
    assert result.exit_code == 2
    assert result.stderr == (
        "error: ML_CONNECTOR_EVENT_LOOP must be auto, uvloop or asyncio, not 'trio'\n"
    )
