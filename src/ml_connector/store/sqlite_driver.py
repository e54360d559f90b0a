"""The SQLite connection the store's engine uses: one thread hop per statement.

aiosqlite runs each SQLite connection in a thread of its own and hands it one call at a time;
every call is a trip from the event loop to that thread and back (a queue put, a thread wake-up,
a wake-up of the loop through its self-pipe). Under SQLAlchemy a statement costs four such trips
with aiosqlite's own cursor: create the cursor, execute, fetch the rows, close. A pass sends
tens of thousands of statements, and the trips cost more CPU than SQLite itself.

:class:`OneHopConnection` is an aiosqlite connection whose cursors make one trip per statement:
the thread creates a sqlite3 cursor, executes, reads every row and closes it, and the cursor
keeps the rows, the description, ``rowcount`` and ``lastrowid``. Nothing else changes: the same
thread owns the sqlite3 connection, commits and rollbacks are aiosqlite's. All rows of a result
are read at once, as SQLAlchemy's aiosqlite adapter already does for every statement that is not
streamed (the store streams none).
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from functools import partial
from typing import Any, cast

import aiosqlite

__all__ = ["OneHopConnection", "OneHopCursor", "connect"]

_Outcome = tuple[Any, int, int | None, list[Any]]


def _run(conn: sqlite3.Connection, many: bool, sql: str, parameters: Any) -> _Outcome:
    """In the connection's thread: the whole statement, its rows read and its cursor closed."""
    cursor = conn.cursor()
    try:
        if many:
            cursor.executemany(sql, parameters)
        elif parameters is None:
            cursor.execute(sql)
        else:
            cursor.execute(sql, parameters)
        rows = cursor.fetchall() if cursor.description else []
        # rowcount is read after the rows: for DML with RETURNING SQLite counts as they are read.
        return cursor.description, cursor.rowcount, cursor.lastrowid, rows
    finally:
        cursor.close()


class OneHopCursor:
    """A cursor with aiosqlite's async shape over a statement already run and read whole."""

    arraysize = 1

    def __init__(self, connection: OneHopConnection) -> None:
        self._connection = connection
        self.description: Any = None
        self.rowcount = -1
        self.lastrowid: int | None = None
        self._rows: list[Any] = []

    async def __aenter__(self) -> OneHopCursor:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()

    async def execute(self, sql: str, parameters: Any = None) -> OneHopCursor:
        self._take(await self._connection.run(False, sql, parameters))
        return self

    async def executemany(self, sql: str, parameters: Iterable[Any]) -> OneHopCursor:
        self._take(await self._connection.run(True, sql, parameters))
        return self

    def _take(self, outcome: _Outcome) -> None:
        self.description, self.rowcount, self.lastrowid, self._rows = outcome

    async def fetchone(self) -> Any:
        return self._rows.pop(0) if self._rows else None

    async def fetchmany(self, size: int | None = None) -> Sequence[Any]:
        n = self.arraysize if size is None else size
        taken, self._rows = self._rows[:n], self._rows[n:]
        return taken

    async def fetchall(self) -> Sequence[Any]:
        taken, self._rows = self._rows, []
        return taken

    async def close(self) -> None:
        self._rows = []


class OneHopConnection(aiosqlite.Connection):
    """An aiosqlite connection whose cursors send each statement in one trip to its thread.

    A rollback with nothing to roll back makes no trip either: the pool rolls every connection
    back as it takes it back, after each committed transaction too. It is skipped only when the
    thread has run every call sent to it (so no statement is running or waiting that could still
    open a transaction) and SQLite says no transaction is open.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._sent = 0  # calls handed to the thread (counted in the loop's thread)
        self._finished = 0  # calls the thread has finished (counted in that thread)

    def cursor(self) -> OneHopCursor:  # type: ignore[override]
        return OneHopCursor(self)

    async def run(self, many: bool, sql: str, parameters: Any) -> _Outcome:
        """One statement (``executemany`` when ``many``) in one trip to the thread."""
        return cast(_Outcome, await self.send(_run, self._conn, many, sql, parameters))

    async def send(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """``fn(*args, **kwargs)`` in the connection's thread: one trip, counted at both ends.
        Every call aiosqlite makes (commit, rollback, close) goes through here too."""
        if not self._running or not self._connection:
            raise ValueError("Connection closed")
        future = asyncio.get_running_loop().create_future()
        self._sent += 1
        self._tx.put_nowait((future, partial(self._call, fn, args, kwargs)))
        return await future

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        return await self.send(fn, *args, **kwargs)

    def _call(self, fn: Callable[..., Any], args: Any, kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        finally:
            self._finished += 1

    async def rollback(self) -> None:
        idle = self._connection is not None and self._finished == self._sent
        if idle and not self._conn.in_transaction:
            return
        await super().rollback()


def connect(database: str, *, timeout: float, check_same_thread: bool) -> OneHopConnection:
    """A connection to the SQLite file ``database`` (the keywords go to
    :func:`sqlite3.connect`); await it to open. Its thread is a daemon, so an unclosed connection
    never holds up the interpreter's exit."""

    def connector() -> sqlite3.Connection:
        return sqlite3.connect(database, timeout=timeout, check_same_thread=check_same_thread)

    connection = OneHopConnection(connector, 64)
    connection._thread.daemon = True
    return connection
