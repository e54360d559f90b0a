"""The SQLite engine sends each statement to its connection's thread in one trip
(`ml_connector.store.sqlite_driver`), and the results read the same as through aiosqlite's own
cursors: rows, RETURNING, rowcount, executemany, errors, savepoints."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from ml_connector.store.db import create_engine
from ml_connector.store.sqlite_driver import OneHopConnection, connect


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    made = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'one-hop.db'}")
    async with made.begin() as c:
        await c.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT UNIQUE)"))
    try:
        yield made
    finally:
        await made.dispose()


@pytest.fixture
def trips(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """What each trip to a connection's thread ran, by function name."""
    seen: list[str] = []
    real = OneHopConnection.send

    async def counted(self: OneHopConnection, fn: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append(getattr(fn, "__name__", repr(fn)))
        return await real(self, fn, *args, **kwargs)

    monkeypatch.setattr(OneHopConnection, "send", counted)
    return seen


async def test_each_statement_is_one_trip_to_the_thread(
    engine: AsyncEngine, trips: list[str]
) -> None:
    async with engine.begin() as c:
        trips.clear()  # the BEGIN
        await c.execute(text("INSERT INTO t (v) VALUES ('a'), ('b')"))
        rows = (await c.execute(text("SELECT id, v FROM t ORDER BY id"))).all()
        assert trips == ["_run", "_run"]
    assert [tuple(row) for row in rows] == [(1, "a"), (2, "b")]
    # The pool's rollback as it takes the connection back has nothing to do: no trip.
    assert trips == ["_run", "_run", "commit"]


async def test_a_transaction_left_open_is_rolled_back(
    engine: AsyncEngine, trips: list[str]
) -> None:
    async def fail_before_commit() -> None:
        async with engine.connect() as c:  # begins (BEGIN IMMEDIATE) on its first statement
            await c.execute(text("INSERT INTO t (v) VALUES ('lost')"))
            raise RuntimeError("the caller fails before it commits")

    with pytest.raises(RuntimeError):
        await fail_before_commit()
    assert trips[-1] == "rollback"
    async with engine.begin() as c:  # the write lock was given back
        await c.execute(text("INSERT INTO t (v) VALUES ('kept')"))
    async with engine.connect() as c:
        assert (await c.execute(text("SELECT v FROM t"))).scalars().all() == ["kept"]


async def test_rows_returning_rowcount_and_lastrowid_read_as_the_driver_gives_them(
    engine: AsyncEngine,
) -> None:
    async with engine.begin() as c:
        inserted = await c.execute(text("INSERT INTO t (v) VALUES ('a')"))
        assert inserted.lastrowid == 1
        await c.execute(text("INSERT INTO t (v) VALUES (:v)"), [{"v": "b"}, {"v": "c"}])
        updated = await c.execute(text("UPDATE t SET v = v || '!' WHERE id > 1"))
        assert updated.rowcount == 2
        returned = await c.execute(text("UPDATE t SET v = upper(v) WHERE id < 3 RETURNING id, v"))
        assert sorted(tuple(row) for row in returned) == [(1, "A"), (2, "B!")]
        assert (await c.execute(text("SELECT v FROM t WHERE id = 3"))).scalar_one() == "c!"
        assert (await c.execute(text("SELECT v FROM t WHERE id = 99"))).first() is None
        assert (await c.execute(text("DELETE FROM t WHERE id = 3"))).rowcount == 1


async def test_a_failed_statement_raises_and_a_savepoint_rolls_back_alone(
    engine: AsyncEngine,
) -> None:
    async with engine.begin() as c:
        await c.execute(text("INSERT INTO t (v) VALUES ('a')"))

        async def clash() -> None:
            async with c.begin_nested():
                await c.execute(text("INSERT INTO t (v) VALUES ('b')"))
                await c.execute(text("INSERT INTO t (v) VALUES ('a')"))

        with pytest.raises(IntegrityError, match="UNIQUE"):
            await clash()
    async with engine.connect() as c:
        assert (await c.execute(text("SELECT v FROM t"))).scalars().all() == ["a"]


async def test_a_rollback_asked_while_a_call_is_still_running_goes_to_the_thread(
    tmp_path: Path, trips: list[str]
) -> None:
    conn = await connect(str(tmp_path / "busy.db"), timeout=5, check_same_thread=False)
    try:
        release = threading.Event()
        running = asyncio.ensure_future(conn.send(release.wait, 5))
        await asyncio.sleep(0.05)  # the thread is inside the call: no transaction open yet
        rollback = asyncio.ensure_future(conn.rollback())
        await asyncio.sleep(0.05)
        assert trips == ["wait", "rollback"]  # not skipped: the call could still begin one
        release.set()
        assert await running is True
        await rollback
        await conn.rollback()  # idle now, and nothing open: no trip
        assert trips == ["wait", "rollback"]
    finally:
        await conn.close()
