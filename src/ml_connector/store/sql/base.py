"""What every SQL verb stands on: the engine, the ambient transaction, redaction, errors.

Every verb runs in its own short transaction unless it is called inside
``async with store.transaction():``, in which case it joins that transaction (in the same task).
That is how the engine commits a pass's snapshots together with the cursor, or a posting with its
audit event::

    async with store.transaction():
        staged = await store.stage_snapshot(cid, "purchase", doc_id, "PO-00412", ts, payload)
        await store.set_cursor(cid, "purchases", max_seen)

Nested ``transaction()`` blocks become savepoints. Database errors leave as
:class:`~ml_connector.errors.StoreError` (a unique natural key already held as
:class:`~ml_connector.errors.AlreadyPosted`), with the driver's message and never the statement's
parameters. Reads on SQLite use a deferred transaction so that they never wait for a writer's
lock; writes take it up front (``BEGIN IMMEDIATE``, see :mod:`ml_connector.store.db`).

The verbs themselves live in one module per kind of data (``connections``, ``snapshots``,
``records``, ``postings``, ``mappings``, ``trail``, ``runs``), each a class over
:class:`SqlBase`; :class:`~ml_connector.store.sql.store.SqlStore` composes them.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Self, cast

from sqlalchemy import Table, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, Engine, RootTransaction, RowMapping
from sqlalchemy.exc import DBAPIError, IntegrityError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.sql import Executable
from sqlalchemy.util import greenlet_spawn

from ml_connector.errors import AlreadyPosted, ConfigError, StoreError
from ml_connector.settings import safe_url
from ml_connector.store import tables as t
from ml_connector.store.db import BEGIN_MODE, BUSY_TIMEOUT_S, create_engine, upgrade
from ml_connector.store.redact import redact
from ml_connector.vault import Vault

__all__ = ["IN_CHUNK", "SqlBase", "fetch_all", "fetch_one", "translate", "utcnow"]

IN_CHUNK = 500
"""Most values in one ``IN (...)`` list."""


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class _Ambient:
    """The transaction opened by ``transaction()`` in some task.

    Tasks started inside the block inherit a copy of the context var; ``active`` lets such a task
    that outlives the block tell the stale transaction from a live one.
    """

    conn: AsyncConnection
    task: asyncio.Task[Any] | None
    active: bool = True


class SqlBase:
    """The engine, the vault and the clock the SQL verbs share, and how they get a connection.

    Open with :meth:`open` (applies migrations by default) and close with :meth:`close`, or use
    ``async with await SqlStore.open(url, vault) as store``. The vault is needed only for verbs
    that touch credentials; without one they raise :class:`~ml_connector.errors.ConfigError`.
    ``clock`` returns aware UTC datetimes and exists so tests can pin time.
    """

    def __init__(
        self,
        engine: AsyncEngine,
        vault: Vault | None = None,
        *,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._engine = engine
        self._dialect = engine.dialect.name
        self._read_engine = (
            engine.execution_options(**{BEGIN_MODE: "DEFERRED"})
            if self._dialect == "sqlite"
            else engine
        )
        self._single_read_engine = (
            engine.execution_options(**{BEGIN_MODE: "NONE"})
            if self._dialect == "sqlite"
            else engine
        )
        self._vault = vault
        self._clock = clock
        self._ambient: ContextVar[_Ambient | None] = ContextVar(
            f"ml_connector_store_{id(self)}", default=None
        )
        self._write_turn = asyncio.Lock()
        self._turn_loop: asyncio.AbstractEventLoop | None = None
        self._secret_cache: dict[int, tuple[str, ...]] = {}
        # A record never moves to another connection: which one it belongs to is kept once read.
        self._record_connections: dict[int, int] = {}

    @classmethod
    async def open(
        cls,
        url: str,
        vault: Vault | None = None,
        *,
        migrate: bool = True,
        echo: bool = False,
        clock: Callable[[], datetime] = utcnow,
        pool_size: int | None = None,
    ) -> Self:
        """Connect to ``url`` and, unless ``migrate=False``, bring the schema up to date.

        With a vault, audit trails written before they were keyed are sealed under the audit
        key (:mod:`ml_connector.store.audit`). ``pool_size``: see
        :func:`~ml_connector.store.db.create_engine`.
        """
        engine = create_engine(url, echo=echo, pool_size=pool_size)
        try:
            if migrate:
                await upgrade(engine)
            store = cls(engine, vault, clock=clock)
            if vault is not None:
                await store._after_open()
        except BaseException:
            await engine.dispose()
            raise
        return store

    async def _after_open(self) -> None:
        """What a store opened with a vault does first (the trail seals legacy chains)."""

    async def close(self) -> None:
        """Release every pooled connection."""
        await self._engine.dispose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()

    @property
    def engine(self) -> AsyncEngine:
        return self._engine

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self._dialect

    @property
    def vault(self) -> Vault | None:
        return self._vault

    def __repr__(self) -> str:
        return f"{type(self).__name__}({safe_url(self._engine.url)!r})"

    # --- transactions -------------------------------------------------------------------------

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Self]:
        """Group the verbs called inside the block into one transaction (yields the store).

        Commits when the block ends, rolls everything back when it raises. A nested block is a
        savepoint: it rolls back alone if it raises and the exception is caught outside it. The
        verbs must be awaited one at a time from the task that opened the block.
        """
        ambient = self._current()
        if ambient is not None:
            try:
                async with ambient.conn.begin_nested():
                    yield self
            except SQLAlchemyError as exc:
                raise translate(exc) from None
            return
        try:
            async with self._begun(self._engine, write=True) as conn:
                ambient = _Ambient(conn, asyncio.current_task())
                token = self._ambient.set(ambient)
                try:
                    yield self
                finally:
                    ambient.active = False
                    self._ambient.reset(token)
        except SQLAlchemyError as exc:
            raise translate(exc) from None

    @asynccontextmanager
    async def _session(
        self, *, write: bool = True, single: bool = False
    ) -> AsyncIterator[AsyncConnection]:
        """A connection in the ambient transaction, or in a short one of its own.

        ``single`` marks a read whose statements each stand alone (one query, or chunks of one
        query): on SQLite it sends no ``BEGIN``, and each statement reads a consistent state by
        itself. The verbs every record of a pass calls read this way.
        """
        ambient = self._current()
        if ambient is not None:
            try:
                yield ambient.conn
            except SQLAlchemyError as exc:
                raise translate(exc) from None
            return
        engine = (
            self._engine if write else self._single_read_engine if single else self._read_engine
        )
        try:
            async with self._begun(engine, write=write) as conn:
                yield conn
        except SQLAlchemyError as exc:
            raise translate(exc) from None

    @asynccontextmanager
    async def _begun(self, engine: AsyncEngine, *, write: bool) -> AsyncIterator[AsyncConnection]:
        """A pooled connection of ``engine`` in a transaction of its own: what
        ``async with engine.begin() as conn`` gives, in two hand-offs to a greenlet instead of
        four (one checks the connection out and begins, one commits, or rolls back when the
        block raised, and checks it back in) and without the async proxies' own layers.

        SQLAlchemy's own ``Connection`` and ``Transaction`` do the work, with their handling of
        errors: a commit that fails rolls back; a connection whose commit or rollback was
        interrupted (a task cancelled while the driver worked) is invalidated, and the pool
        closes it. On SQLite a writer first takes the store's turn (:meth:`_take_turn`).
        """
        turn = self._turn() if write and self._dialect == "sqlite" else None
        if turn is not None:
            await _take_turn(turn)
        try:
            sync, transaction = await greenlet_spawn(_open, engine.sync_engine)
            try:
                yield AsyncConnection(engine, sync)
            except BaseException as exc:
                await greenlet_spawn(_close, sync, transaction, exc)
                raise
            await greenlet_spawn(_close, sync, transaction, None)
        finally:
            if turn is not None:
                turn.release()

    def _turn(self) -> asyncio.Lock:
        """The lock the store's writing transactions on SQLite take in turn, before ``BEGIN
        IMMEDIATE``: one per event loop.

        SQLite lets one transaction write at a time. Without the turn, a second writer of this
        process meets the first one's lock at ``BEGIN IMMEDIATE``, goes to its connection's
        thread and waits there in SQLite's busy handler, which polls by sleeping (1 ms, then 2,
        5, 10, ... up to 100 ms): a trip and a wait that lasts past the lock's release. The turn
        queues it on the loop instead, and hands over the moment the first one commits. Writers
        of other processes (and other engines) are still waited for in the thread.
        """
        loop = asyncio.get_running_loop()
        if self._turn_loop is not loop:
            self._write_turn, self._turn_loop = asyncio.Lock(), loop
        return self._write_turn

    def _current(self) -> _Ambient | None:
        ambient = self._ambient.get()
        if ambient is None or not ambient.active:
            return None
        if ambient.task is not asyncio.current_task():
            raise StoreError(
                "a store transaction was used from another task; await the verbs of one "
                "transaction one by one in the task that opened it"
            )
        return ambient

    def _insert(self, table: Table) -> Any:
        return pg_insert(table) if self._dialect == "postgresql" else sqlite_insert(table)

    # --- secrets ------------------------------------------------------------------------------

    def _need_vault(self) -> Vault:
        if self._vault is None:
            raise ConfigError("this store was opened without a vault; credentials are unavailable")
        return self._vault

    async def _known_secrets(self, connection_id: int) -> tuple[str, ...]:
        """The connection's own credentials, to mask wherever they appear in text kept."""
        cached = self._secret_cache.get(connection_id)
        if cached is not None:
            return cached
        if self._vault is None:
            return ()
        enc = [t.connections.c[name] for name in t.ENCRYPTED_COLUMNS]
        async with self._session(write=False) as c:
            row = await fetch_one(c, select(*enc).where(t.connections.c.id == connection_id))
        if row is None:
            return ()
        try:
            found = tuple(self._vault.decrypt(row[name]) for name in t.ENCRYPTED_COLUMNS)
        except ConfigError:
            return ()
        self._secret_cache[connection_id] = found
        return found

    async def _scrub_text(self, connection_id: int, text: str | None) -> str | None:
        if text is None:
            return None
        return cast(str, redact(text, secrets=await self._known_secrets(connection_id)))


