"""Engines and migrations for the store.

SQLite is opened through :mod:`ml_connector.store.sqlite_driver` (aiosqlite; most statements run
on the event loop's thread, and the calls that may wait for a lock or the disk go to the
connection's thread, where they wait up to a generous busy timeout) in WAL mode with foreign keys
on; every writing transaction starts with ``BEGIN IMMEDIATE``, so two transactions never deadlock
upgrading a read lock to a write lock (they queue on the busy timeout instead), and readers keep
working beside a writer. PostgreSQL uses psycopg 3 in async mode.

Migrations are applied programmatically with :func:`upgrade`, on start and by
``ml-connector db upgrade``; the Alembic configuration ships inside the package.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import event, inspect, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.util import await_

from ml_connector.errors import StoreError
from ml_connector.json_codec import dumps_text, loads
from ml_connector.settings import ensure_home, normalise_database_url, safe_url
from ml_connector.store import sqlite_driver

if TYPE_CHECKING:
    from alembic.config import Config

__all__ = [
    "BEGIN_MODE",
    "BUSY_TIMEOUT_S",
    "HEAD_REVISION",
    "StatementCount",
    "alembic_config",
    "count_statements",
    "create_engine",
    "current_revision",
    "head_revision",
    "upgrade",
]

#: Execution option naming the SQLite ``BEGIN`` flavour for a connection (``IMMEDIATE`` default;
#: ``NONE`` sends no ``BEGIN``, for reads of one statement).
BEGIN_MODE = "mlc_sqlite_begin"

_BUSY_TIMEOUT_MS = 30_000
#: How long a statement waits for another writer's lock, in seconds.
BUSY_TIMEOUT_S = _BUSY_TIMEOUT_MS / 1000
# Arbitrary constant: the PostgreSQL advisory lock that serialises concurrent migrators.
_MIGRATION_LOCK = 7_311_204_518


def create_engine(url: str, *, echo: bool = False, pool_size: int | None = None) -> AsyncEngine:
    """An async engine for ``url`` with ml-connector's connection settings.

    For a SQLite file URL the parent folder is created (mode 0700) when missing, and the
    database file itself is created readable by its owner only (0600): it holds the
    encrypted credentials and the audit trail.

    On PostgreSQL ``pool_size`` is how many connections the engine keeps (SQLAlchemy's 5 when
    None), with up to 10 more opened when they are all in use; a job worker sizes it from how
    many jobs it runs at once.

    JSON columns are written with `json_codec.dumps_text` (compact text, or `json.dumps`' where
    orjson would write another value) and read with `json_codec.loads`: the values `json.loads`
    gives, for less CPU.
    """
    url = normalise_database_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        # A file, always: normalise_database_url refuses an in-memory database.
        path = Path(str(parsed.database)).expanduser().absolute()
        ensure_home(path.parent)
        if not path.exists():
            path.touch(mode=0o600)
        _enable_wal(path)
        engine = create_async_engine(
            url,
            echo=echo,
            json_serializer=dumps_text,
            json_deserializer=loads,
            async_creator=partial(
                sqlite_driver.connect, str(path), timeout=_BUSY_TIMEOUT_MS / 1000
            ),
            # The connection that went back last serves next: a SQLite connection's page cache
            # is dropped whenever another connection writes, and a FIFO pool cycling through
            # all of them re-read the file for nearly every transaction.
            pool_use_lifo=True,
        )
        _configure_sqlite(engine)
        return engine
    sizing = {} if pool_size is None else {"pool_size": pool_size}
    return create_async_engine(
        url,
        echo=echo,
        json_serializer=dumps_text,
        json_deserializer=loads,
        pool_pre_ping=True,
        **sizing,
    )


def _enable_wal(path: Path) -> None:
    """Put the database file in WAL mode before any pooled connection opens it.

    The switch to WAL needs the file to itself and is persistent, and SQLite may refuse it with
    "database is locked" at once rather than wait on the busy timeout. Done here, once per engine
    and retried briefly, a fresh file opened by several migrators at the same moment cannot fail
    a pass; the connect hook's own ``PRAGMA journal_mode=WAL`` then finds WAL already set.
    """
    for attempt in range(50):
        connection = sqlite3.connect(str(path), timeout=_BUSY_TIMEOUT_MS / 1000)
        try:
            connection.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or attempt == 49:
                raise StoreError(f"cannot open the SQLite database {path}: {exc}") from None
        finally:
            connection.close()
        time.sleep(0.1)


def _configure_sqlite(engine: AsyncEngine) -> None:
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions begin (needed for
        # BEGIN IMMEDIATE and for SAVEPOINT to work).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=FULL")
        finally:
            cursor.close()

    @event.listens_for(sync_engine, "begin")
    def _on_begin(conn: Connection) -> None:
        mode = conn.get_execution_options().get(BEGIN_MODE, "IMMEDIATE")
        if mode == "NONE":
            return  # a single-statement read: SQLite runs it in a transaction of its own
        sql = f"BEGIN {'DEFERRED' if mode == 'DEFERRED' else 'IMMEDIATE'}"
        # Straight to the driver (SQLAlchemy's execution costs more than SQLite's BEGIN), yet
        # counted and failing as a statement sent through SQLAlchemy would.
        for listener in conn.dispatch.before_cursor_execute:
            listener(conn, None, sql, (), None, False)
        try:
            driver: Any = conn.connection.driver_connection
            await_(driver.run(False, sql, None))
        except sqlite3.Error as exc:
            raise DBAPIError.instance(
                sql, None, exc, sqlite3.Error, hide_parameters=True, dialect=conn.dialect
            ) from None


@dataclass
class StatementCount:
    """SQL statements sent to the database while :func:`count_statements` was open."""

    statements: int = 0


@contextmanager
def count_statements(engine: AsyncEngine) -> Iterator[StatementCount]:
    """Count every statement ``engine`` sends to its database inside the block.

    Every ``cursor.execute`` counts once: queries, writes, and the ``BEGIN`` of each SQLite
    transaction (commits and rollbacks are driver calls, not statements). Benches report the
    figure per purchase and a test bounds it::

        with count_statements(store.engine) as counted:
            await engine.sync()
        counted.statements
    """
    counted = StatementCount()

    def _count(*_args: Any) -> None:
        counted.statements += 1

    sync_engine = engine.sync_engine
    event.listen(sync_engine, "before_cursor_execute", _count)
    try:
        yield counted
    finally:
        event.remove(sync_engine, "before_cursor_execute", _count)


HEAD_REVISION = "0006_qad_slot_waiters"
"""The newest migration shipped with this version (a test checks it is Alembic's head). A
database already there is opened without loading Alembic, which is a tenth of a second of CPU
at every start of a process (the CLI, a worker, a sync)."""


def alembic_config(url: str | None = None) -> Config:
    """The packaged Alembic configuration, optionally pointed at ``url``."""
    from alembic.config import Config

    here = files("ml_connector.store")
    cfg = Config(str(here.joinpath("alembic.ini")))
    cfg.set_main_option("script_location", str(here.joinpath("migrations")))
    if url is not None:
        # ConfigParser treats % as interpolation; URL-encoded passwords contain it.
        cfg.set_main_option("sqlalchemy.url", normalise_database_url(url).replace("%", "%%"))
    return cfg


def head_revision() -> str:
    """The newest migration shipped with this version of ml-connector, as Alembic reads it."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:  # pragma: no cover - the package always ships migrations
        raise StoreError("no migrations found in the package")
    return head


async def upgrade(url: str | AsyncEngine, revision: str = "head") -> None:
    """Apply migrations up to ``revision`` (default: the newest) to the database at ``url``.

    Safe to call on every start and from several processes at once: on PostgreSQL the
    migrators take an advisory lock; on SQLite the write lock serialises them. A database
    already at :data:`HEAD_REVISION` is left as it is without loading Alembic.
    """
    engine = url if isinstance(url, AsyncEngine) else create_engine(url)
    try:
        async with engine.begin() as conn:
            if revision == "head" and await conn.run_sync(_at_head):
                return
            await conn.run_sync(_upgrade_sync, revision)
    except SQLAlchemyError as exc:
        cause = " ".join(str(getattr(exc, "orig", None) or type(exc).__name__).split())
        raise StoreError(f"migrating {safe_url(engine.url)} failed: {cause}") from None
    finally:
        if engine is not url:
            await engine.dispose()


def _at_head(connection: Connection) -> bool:
    """Whether the database records :data:`HEAD_REVISION` as its only revision."""
    if not inspect(connection).has_table("alembic_version"):
        return False
    found = connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    return found == [HEAD_REVISION]


def _upgrade_sync(connection: Connection, revision: str) -> None:
    from alembic import command

    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
    cfg = alembic_config()
    cfg.attributes["connection"] = connection
    command.upgrade(cfg, revision)


async def current_revision(url: str | AsyncEngine) -> str | None:
    """The revision the database at ``url`` is at, or None when it was never migrated."""
    from alembic.runtime.migration import MigrationContext

    engine = url if isinstance(url, AsyncEngine) else create_engine(url)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(
                lambda sync: MigrationContext.configure(sync).get_current_revision()
            )
    finally:
        if engine is not url:
            await engine.dispose()
