"""What the store does, as `Protocol`s: domain verbs grouped by the data they touch and by who
calls them.

The verbs are declared once, in small protocols named for the data they hold (`Cursors`,
`Snapshots`, `Postings`, `TrailWrites`...). Callers are typed against the role that combines
what they use, never against an implementation:

- :class:`SyncStateStore`, the sync engine's: cursors, snapshots, records, intents and postings,
  runs, the mapping table read at the start of a pass, the trail it appends to, connection health;
- :class:`ConfigStore`, for connection and mapping changes and key rotation;
- :class:`ReportStore`, for the read-only views: records, counts, reconcile, the trail and its
  verification, runs;
- :class:`Alerts`, for the alert rules evaluated after each pass;
- :class:`Store`, all of them, for the use cases that need several roles.

Two implementations keep the same contract (``tests/support/store_contract.py`` runs on both):
:class:`ml_connector.store.sql.SqlStore` over SQLAlchemy on SQLite or PostgreSQL, and
:class:`ml_connector.store.memory.MemoryStore` over dicts, for tests and demos.

Every verb is atomic on its own. ``async with store.transaction():`` groups the verbs awaited
inside it (from the task that opened it) into one unit that commits at the end of the block and
rolls back if the block raises; a nested block is a savepoint. Values are checked against
:mod:`ml_connector.vocab` and bad ones raise :class:`~ml_connector.errors.StoreError`; a natural
key QAD already holds raises :class:`~ml_connector.errors.AlreadyPosted`. Free text the store
keeps (reasons, run errors, trail data, health messages) is redacted first: secret-looking keys
and the connection's own credentials never reach the database.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Any, Protocol

from ml_connector.store.audit import ChainHead
from ml_connector.store.models import (
    AlertRule,
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
    TrailEntry,
)
from ml_connector.vocab import (
    AuditEventKind,
    MappingKind,
    MappingSource,
    PostingState,
    RecordKind,
    RecordStatus,
    RunKind,
    RunStatus,
    Stream,
)

__all__ = [
    "Alerts",
    "ConfigStore",
    "ConnectionIds",
    "Connections",
    "Cursors",
    "Health",
    "MappingReads",
    "MappingWrites",
    "Postings",
    "RecordReads",
    "RecordWrites",
    "ReportStore",
    "RunReads",
    "RunWrites",
    "Snapshots",
    "Store",
    "SyncStateStore",
    "TrailReads",
    "TrailWrites",
    "Transactions",
]

PAGE = 1000
"""Default page size of :meth:`TrailReads.events`."""


class Transactions(Protocol):
    def transaction(self) -> AbstractAsyncContextManager[object]:
        """Group the verbs awaited inside the block into one unit of work.

        Commits when the block ends and rolls everything back when it raises; a nested block is
        a savepoint that rolls back alone. Await the verbs one at a time from the task that
        opened the block; using it from another task raises StoreError.
        """
        ...


# --- connections ------------------------------------------------------------------------------


class ConnectionIds(Protocol):
    async def connection_id(self, name: str) -> int:
        """The id of the connection named ``name`` without reading secrets; ConfigError if none."""
        ...


class Connections(ConnectionIds, Protocol):
    """Connections with their credentials, which the store keeps encrypted."""

    async def add_connection(self, config: ConnectionConfig) -> ConnectionConfig:
        """Store a new connection (with an empty audit chain); the name must be new."""
        ...

    async def update_connection(self, config: ConnectionConfig) -> ConnectionConfig:
        """Replace the settings and secrets of the connection named ``config.name``."""
        ...

    async def get_connection(self, name: str) -> ConnectionConfig:
        """The connection named ``name``, secrets readable; ConfigError if there is none."""
        ...

    async def find_connection(self, name: str) -> ConnectionConfig | None: ...

    async def get_connection_by_id(self, connection_id: int) -> ConnectionConfig: ...

    async def list_connections(self) -> list[ConnectionConfig]:
        """All connections by name."""
        ...

    async def remove_connection(self, name: str) -> bool:
        """Delete a connection and everything recorded for it, audit trail included."""
        ...

    async def reencrypt_secrets(self, transform: Callable[[str], str]) -> int:
        """Apply ``transform`` to every stored secret token at once (all or nothing); the count."""
        ...


class Health(Protocol):
    async def set_health(
        self, connection_id: int, healthy: bool, message: str | None = None
    ) -> None:
        """Mark a connection healthy or not, with a reason a person can act on (redacted)."""
        ...


# --- what was read from Cin7 ------------------------------------------------------------------


class Cursors(Protocol):
    """Where each stream's incremental listing resumes."""

    async def get_cursor(self, connection_id: int, stream: Stream) -> Cursor | None: ...

    async def set_cursor(
        self, connection_id: int, stream: Stream, value: str, value_at: datetime | None = None
    ) -> Cursor:
        """Set the cursor to Cin7's raw timestamp ``value`` (parsed when ``value_at`` is None)."""
        ...

    async def reset_cursor(self, connection_id: int, stream: Stream | None = None) -> int:
        """Forget one stream's cursor, or all; how many were dropped."""
        ...


