"""`SqlStore`: every verb of :class:`~ml_connector.store.protocols.Store` on SQLAlchemy Core.

One class per kind of data holds its verbs (``connections``, ``snapshots``, ``records``,
``postings``, ``mappings``, ``trail``, ``runs``, ``alerts``); they share
:class:`~.base.SqlBase` (the engine, the ambient transaction, redaction), and this class only
puts them together::

    store = await SqlStore.open("sqlite+aiosqlite:///state.db", vault)
    async with store.transaction():
        await store.set_cursor(cid, "purchases", "2026-08-28T12:59:44.05")
"""

from __future__ import annotations

from ml_connector.store.sql.alerts import SqlAlerts
from ml_connector.store.sql.connections import SqlConnections
from ml_connector.store.sql.mappings import SqlMappings
from ml_connector.store.sql.postings import SqlPostings
from ml_connector.store.sql.records import SqlRecords
from ml_connector.store.sql.runs import SqlRuns
from ml_connector.store.sql.snapshots import SqlCursors, SqlSnapshots
from ml_connector.store.sql.trail import SqlTrail

__all__ = ["SqlStore"]


class SqlStore(
    SqlConnections,
    SqlCursors,
    SqlSnapshots,
    SqlRecords,
    SqlPostings,
    SqlMappings,
    SqlTrail,
    SqlRuns,
    SqlAlerts,
):
    """The store on SQLite or PostgreSQL; see :mod:`ml_connector.store.sql.base` for how
    verbs share transactions and how database errors are reported."""
