"""The SQLite engine runs statements on the event loop's thread and sends to the connection's
thread only the calls that may wait for a lock or the disk (`ml_connector.store.sqlite_driver`);
results read the same as through aiosqlite's own cursors (rows, RETURNING, rowcount,
executemany, errors, savepoints), and a lock held elsewhere never stops the loop."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
import threading
from collections.abc import AsyncIterator, Awaitable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from ml_connector.store.db import BEGIN_MODE, count_statements, create_engine
from ml_connector.store.sqlite_driver import SqliteConnection, connect


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "store.db"


@pytest.fixture
async def engine(db_path: Path) -> AsyncIterator[AsyncEngine]:
    made = create_engine(f"sqlite+aiosqlite:///{db_path}")
    reader = made.execution_options(**{BEGIN_MODE: "DEFERRED"})
    async with made.begin() as c, reader.connect() as also:
        await c.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT UNIQUE)"))
        await also.execute(text("SELECT 1"))  # two connections opened: tests count from here
    try:
        yield made
    finally:
        await made.dispose()


class Ticker:
    """A task that counts loop turns of 10 ms: it advances only while the loop is free."""

    def __init__(self) -> None:
        self.ticks = 0
        self._task = asyncio.ensure_future(self._run())

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(0.01)
            self.ticks += 1

    def stop(self) -> None:
        self._task.cancel()


@contextmanager
def ticking() -> Iterator[Ticker]:
    ticker = Ticker()
    try:
        yield ticker
    finally:
        ticker.stop()


async def waits_with_loop_free(awaitable: Awaitable[Any], release: Any) -> Any:
    """Start ``awaitable``; after 0.3 s it must still wait and the loop must have kept turning;
    then ``release()`` and return its result."""
    pending = asyncio.ensure_future(awaitable)
    with ticking() as ticker:
        await asyncio.sleep(0.3)
        assert not pending.done()
        assert ticker.ticks >= 10  # the loop was free while the call waited for the lock
    release()
    return await asyncio.wait_for(pending, 10)


# --- which calls make a trip -------------------------------------------------------------------


async def test_the_connection_returned_last_is_the_next_one_used(engine: AsyncEngine) -> None:
    """The pool hands out the connection that went back last (LIFO). A SQLite connection's page
    cache is dropped whenever another connection wrote; cycling through the pool (FIFO) made
    every transaction re-read the pages it needed from the file (pread64: 121,600 -> 14,000 per
    1,000 purchases in bench/sync.py)."""

    async def driver(c: AsyncConnection) -> object:
        return (await c.get_raw_connection()).driver_connection

    reader = engine.execution_options(**{BEGIN_MODE: "DEFERRED"})
    async with reader.connect() as first, reader.connect() as second:
        await first.execute(text("SELECT 1"))
        await second.execute(text("SELECT 1"))
        first_driver, second_driver = await driver(first), await driver(second)
        # `second` went back first, then `first`: the next checkout must be `first`'s.
    async with reader.connect() as again:
        assert await driver(again) is first_driver
    assert first_driver is not second_driver


async def test_a_writing_transaction_makes_one_trip_its_commit(
    engine: AsyncEngine, trips: list[str]
) -> None:
    async with engine.begin() as c:
        await c.execute(text("INSERT INTO t (v) VALUES ('a'), ('b')"))
        await c.execute(text("INSERT INTO t (v) VALUES (:v)"), [{"v": "c"}, {"v": "d"}])
        async with c.begin_nested():
            await c.execute(text("UPDATE t SET v = upper(v) WHERE id = 1"))
        rows = (await c.execute(text("SELECT id, v FROM t ORDER BY id"))).all()
        assert trips == []  # BEGIN IMMEDIATE, the writes, the savepoint and the read: in place
    assert [tuple(row) for row in rows] == [(1, "A"), (2, "b"), (3, "c"), (4, "d")]
    # The pool's rollback as it takes the connection back runs in place too.
    assert trips == ["commit"]


async def test_reads_make_no_trip(engine: AsyncEngine, trips: list[str]) -> None:
    async with engine.begin() as c:
        await c.execute(text("INSERT INTO t (v) VALUES ('a')"))
    trips.clear()
    deferred = engine.execution_options(**{BEGIN_MODE: "DEFERRED"})
    async with deferred.begin() as c:
        assert (await c.execute(text("SELECT v FROM t"))).scalars().all() == ["a"]
        assert (await c.execute(text("SELECT count(*) FROM t"))).scalar_one() == 1
    single = engine.execution_options(**{BEGIN_MODE: "NONE"})
    async with single.connect() as c:
        assert (await c.execute(text("SELECT v FROM t"))).scalar_one() == "a"
    async with engine.begin() as c:  # a BEGIN IMMEDIATE transaction that only reads
        assert (await c.execute(text("SELECT v FROM t"))).scalar_one() == "a"
    assert trips == []


async def test_writes_that_commit_themselves_and_pragmas_make_a_trip(
    engine: AsyncEngine, trips: list[str]
) -> None:
    single = engine.execution_options(**{BEGIN_MODE: "NONE"})
    async with single.connect() as c:  # no BEGIN: SQLite commits the INSERT, with its sync
        await c.execute(text("INSERT INTO t (v) VALUES ('a')"))
        assert (await c.execute(text("PRAGMA foreign_keys"))).scalar_one() == 1
        await c.execute(text("select v from t"))  # not as SQLAlchemy writes it: a trip
    deferred = engine.execution_options(**{BEGIN_MODE: "DEFERRED"})
    async with deferred.begin() as c:  # a DEFERRED transaction that writes: commit in the thread
        await c.execute(text("INSERT INTO t (v) VALUES ('b')"))
    assert trips == ["INSERT INTO", "PRAGMA foreign_keys", "select v", "commit"]
    async with engine.connect() as c:
        assert (await c.execute(text("SELECT v FROM t ORDER BY id"))).scalars().all() == ["a", "b"]


async def test_opening_a_connection_makes_trips_and_a_lock_is_waited_for_only_in_the_thread(
    tmp_path: Path, trips: list[str]
) -> None:
    made = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}")
    try:
        async with made.connect() as c:
            assert "PRAGMA journal_mode=WAL" in trips
            assert (await c.execute(text("PRAGMA journal_mode"))).scalar_one() == "wal"
            # A PRAGMA goes to the thread, where a lock is waited for up to the timeout ...
            assert (await c.execute(text("PRAGMA busy_timeout"))).scalar_one() == 30_000
            # ... and back on the loop's thread a lock is never waited for.
            in_place = text("SELECT * FROM pragma_busy_timeout")
            assert (await c.execute(in_place)).scalar_one() == 0
            assert trips[-1] == "PRAGMA busy_timeout"
    finally:
        await made.dispose()


async def test_a_transaction_left_open_is_rolled_back_in_place(
    engine: AsyncEngine, trips: list[str]
) -> None:
    async def fail_before_commit() -> None:
        async with engine.connect() as c:  # begins (BEGIN IMMEDIATE) on its first statement
            await c.execute(text("INSERT INTO t (v) VALUES ('lost')"))
            raise RuntimeError("the caller fails before it commits")

    with pytest.raises(RuntimeError):
        await fail_before_commit()
    assert trips == []
    async with engine.begin() as c:  # the write lock was given back
        await c.execute(text("INSERT INTO t (v) VALUES ('kept')"))
    async with engine.connect() as c:
        assert (await c.execute(text("SELECT v FROM t"))).scalars().all() == ["kept"]


async def test_calls_asked_while_a_call_is_still_running_queue_behind_it(
    tmp_path: Path, trips: list[str]
) -> None:
    conn = await connect(str(tmp_path / "busy.db"), timeout=5)
    try:
        release = threading.Event()
        running = asyncio.ensure_future(conn.send(release.wait, 5))
        await asyncio.sleep(0.05)  # the thread is inside the call
        select = asyncio.ensure_future(conn.run(False, "SELECT 1", None))
        rollback = asyncio.ensure_future(conn.rollback())
        await asyncio.sleep(0.05)
        assert trips == ["wait", "SELECT 1", "rollback"]  # none overtook the running call
        assert not select.done()
        release.set()
        assert await running is True
        assert (await select)[3] == [(1,)]
        await rollback
        await conn.rollback()  # idle now: in place
        assert (await conn.run(False, "SELECT 2", None))[3] == [(2,)]
        assert trips == ["wait", "SELECT 1", "rollback"]
    finally:
        await conn.close()


# --- results -----------------------------------------------------------------------------------


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


# --- locks held elsewhere ----------------------------------------------------------------------


async def test_a_writer_of_the_same_engine_holding_the_lock_across_an_await_is_waited_for_in_the_thread(  # noqa: E501
    engine: AsyncEngine, trips: list[str]
) -> None:
    first_holds = asyncio.Event()
    first_may_commit = asyncio.Event()

    async def first() -> None:
        async with engine.begin() as c:
            await c.execute(text("INSERT INTO t (v) VALUES ('first')"))
            first_holds.set()
            await first_may_commit.wait()  # holds the write lock across an await

    async def second() -> list[str]:
        async with engine.begin() as c:  # BEGIN IMMEDIATE meets the lock of `first`
            await c.execute(text("INSERT INTO t (v) VALUES ('second')"))
            return list((await c.execute(text("SELECT v FROM t ORDER BY id"))).scalars())

    holder = asyncio.ensure_future(first())
    await first_holds.wait()
    seen = await waits_with_loop_free(second(), first_may_commit.set)
    await holder
    assert seen == ["first", "second"]
    assert trips == ["BEGIN IMMEDIATE", "commit", "commit"]


async def test_a_read_beside_a_writer_of_the_same_engine_runs_in_place(
    engine: AsyncEngine, trips: list[str]
) -> None:
    async with engine.begin() as c:
        await c.execute(text("INSERT INTO t (v) VALUES ('old')"))
    trips.clear()
    reader = engine.execution_options(**{BEGIN_MODE: "DEFERRED"})
    async with engine.begin() as writer:
        await writer.execute(text("UPDATE t SET v = 'new'"))
        async with reader.connect() as c:  # WAL: readers never wait for a writer
            assert (await c.execute(text("SELECT v FROM t"))).scalar_one() == "old"
    assert trips == ["commit"]


@pytest.fixture
def other_process(db_path: Path, engine: AsyncEngine) -> Iterator[subprocess.Popen[str]]:
    """Another process that holds the database's write lock until its stdin closes."""
    script = (
        "import sqlite3, sys\n"
        f"c = sqlite3.connect({str(db_path)!r}, isolation_level=None)\n"
        "c.execute('BEGIN IMMEDIATE')\n"
        "c.execute(\"INSERT INTO t (v) VALUES ('other')\")\n"
        "print('locked', flush=True)\n"
        "sys.stdin.read()\n"
        "c.execute('COMMIT')\n"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline() == "locked\n"
        yield process
    finally:
        process.kill()
        process.wait()


def _let_go(process: subprocess.Popen[str]) -> None:
    assert process.stdin is not None
    process.stdin.close()


@pytest.mark.parametrize("mode", ["IMMEDIATE", "DEFERRED", "NONE"])
async def test_a_write_lock_held_by_another_process_does_not_freeze_the_loop(
    engine: AsyncEngine, other_process: subprocess.Popen[str], trips: list[str], mode: str
) -> None:
    """Whether the write meets the lock at BEGIN IMMEDIATE, as the first statement of a DEFERRED
    transaction (in place, busy at once, then in the thread) or as a write committing itself."""
    writer = engine.execution_options(**{BEGIN_MODE: mode})

    async def write() -> None:
        async with writer.begin() as c:
            await c.execute(text("INSERT INTO t (v) VALUES ('mine')"))

    reader = engine.execution_options(**{BEGIN_MODE: "DEFERRED"})
    async with reader.connect() as c:  # reads go on beside the other writer, in place
        assert (await c.execute(text("SELECT count(*) FROM t"))).scalar_one() == 0
    await waits_with_loop_free(write(), lambda: _let_go(other_process))
    assert other_process.wait(10) == 0
    async with engine.connect() as c:
        assert (await c.execute(text("SELECT v FROM t ORDER BY id"))).scalars().all() == [
            "other",
            "mine",
        ]
    assert (
        trips
        == {
            "IMMEDIATE": ["BEGIN IMMEDIATE", "commit"],
            "DEFERRED": ["INSERT INTO", "commit"],
            "NONE": ["INSERT INTO"],  # committed by SQLite as it ran
        }[mode]
    )


async def test_a_lock_held_past_the_timeout_fails_the_statement(
    db_path: Path, other_process: subprocess.Popen[str]
) -> None:
    conn = await connect(str(db_path), timeout=0.2)
    try:
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            await conn.run(False, "BEGIN IMMEDIATE", None)
        assert not conn.in_transaction
    finally:
        await conn.close()


@pytest.mark.parametrize(("mode", "expected"), [("IMMEDIATE", 2), ("DEFERRED", 2), ("NONE", 1)])
async def test_a_transaction_s_begin_is_counted_as_a_statement(
    engine: AsyncEngine, mode: str, expected: int
) -> None:
    with count_statements(engine) as counted:
        async with engine.execution_options(**{BEGIN_MODE: mode}).begin() as c:
            await c.execute(text("INSERT INTO t (v) VALUES ('counted')"))
    assert counted.statements == expected


async def test_a_begin_the_driver_refuses_fails_as_sqlalchemy_s_error(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = SqliteConnection.run

    async def locked(self: SqliteConnection, many: bool, sql: str, parameters: Any) -> Any:
        if sql.startswith("BEGIN"):
            raise sqlite3.OperationalError("database is locked")
        return await run(self, many, sql, parameters)

    monkeypatch.setattr(SqliteConnection, "run", locked)
    with pytest.raises(OperationalError, match="database is locked") as raised:
        async with engine.begin() as c:
            await c.execute(text("INSERT INTO t (v) VALUES ('never')"))
    assert isinstance(raised.value.orig, sqlite3.OperationalError)
    monkeypatch.undo()
    async with engine.connect() as c:  # nothing was written, and the connection still works
        assert (await c.execute(text("SELECT count(*) FROM t WHERE v = 'never'"))).scalar() == 0