async def _take_turn(turn: asyncio.Lock) -> None:
    """Take the writers' turn, waiting up to the busy timeout as ``BEGIN IMMEDIATE`` would."""
    if not turn.locked():
        await turn.acquire()
        return
    try:
        async with asyncio.timeout(BUSY_TIMEOUT_S):
            await turn.acquire()
    except TimeoutError:
        raise StoreError("store error: database is locked") from None


def _open(engine: Engine) -> tuple[Connection, RootTransaction]:
    """In a greenlet: a connection checked out of ``engine``'s pool, its transaction begun (as
    entering ``with engine.connect() as conn, conn.begin():``)."""
    conn = engine.connect()
    try:
        transaction = conn.begin()
        transaction.__enter__()
    except BaseException:
        conn.close()
        raise
    return conn, transaction


def _close(conn: Connection, transaction: RootTransaction, failed: BaseException | None) -> None:
    """In a greenlet: what leaving that block does. The transaction commits, or rolls back when
    the block raised ``failed``; then the connection goes back to the pool."""
    try:
        if failed is None:
            transaction.__exit__(None, None, None)
        else:
            transaction.__exit__(type(failed), failed, failed.__traceback__)
    finally:
        conn.close()


async def fetch_one(
    c: AsyncConnection, stmt: Executable, params: dict[str, Any] | None = None
) -> RowMapping | None:
    """The first row of ``stmt``; ``params`` for a statement built once with bind parameters."""
    return (await c.execute(stmt, params)).mappings().first()


async def fetch_all(
    c: AsyncConnection, stmt: Executable, params: dict[str, Any] | None = None
) -> Sequence[RowMapping]:
    return (await c.execute(stmt, params)).mappings().all()


def _driver_message(exc: SQLAlchemyError) -> str:
    orig = getattr(exc, "orig", None)
    text = str(orig) if orig is not None else type(exc).__name__
    return " ".join(text.split())


def translate(exc: SQLAlchemyError) -> StoreError:
    """The StoreError for a database error: the driver's message, never the parameters."""
    message = _driver_message(exc)
    if isinstance(exc, IntegrityError):
        sqlstate = getattr(getattr(exc, "orig", None), "sqlstate", None)
        if sqlstate == "23505" or "UNIQUE constraint failed" in message:
            return AlreadyPosted(f"already held: {message}")
        return StoreError(f"store integrity error: {message}")
    if isinstance(exc, DBAPIError):
        return StoreError(f"store error: {message}")
    return StoreError(f"store error: {type(exc).__name__}")
