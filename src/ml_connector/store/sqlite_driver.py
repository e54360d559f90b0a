"""The SQLite connection the store's engine uses: statements run on the event loop's thread, and
only the calls that may wait for a lock or the disk go to the connection's own thread.

aiosqlite runs each SQLite connection in a thread of its own and hands it one call at a time;
every call is a trip from the event loop to that thread and back (a queue put, a thread wake-up,
a wake-up of the loop through its self-pipe). A pass sends tens of thousands of statements, and
the trips cost more CPU than SQLite itself. Most statements need no trip: SQLAlchemy makes one
call at a time on a connection and awaits it, so between calls the thread is idle and the loop's
thread may use the sqlite3 connection itself (it is opened with ``check_same_thread=False``).

What may not run on the loop's thread is a call that can wait: for a lock (SQLite's busy handler
sleeps up to the busy timeout) or for the disk (``synchronous=FULL`` syncs the WAL on each commit
that wrote). Waiting there would freeze every task, and for a lock held by another connection
of the same process it would never end: that connection gives the lock back only when its task
runs on the loop again. The rules that keep every wait in the thread:

* **Nothing waits for a lock on the loop.** The sqlite3 connection's busy timeout is 0 except
  during a trip, when it is the ``timeout`` given to :func:`connect`. A call run in place that
  meets a lock fails at once with ``SQLITE_BUSY``; the statement is then sent to the thread, where
  it waits as before. SQLite takes a statement's locks before it changes anything, so a statement
  that failed with ``SQLITE_BUSY`` and left the connection as it found it (same transaction
  state, same ``total_changes``) had no effect, and running it again is what the busy handler would
  have done. This covers ``BEGIN IMMEDIATE`` queueing behind another writer (of this process or
  another), the first statement of a ``DEFERRED`` transaction, and a read that meets a
  recovery or a checkpoint of another process. (Inside a transaction that has read, SQLite
  calls no busy handler: a write there fails at once in the thread as well.)
* **Nothing syncs the disk on the loop.** A ``COMMIT`` of a transaction that may have written goes
  to the thread; so does every statement that may write outside a transaction begun with
  ``BEGIN`` (outside one, SQLite commits each statement, with its sync), and every statement that
  is not a plain read or write (``PRAGMA``, schema changes, ``COMMIT`` or ``ROLLBACK`` as SQL, and
  anything the rules below do not name): opening a connection, its ``PRAGMA`` statements and
  closing it take trips. A transaction "may have written" once it ran any statement other than
  a ``SELECT`` (told by the statement's first word, as SQLAlchemy writes it; ``select`` in lower
  case counts as a write, which only costs a trip). Committing a transaction that wrote nothing,
  and rolling any transaction back, write nothing in WAL mode (the store's databases are always
  in WAL mode, :mod:`ml_connector.store.db`): a rollback drops the transaction's pages, it does
  not copy any back.
* **A call never overtakes another.** A call runs in place only when the thread has finished
  every call sent to it (counted at both ends); otherwise it queues behind them. That happens
  when a task is cancelled while awaiting a trip: the thread still runs the call, and SQLAlchemy
  already rolls back.

So in place run: every ``SELECT``; ``BEGIN`` (of any kind) until it meets a lock; inside a
transaction begun with ``BEGIN``, ``INSERT``, ``UPDATE``, ``DELETE``, ``REPLACE``, ``WITH``,
``SAVEPOINT``, ``RELEASE`` and ``ROLLBACK TO`` (none of them ends that transaction, and once
``BEGIN IMMEDIATE`` succeeded none can meet a lock); the commit of a transaction that wrote
nothing; every rollback. A writing transaction makes one trip, its commit (two when its
``BEGIN IMMEDIATE`` has to queue). The statements the store sends are counted above the driver
(:func:`ml_connector.store.db.count_statements`), so where one runs changes no count; the
driver's own ``PRAGMA busy_timeout`` around a trip is not a statement of the store.

Each statement runs whole: a sqlite3 cursor is made, executes, has every row read and is closed,
and the cursor handed back keeps the rows, the description, ``rowcount`` and ``lastrowid``. All
rows of a result are read at once, as SQLAlchemy's aiosqlite adapter already does for every
statement that is not streamed (the store streams none). A statement that runs in place holds the
loop while SQLite works, as any other code on the loop does; the store's statements are small.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from functools import partial
from typing import Any, cast

import aiosqlite

__all__ = ["SqliteConnection", "SqliteCursor", "connect", "run_statement"]

_Outcome = tuple[Any, int, int | None, list[Any]]

# A statement's first word, as SQLAlchemy writes it, tells where it may run (module docstring).
_READ = "SELECT"
_BEGIN = "BEGIN"
_WRITES_IN_TRANSACTION = (
    "INSERT",
    "UPDATE",
    "DELETE",
    "REPLACE",
    "WITH",
    "SAVEPOINT",
    "RELEASE",
    "ROLLBACK TO",
)


def run_statement(conn: sqlite3.Connection, many: bool, sql: str, parameters: Any) -> _Outcome:
    """The whole statement, its rows read and its cursor closed."""
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


def _busy_without_effect(
    exc: sqlite3.Error, conn: sqlite3.Connection, before: tuple[bool, int]
) -> bool:
    busy = getattr(exc, "sqlite_errorcode", 0) & 0xFF == sqlite3.SQLITE_BUSY
    return busy and (conn.in_transaction, conn.total_changes) == before


class SqliteCursor:
    """A cursor with aiosqlite's async shape over a statement already run and read whole."""

    arraysize = 1

    def __init__(self, connection: SqliteConnection) -> None:
        self._connection = connection
        self.description: Any = None
        self.rowcount = -1
        self.lastrowid: int | None = None
        self._rows: list[Any] = []

    async def __aenter__(self) -> SqliteCursor:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()

    async def execute(self, sql: str, parameters: Any = None) -> SqliteCursor:
        self._take(await self._connection.run(False, sql, parameters))
        return self

    async def executemany(self, sql: str, parameters: Iterable[Any]) -> SqliteCursor:
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


