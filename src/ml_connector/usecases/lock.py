"""One pass per connection at a time, across processes and machines.

Two passes over one connection would race for the same natural keys: on PostgreSQL one of them
aborted with a unique violation and left records ``failed`` although QAD held them exactly once.
The sync and replay use cases therefore run inside :func:`connection_lock`, the only mutual
exclusion there is (job queues later only avoid queueing duplicates)::

    async with connection_lock(store, config, wait=30):
        ...  # the pass

The lock lives where every process that can write the connection's state can see it:

- **PostgreSQL**: a session-level advisory lock, ``pg_try_advisory_lock(key)`` with a stable
  64-bit key derived from the connection's id, held on a dedicated connection for the whole
  pass. The server drops it when that session ends, so a killed process never leaves it behind.
  The holder labels its session (``application_name``), which is how a second process learns
  its pid, host and since when.
- **SQLite**: an OS lock (``fcntl.flock``) on ``locks/connection-<id>.lock`` beside the
  database file in the data folder. The kernel drops it when the process dies; the file keeps
  the holder's pid, host and start time as JSON while it is held.
- **Any other store** (the in-memory double): a lock within this process.

``wait`` is how long to keep trying (seconds; 0: once). When the lock stays taken the block
raises :class:`~ml_connector.errors.ConnectionBusy` naming the holder, which the CLI turns into
exit 5 and a job worker into a deferred retry; nothing has been read or written by then.
"""

from __future__ import annotations

import asyncio
import fcntl
import hashlib
import json
import os
import socket
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from ml_connector.errors import ConnectionBusy
from ml_connector.store.models import ConnectionConfig
from ml_connector.store.protocols import Store
from ml_connector.store.sql import SqlStore

__all__ = ["LockHolder", "advisory_key", "connection_lock"]

POLL_SECONDS = 0.25
LOCK_FOLDER = "locks"
_LABEL_PREFIX = "ml-connector lock"
_APPLICATION_NAME_MAX = 63  # PostgreSQL truncates longer names


@dataclass(frozen=True)
class LockHolder:
    """Who holds a connection's lock, as far as the lock can tell."""

    pid: int | None
    host: str | None
    since: datetime | None

    @classmethod
    def me(cls) -> LockHolder:
        return cls(os.getpid(), socket.gethostname(), datetime.now(UTC))

    def describe(self) -> str:
        """``since 2026-12-01 09:15:02 UTC; pid 4242 on worker-2`` (parts it does not know are
        left out)."""
        since = f"since {self.since:%Y-%m-%d %H:%M:%S} UTC" if self.since else "since unknown"
        who = f"pid {self.pid}" if self.pid is not None else ""
        if self.host:
            who = f"{who} on {self.host}" if who else f"on {self.host}"
        return f"{since}; {who}" if who else since


class _Lock(Protocol):
    async def try_acquire(self) -> bool:
        """Take the lock if it is free; never waits."""

    async def holder(self) -> LockHolder | None:
        """Who holds it now (None: free, or the lock cannot say)."""

    async def release(self) -> None: ...


def advisory_key(connection_id: int) -> int:
    """The PostgreSQL advisory-lock key of a connection: 63 bits of a hash, stable across
    processes and versions (a plain id could collide with another program's keys)."""
    digest = hashlib.blake2b(f"ml-connector/connection/{connection_id}".encode(), digest_size=8)
    return int.from_bytes(digest.digest(), "big") & 0x7FFF_FFFF_FFFF_FFFF


@asynccontextmanager
async def connection_lock(
    store: Store, config: ConnectionConfig, *, wait: float = 0.0
) -> AsyncIterator[LockHolder]:
    """Hold ``config``'s pass lock for the block; ConnectionBusy if it stays taken for ``wait``
    seconds. Yields this process as the holder."""
    if config.id is None:
        raise ValueError("the connection must be stored before it can be locked")
    lock = _lock_for(store, config.id)
    deadline = time.monotonic() + max(0.0, wait)
    while not await lock.try_acquire():
        left = deadline - time.monotonic()
        if left <= 0:
            holder = await lock.holder()
            raise ConnectionBusy(config.name, holder.describe() if holder else None)
        await asyncio.sleep(min(POLL_SECONDS, left))
    try:
        yield LockHolder.me()
    finally:
        await lock.release()


