"""Unit tier: every test beneath this folder is marked `unit` and runs under a guard.

The unit tier is the inner loop (`pytest -m unit`), so it must stay fast and hermetic: no
database (not even a SQLite file), no server or socket, no subprocess, no real sleep. The guard
makes that a rule rather than a name: for each unit test it replaces the ways in, and a test
that opens a socket, starts a process, opens SQLite or PostgreSQL, or sleeps for a real delay
fails with a message naming what it did. `asyncio.sleep(0)`, the bare yield to the event loop,
stays allowed; virtual time (an injected clock and sleep) is how unit tests wait.
"""

from __future__ import annotations

import asyncio
import socket
import sqlite3
import subprocess
import time
from pathlib import Path
from typing import Any, NoReturn

import psycopg
import pytest
from tiers import mark_tier


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    mark_tier(items, Path(__file__).parent)


def _refuse(what: str) -> NoReturn:
    pytest.fail(f"unit tests may not {what}: move the test to tests/integration or tests/e2e")


@pytest.fixture(autouse=True)
def unit_tier_guard(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test on a socket, a subprocess, a database connection or a real sleep."""
    real_sleep = asyncio.sleep

    def no_socket(*args: Any, **kwargs: Any) -> NoReturn:
        _refuse("open a network connection")

    def no_process(*args: Any, **kwargs: Any) -> NoReturn:
        _refuse("start a subprocess")

    def no_database(*args: Any, **kwargs: Any) -> NoReturn:
        _refuse("open a database")

    def no_sleep(seconds: float) -> None:
        _refuse(f"sleep ({seconds}s)")

    async def yield_only(delay: float, result: Any = None) -> Any:
        if delay > 0:
            _refuse(f"sleep ({delay}s); inject a fake clock and sleep instead")
        return await real_sleep(0, result)

    for name in ("connect", "connect_ex", "bind"):
        monkeypatch.setattr(socket.socket, name, no_socket)
    monkeypatch.setattr(socket, "create_connection", no_socket)
    monkeypatch.setattr(subprocess.Popen, "__init__", no_process)
    monkeypatch.setattr(sqlite3, "connect", no_database)
    monkeypatch.setattr(psycopg.Connection, "connect", no_database)
    monkeypatch.setattr(psycopg.AsyncConnection, "connect", no_database)
    monkeypatch.setattr(time, "sleep", no_sleep)
    monkeypatch.setattr(asyncio, "sleep", yield_only)
