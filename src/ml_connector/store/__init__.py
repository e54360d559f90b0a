"""ml-connector's persistent state: the store's verbs as protocols, their SQL implementation,
the schema and its migrations.

    from ml_connector.settings import load_settings
    from ml_connector.store import SqlStore
    from ml_connector.vault import Vault

    settings = load_settings()
    store = await SqlStore.open(settings.database_url, Vault.from_settings(settings))

Code that uses a store is typed against a role of :mod:`ml_connector.store.protocols`
(``SyncStateStore``, ``ConfigStore``, ``ReportStore`` or all of them, ``Store``), so
:class:`ml_connector.testing.MemoryStore` serves it as well. One schema serves SQLite (the
embedded default) and PostgreSQL (``postgresql+psycopg://``).
Names are loaded on first use (:mod:`ml_connector.lazy`): the value types in
:mod:`ml_connector.store.models` come without SQLAlchemy and Alembic.
"""

from typing import TYPE_CHECKING

from ml_connector.lazy import lazy_exports

if TYPE_CHECKING:
    from ml_connector.store.audit import GENESIS, event_hash, record_key
    from ml_connector.store.db import create_engine, current_revision, head_revision, upgrade
    from ml_connector.store.models import (
        DEFAULT_CIN7_BASE_URL,
        AuditEvent,
        BrokenLink,
        ConnectionConfig,
        Cursor,
        Mapping,
        MappingRow,
        Posting,
        ReconcileLine,
        Record,
        Run,
        Snapshot,
        Staged,
    )
    from ml_connector.store.protocols import ConfigStore, ReportStore, Store, SyncStateStore
    from ml_connector.store.redact import MASK, canonical_json, redact
    from ml_connector.store.rules import parse_cin7_timestamp, snapshot_hash
    from ml_connector.store.sql import SqlStore

__all__ = [
    "DEFAULT_CIN7_BASE_URL",
    "GENESIS",
    "MASK",
    "AuditEvent",
    "BrokenLink",
    "ConfigStore",
    "ConnectionConfig",
    "Cursor",
    "Mapping",
    "MappingRow",
    "Posting",
    "ReconcileLine",
    "Record",
    "ReportStore",
    "Run",
    "Snapshot",
    "SqlStore",
    "Staged",
    "Store",
    "SyncStateStore",
    "canonical_json",
    "create_engine",
    "current_revision",
    "event_hash",
    "head_revision",
    "parse_cin7_timestamp",
    "record_key",
    "redact",
    "snapshot_hash",
    "upgrade",
]

__getattr__ = lazy_exports(
    __name__,
    {
        "audit": ("GENESIS", "event_hash", "record_key"),
        "db": ("create_engine", "current_revision", "head_revision", "upgrade"),
        "models": (
            "DEFAULT_CIN7_BASE_URL",
            "AuditEvent",
            "BrokenLink",
            "ConnectionConfig",
            "Cursor",
            "Mapping",
            "MappingRow",
            "Posting",
            "ReconcileLine",
            "Record",
            "Run",
            "Snapshot",
            "Staged",
        ),
        "protocols": ("ConfigStore", "ReportStore", "Store", "SyncStateStore"),
        "redact": ("MASK", "canonical_json", "redact"),
        "rules": ("parse_cin7_timestamp", "snapshot_hash"),
        "sql": ("SqlStore",),
    },
)
