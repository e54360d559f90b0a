"""The use cases: what ml-connector can be asked to do, with typed results.

Every entry point calls these and nothing else: the CLI (`ml_connector.cli`) renders their
results as tables or JSON, the embedded scheduler (`runner.py`) and the demo drive them, and a
web console or job workers call the same functions. A use case never prints; it returns frozen
values and raises the classes of :mod:`ml_connector.errors`, which each caller maps to its own
answer (an exit code, an HTTP status, a retried job).

Most use cases take an open :class:`~ml_connector.store.protocols.Store` (see :func:`open_store`)
and a connection name::

    async with open_store(load_settings()) as store:
        result = await sync_connection(store, "acme")
        print(result.report.counters.purchase_orders)

Modules: ``opening`` (the store, a connection), ``remotes`` (clients and the one place the sync
engine is built), ``passes`` (sync, dry run, replay), ``reports`` (records, holds, reconcile,
audit), ``connections``, ``mappings``, ``admin`` (database, master key), ``scheduling`` (the
scheduler's turn, the next run, pause and resume); ``users`` and ``access`` (the console's
users and sign-in) are imported by module.
"""

from ml_connector.usecases.admin import DatabaseState, KeyRotation, rotate_keys, upgrade_database
from ml_connector.usecases.connections import (
    ConnectionEdit,
    ConnectionTest,
    add_connection,
    build_connection,
    check_targets,
    edit_connection,
    list_connections,
    ping_connection,
    remove_connection,
    show_connection,
)
from ml_connector.usecases.golive import (
    CursorMove,
    GoLiveEntry,
    GoLiveWorklist,
    golive_post,
    golive_worklist,
    resync_from,
)
from ml_connector.usecases.mappings import (
    MappingChange,
    MappingExport,
    MappingList,
    Suggestions,
    export_mappings,
    import_mappings,
    list_mappings,
    remove_mapping,
    set_mapping,
    suggest,
)
from ml_connector.usecases.opening import load_connection, open_store, os_user
from ml_connector.usecases.passes import (
    PassResult,
    RecordOutcome,
    replay_records,
    sync_connection,
)
from ml_connector.usecases.remotes import Remotes, open_engine
from ml_connector.usecases.reports import (
    AccountReconciliation,
    AuditTrail,
    ChainCheck,
    HeadReport,
    Holds,
    InvoiceReconciliation,
    Reconciliation,
    RecordList,
    audit_head,
    audit_trail,
    find_record,
    held_invoices,
    list_records,
    reconcile,
    reconcile_accounts,
    reconcile_invoices,
    verify_audit,
)
from ml_connector.usecases.scheduling import (
    PauseChange,
    Turn,
    TurnAction,
    next_run_of,
    scheduler_turn,
    set_paused,
)

__all__ = [
    "AccountReconciliation",
    "AuditTrail",
    "ChainCheck",
    "ConnectionEdit",
    "ConnectionTest",
    "CursorMove",
    "DatabaseState",
    "GoLiveEntry",
    "GoLiveWorklist",
    "HeadReport",
    "Holds",
    "InvoiceReconciliation",
    "KeyRotation",
    "MappingChange",
    "MappingExport",
    "MappingList",
    "PassResult",
    "PauseChange",
    "Reconciliation",
    "RecordList",
    "RecordOutcome",
    "Remotes",
    "Suggestions",
    "Turn",
    "TurnAction",
    "add_connection",
    "audit_head",
    "audit_trail",
    "build_connection",
    "check_targets",
    "edit_connection",
    "export_mappings",
    "find_record",
    "golive_post",
    "golive_worklist",
    "held_invoices",
    "import_mappings",
    "list_connections",
    "list_mappings",
    "list_records",
    "load_connection",
    "next_run_of",
    "open_engine",
    "open_store",
    "os_user",
    "ping_connection",
    "reconcile",
    "reconcile_accounts",
    "reconcile_invoices",
    "remove_connection",
    "remove_mapping",
    "replay_records",
    "resync_from",
    "rotate_keys",
    "scheduler_turn",
    "set_mapping",
    "set_paused",
    "show_connection",
    "suggest",
    "sync_connection",
    "upgrade_database",
    "verify_audit",
]