class Snapshots(Protocol):
    """Versions of Cin7's raw detail JSON, one per content change."""

    async def stage_snapshot(
        self,
        connection_id: int,
        kind: RecordKind,
        cin7_id: str,
        reference: str,
        last_updated: str,
        payload: dict[str, Any],
        *,
        volatile: Sequence[str] = ("LastUpdatedDate",),
    ) -> Staged:
        """Keep ``payload`` as a new version when its content (without ``volatile`` keys) changed.

        Unchanged content keeps its version and has its ``last_updated`` and payload refreshed,
        so :meth:`seen` recognises the new timestamp.
        """
        ...

    async def latest_snapshot(
        self, connection_id: int, kind: RecordKind, cin7_id: str
    ) -> Snapshot | None: ...

    async def get_snapshot(
        self, connection_id: int, kind: RecordKind, cin7_id: str, version: int
    ) -> Snapshot | None: ...

    async def snapshot_versions(
        self, connection_id: int, kind: RecordKind, cin7_id: str
    ) -> list[Snapshot]:
        """Every version of a document, oldest first."""
        ...

    async def seen(
        self, connection_id: int, kind: RecordKind, cin7_id: str, last_updated: str
    ) -> bool:
        """True when a snapshot of this document with this ``LastUpdatedDate`` is held."""
        ...

    async def seen_many(
        self, connection_id: int, kind: RecordKind, items: Iterable[tuple[str, str]]
    ) -> set[str]:
        """The ids among ``(cin7_id, last_updated)`` pairs already held with that timestamp."""
        ...


# --- records ----------------------------------------------------------------------------------


class RecordWrites(Protocol):
    async def upsert_record(
        self,
        connection_id: int,
        kind: RecordKind,
        cin7_id: str,
        *,
        reference: str,
        supplier_id: str | None = None,
        latest_version: int | None = None,
        month: str | None = None,
        amounts: dict[str, dict[str, str]] | None = None,
        status: RecordStatus | None = None,
        reason: str | None = None,
        actor: str = "store",
        trail: Sequence[TrailEntry] = (),
    ) -> Record:
        """Create or update the record of one Cin7 document.

        A new record starts ``pending`` unless ``status`` is given. On update, arguments left as
        None keep their stored value, except that a given ``status`` also replaces ``reason``;
        ``status_since`` moves only when the status changes. A new record or a changed status
        appends a ``status`` event by ``actor`` (from, to, reason), then the ``trail`` entries,
        in the same transaction: one append for a record's status and its events.
        """
        ...

    async def set_record_status(
        self,
        record_id: int,
        status: RecordStatus,
        reason: str | None = None,
        *,
        posted_version: int | None = None,
        amounts: dict[str, dict[str, str]] | None = None,
        actor: str = "store",
        trail: Sequence[TrailEntry] = (),
    ) -> Record:
        """Set a record's status and reason (None clears it); StoreError for an unknown id.

        A changed status appends a ``status`` event by ``actor``, then ``trail``, in the same
        transaction (see :meth:`upsert_record`).
        """
        ...