def _lock_for(store: Store, connection_id: int) -> _Lock:
    if isinstance(store, SqlStore) and store.dialect == "postgresql":
        return _AdvisoryLock(store.engine, advisory_key(connection_id))
    if isinstance(store, SqlStore) and store.dialect == "sqlite":
        database = make_url(str(store.engine.url)).database
        if database:
            folder = Path(database).expanduser().absolute().parent / LOCK_FOLDER
            return _FileLock(folder / f"connection-{connection_id}.lock")
    return _ProcessLock(f"{id(store)}/{connection_id}")


# --- PostgreSQL -------------------------------------------------------------------------------


class _AdvisoryLock:
    """A session-level advisory lock on a connection of its own, outside any transaction."""

    def __init__(self, engine: AsyncEngine, key: int) -> None:
        self._engine = engine
        self._key = key
        self._conn: AsyncConnection | None = None

    async def _connect(self) -> AsyncConnection:
        conn = await self._engine.connect()
        return await conn.execution_options(isolation_level="AUTOCOMMIT")

    async def try_acquire(self) -> bool:
        conn = await self._connect()
        try:
            got = await conn.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": self._key})
            if got:
                me = LockHolder.me()
                label = f"{_LABEL_PREFIX} pid={me.pid} host={me.host}"
                # Set after the lock is taken, so the session's query_start says since when.
                await conn.execute(
                    text("SELECT set_config('application_name', :label, false)"),
                    {"label": label[:_APPLICATION_NAME_MAX]},
                )
        except BaseException:
            await conn.close()
            raise
        if not got:
            await conn.close()
            return False
        self._conn = conn
        return True

    async def holder(self) -> LockHolder | None:
        conn = await self._connect()
        try:
            row = (
                await conn.execute(
                    text(
                        "SELECT a.pid, a.application_name, a.query_start, a.client_hostname "
                        "FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
                        "WHERE l.locktype = 'advisory' AND l.granted "
                        "AND l.database = (SELECT oid FROM pg_database "
                        "WHERE datname = current_database()) "
                        "AND l.classid = :high AND l.objid = :low AND l.objsubid = 1"
                    ),
                    {"high": self._key >> 32, "low": self._key & 0xFFFF_FFFF},
                )
            ).first()
        finally:
            await conn.close()
        if row is None:
            return None
        fields = _label_fields(row.application_name or "")
        pid = fields.get("pid")
        return LockHolder(
            int(pid) if pid and pid.isdigit() else None,
            fields.get("host") or row.client_hostname,
            row.query_start,
        )

    async def release(self) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            await conn.execute(
                text("SELECT pg_advisory_unlock(:key), set_config('application_name', '', false)"),
                {"key": self._key},
            )
        finally:
            await conn.close()


def _label_fields(label: str) -> dict[str, str]:
    if not label.startswith(_LABEL_PREFIX):
        return {}
    pairs = (part.partition("=") for part in label[len(_LABEL_PREFIX) :].split())
    return {name: value for name, sep, value in pairs if sep}


# --- SQLite -----------------------------------------------------------------------------------


class _FileLock:
    """``flock`` on a file that records its holder while held."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._fd: int | None = None

    async def try_acquire(self) -> bool:
        self._path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        me = LockHolder.me()
        since = me.since.isoformat() if me.since else None
        record = {"pid": me.pid, "host": me.host, "since": since}
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(record).encode(), 0)
        self._fd = fd
        return True

    async def holder(self) -> LockHolder | None:
        try:
            record: Any = json.loads(self._path.read_text(encoding="utf-8") or "null")
        except (OSError, ValueError):
            return None
        if not isinstance(record, dict):
            return None
        since = record.get("since")
        try:
            at = datetime.fromisoformat(since) if isinstance(since, str) else None
        except ValueError:
            at = None
        pid = record.get("pid")
        host = record.get("host")
        return LockHolder(
            pid if isinstance(pid, int) else None, host if isinstance(host, str) else None, at
        )

    async def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is None:
            return
        try:
            os.ftruncate(fd, 0)  # still ours: nobody reads a stale holder afterwards
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)


# --- anything else ----------------------------------------------------------------------------

_held_here: dict[str, LockHolder] = {}


class _ProcessLock:
    """Within one process only: for stores that no other process can open."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._mine = False

    async def try_acquire(self) -> bool:
        if self._name in _held_here:
            return False
        _held_here[self._name] = LockHolder.me()
        self._mine = True
        return True

    async def holder(self) -> LockHolder | None:
        return _held_here.get(self._name)

    async def release(self) -> None:
        if self._mine:
            self._mine = False
            _held_here.pop(self._name, None)
