"""The store on SQLAlchemy Core (async), for SQLite and PostgreSQL: :class:`SqlStore`."""

from ml_connector.store.sql.store import SqlStore

__all__ = ["SqlStore"]