class RecordReads(Protocol):
    async def get_record(
        self, connection_id: int, kind: RecordKind, cin7_id: str
    ) -> Record | None: ...

    async def get_record_by_id(self, record_id: int) -> Record | None: ...

    async def find_records(self, connection_id: int, reference: str) -> list[Record]:
        """Records whose reference (OrderNumber or supplier name) is exactly ``reference``."""
        ...

    async def list_records(
        self,
        connection_id: int,
        *,
        status: str | Sequence[str] | None = None,
        kind: str | None = None,
        month: str | None = None,
        supplier_id: str | None = None,
        reference: str | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[Record]:
        """Records matching every given filter, oldest status change first (then by id)."""
        ...

    async def count_records(self, connection_id: int) -> dict[str, int]:
        """How many records are in each status, every status present."""
        ...

    async def reconcile(self, connection_id: int, month: str | None = None) -> list[ReconcileLine]:
        """Per supplier and currency, the purchase records' amounts summed (one month or all)."""
        ...


# --- QAD documents ----------------------------------------------------------------------------


class Postings(Protocol):
    """What QAD holds (``posted``) or may hold (``intent``), by natural key."""

    async def record_intent(
        self,
        connection_id: int,
        natural_key: str,
        kind: str,
        record_id: int | None,
        details: dict[str, Any] | None = None,
    ) -> Posting:
        """Note that a QAD create for ``natural_key`` is about to be sent.

        An existing intent is returned unchanged; AlreadyPosted when the key is posted.
        """
        ...

    async def record_posted(
        self,
        connection_id: int,
        natural_key: str,
        qad_id: str | None,
        details: dict[str, Any] | None = None,
        *,
        kind: str | None = None,
        record_id: int | None = None,
    ) -> Posting:
        """Record that QAD holds ``natural_key`` as ``qad_id``.

        ``kind`` is required when no intent was recorded first; ``details`` and ``record_id``
        replace the stored ones when given.
        """
        ...

    async def abandon_intent(self, connection_id: int, natural_key: str) -> bool:
        """Drop an intent (QAD holds nothing for it); a posted row stays. Whether one went."""
        ...

    async def get_posting(self, connection_id: int, natural_key: str) -> Posting | None: ...

    async def get_postings(
        self, connection_id: int, natural_keys: Iterable[str]
    ) -> dict[str, Posting]:
        """The postings held under any of ``natural_keys``, by key."""
        ...

    async def posted_state(self, connection_id: int, record: Record | int) -> dict[str, Posting]:
        """Every posting of one record, intents included, by natural key in creation order."""
        ...

    async def open_intents(self, connection_id: int) -> list[Posting]:
        """Intents with no outcome (left by a crash), oldest first."""
        ...

    async def list_postings(
        self,
        connection_id: int,
        *,
        kind: str | None = None,
        state: PostingState | None = None,
    ) -> list[Posting]: ...


# --- runs -------------------------------------------------------------------------------------


class RunWrites(Protocol):
    async def start_run(self, connection_id: int, kind: RunKind, actor: str = "sync") -> Run: ...

    async def finish_run(
        self,
        run_id: int,
        status: RunStatus,
        counters: dict[str, int] | None = None,
        error: str | None = None,
    ) -> Run:
        """Close a run with its outcome, counters and (redacted) error; StoreError if unknown."""
        ...

    async def interrupt_runs(self, connection_id: int) -> int:
        """Mark runs still ``running`` (their process died) ``interrupted``; how many."""
        ...


class RunReads(Protocol):
    async def get_run(self, run_id: int) -> Run | None: ...

    async def list_runs(
        self, connection_id: int, *, kind: RunKind | None = None, limit: int = 20
    ) -> list[Run]:
        """The newest runs first."""
        ...


# --- mappings ---------------------------------------------------------------------------------


class MappingReads(Protocol):
    async def get_mapping(
        self, connection_id: int, kind: MappingKind, cin7_value: str
    ) -> Mapping | None: ...

    async def reverse_mappings(
        self, connection_id: int, kind: MappingKind, qad_value: str
    ) -> list[Mapping]:
        """Every Cin7 value mapped to ``qad_value``, by Cin7 value."""
        ...

    async def list_mappings(self, connection_id: int, kind: str | None = None) -> list[Mapping]:
        """Mappings ordered by kind and Cin7 value."""
        ...

    async def export_mappings(
        self, connection_id: int, kind: str | None = None
    ) -> list[MappingRow]: ...

    async def mapping_table(self, connection_id: int) -> dict[str, dict[str, str]]:
        """``{kind: {cin7_value: qad_value}}`` with every kind present; what the planner reads."""
        ...


class MappingWrites(Protocol):
    async def set_mapping(
        self,
        connection_id: int,
        kind: MappingKind,
        cin7_value: str,
        qad_value: str,
        *,
        source: MappingSource = "manual",
        confidence: float = 1.0,
        overwrite: bool = True,
    ) -> Mapping:
        """Map one value; with ``overwrite=False`` an existing mapping wins."""
        ...

    async def import_mappings(
        self, connection_id: int, rows: Iterable[MappingRow], *, overwrite: bool = True
    ) -> int:
        """Write many mappings at once (all or none); how many rows were given."""
        ...

    async def remove_mapping(
        self, connection_id: int, kind: MappingKind, cin7_value: str
    ) -> bool: ...


# --- the audit trail --------------------------------------------------------------------------


class TrailWrites(Protocol):
    async def append(
        self,
        connection_id: int,
        record_key: str,
        event: AuditEventKind,
        actor: str,
        data: Any = None,
        *,
        at: datetime | None = None,
    ) -> AuditEvent:
        """Append one redacted event to a record's trail, linked to the connection's last.

        There is no verb that changes or deletes an event.
        """
        ...

    async def append_many(
        self, connection_id: int, entries: Sequence[TrailEntry]
    ) -> list[AuditEvent]:
        """Append several events in order under one lock of the chain head, all or none.

        For a record's events of one pass: one round trip instead of one per event.
        """
        ...


class TrailReads(Protocol):
    async def trail(self, connection_id: int, record_key: str) -> list[AuditEvent]:
        """A record's events in order."""
        ...

    async def events(
        self, connection_id: int, *, after_id: int = 0, limit: int = PAGE
    ) -> list[AuditEvent]:
        """A connection's events in append order, a page after ``after_id``."""
        ...

    async def verify_record(self, connection_id: int, record_key: str) -> list[BrokenLink]:
        """Check one record's trail: each event's link and the sequence, not the whole chain."""
        ...

    async def head(self, connection_id: int) -> ChainHead:
        """The connection's chain head as stored: the event count and the last link."""
        ...

    async def verify(
        self, connection_id: int, *, expect: ChainHead | None = None
    ) -> list[BrokenLink]:
        """Check the connection's whole chain; an empty list means it is intact.

        ``expect`` is a head kept elsewhere: fewer events, or another link at its position,
        is a break even when the stored head was rewritten to match.
        """
        ...


# --- alerts ---------------------------------------------------------------------------------


class Alerts(Protocol):
    """Where a connection's alerts go (destinations encrypted), and which conditions fire."""

    async def add_alert_rule(
        self,
        connection_id: int,
        channel: str,
        target: dict[str, Any],
        conditions: Sequence[str],
    ) -> AlertRule: ...

    async def list_alert_rules(self, connection_id: int) -> list[AlertRule]:
        """The connection's rules, oldest first, destinations readable."""
        ...

    async def remove_alert_rule(self, connection_id: int, rule_id: int) -> bool:
        """Delete one rule and its states; False when the connection has no such rule."""
        ...

    async def claim_alert(self, rule_id: int, condition: str, *, active: bool) -> bool:
        """Flip a condition to ``active``; True only for the one caller that flipped it."""
        ...

    async def unclaim_alert(self, rule_id: int, condition: str, *, active: bool) -> None:
        """Undo :meth:`claim_alert` after a failed delivery, so the next pass tries again."""
        ...

    async def alert_sent(self, rule_id: int, condition: str) -> None: ...

    async def alert_states(self, rule_id: int) -> dict[str, bool]:
        """Each condition of a rule ever evaluated, and whether it is firing."""
        ...


# --- roles ------------------------------------------------------------------------------------


class SyncStateStore(
    Transactions,
    Health,
    Cursors,
    Snapshots,
    RecordWrites,
    RecordReads,
    Postings,
    RunWrites,
    RunReads,
    MappingReads,
    TrailWrites,
    TrailReads,
    Protocol,
):
    """What a sync or replay pass needs (:class:`ml_connector.sync.engine.SyncEngine`)."""


class ConfigStore(Transactions, Connections, Health, MappingReads, MappingWrites, Protocol):
    """Connection and mapping changes, and key rotation."""


class ReportStore(ConnectionIds, RecordReads, RunReads, TrailReads, Protocol):
    """The read-only views: records, counts, reconcile, the trail and its check, runs."""


class Store(SyncStateStore, ConfigStore, ReportStore, Alerts, Protocol):
    """Every verb: for the use cases that change configuration, sync and report in one place."""