class SqliteConnection(aiosqlite.Connection):
    """An aiosqlite connection that runs in place what cannot wait and sends the rest to its
    thread (module docstring). ``timeout`` is the busy timeout of calls in the thread, in seconds;
    ``connector`` opens the sqlite3 connection with a busy timeout of 0 and
    ``check_same_thread=False``."""

    def __init__(self, connector: Callable[[], sqlite3.Connection], *, timeout: float) -> None:
        super().__init__(connector, 64)
        self._timeout_ms = int(timeout * 1000)
        self._sent = 0  # calls handed to the thread (counted in the loop's thread)
        self._finished = 0  # calls the thread has finished (counted in that thread)
        # Of the open transaction, as far as the loop's thread knows (reset when none is open):
        self._begun = False  # it was opened by a BEGIN statement
        self._wrote = False  # it ran a statement that may write

    def cursor(self) -> SqliteCursor:  # type: ignore[override]
        return SqliteCursor(self)

    def _idle(self) -> bool:
        """The thread has finished every call sent to it; the transaction flags are brought up
        to date. Only then may the loop's thread use the sqlite3 connection."""
        if self._finished != self._sent or self._connection is None:
            return False
        if not self._connection.in_transaction:
            self._begun = self._wrote = False
        return True

    async def run(self, many: bool, sql: str, parameters: Any) -> _Outcome:
        """One statement (``executemany`` when ``many``): in place when it cannot wait, else in
        one trip to the thread."""
        idle = self._idle()
        head = sql.lstrip()
        read = head.startswith(_READ)
        begin = head.startswith(_BEGIN)
        if not (read or begin):
            self._wrote = True
        if idle and (read or begin or (self._begun and head.startswith(_WRITES_IN_TRANSACTION))):
            conn = self._conn
            before = (conn.in_transaction, conn.total_changes)
            try:
                outcome = run_statement(conn, many, sql, parameters)
            except sqlite3.OperationalError as exc:
                if not _busy_without_effect(exc, conn, before):
                    raise
            else:
                self._begun = self._begun or begin
                return outcome
        outcome = cast(
            _Outcome,
            await self.send(run_statement, self._conn, many, sql, parameters, patient=True),
        )
        self._begun = self._begun or begin
        return outcome

    async def commit(self) -> None:
        if self._idle() and not self._wrote:
            self._conn.commit()  # reads only: nothing to write, no lock to wait for
        else:
            await self.send(self._conn.commit, patient=True)
        self._begun = self._wrote = False

    async def rollback(self) -> None:
        if self._idle():
            self._conn.rollback()  # WAL: drops the transaction's pages, writes nothing
        else:
            await self.send(self._conn.rollback)
        self._begun = self._wrote = False

    async def send(self, fn: Callable[..., Any], *args: Any, patient: bool = False) -> Any:
        """``fn(*args)`` in the connection's thread: one trip, counted at both ends. A
        ``patient`` call waits for a lock up to the connection's timeout; others do not wait."""
        if not self._running or not self._connection:
            raise ValueError("Connection closed")
        future = asyncio.get_running_loop().create_future()
        self._sent += 1
        self._tx.put_nowait((future, partial(self._call, fn, args, patient)))
        return await future

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """aiosqlite's other calls (``close``, ``create_function``): trips. The store sends no
        statement this way; whatever they ran, the open transaction may have written."""
        self._wrote = True
        return await self.send(partial(fn, *args, **kwargs))

    def _call(self, fn: Callable[..., Any], args: Any, patient: bool) -> Any:
        """In the connection's thread."""
        try:
            if not patient:
                return fn(*args)
            conn = self._conn
            conn.execute(f"PRAGMA busy_timeout={self._timeout_ms}")
            try:
                return fn(*args)
            finally:
                conn.execute("PRAGMA busy_timeout=0")
        finally:
            self._finished += 1


def connect(database: str, *, timeout: float) -> SqliteConnection:
    """A connection to the SQLite file ``database``; await it to open. ``timeout`` (seconds) is
    how long a call in the connection's thread waits for a lock. The thread is a daemon, so an
    unclosed connection never holds up the interpreter's exit."""

    def connector() -> sqlite3.Connection:
        return sqlite3.connect(database, timeout=0, check_same_thread=False)

    connection = SqliteConnection(connector, timeout=timeout)
    connection._thread.daemon = True
    return connection
