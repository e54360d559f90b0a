"""Values the store hands out and takes in: frozen, typed, free of SQL.

The words they are written in (record statuses, mapping kinds, audit event names...) live in
:mod:`ml_connector.vocab`, which the pure planner imports without this module.

:class:`ConnectionConfig` is defined with its typed parts in :mod:`ml_connector.connection` and
handed out from here like every other value; its secrets only ever appear as
:class:`pydantic.SecretStr`, so a repr or a log line shows ``**********`` instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from ml_connector.connection import DEFAULT_CIN7_BASE_URL, ConnectionConfig
from ml_connector.vocab import (
    AuditEventKind,
    ChainBreakKind,
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
    "DEFAULT_CIN7_BASE_URL",
    "AlertRule",
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
    "TrailEntry",
]


@dataclass(frozen=True, slots=True)
class Cursor:
    """Where a stream's incremental listing resumes: Cin7's raw timestamp and its parsed form."""

    stream: Stream
    value: str
    value_at: datetime | None
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Staged:
    """Result of staging a snapshot: its version, whether it is new, and its content hash."""

    version: int
    changed: bool
    hash: str


@dataclass(frozen=True, slots=True)
class Snapshot:
    """One stored version of a Cin7 document's raw detail JSON."""

    id: int
    connection_id: int
    kind: RecordKind
    cin7_id: str
    reference: str
    version: int
    last_updated: str
    hash: str
    payload: dict[str, Any]
    fetched_at: datetime


@dataclass(frozen=True, slots=True)
class Record:
    """The sync state of one Cin7 document for one connection.

    ``amounts`` maps a measure (``invoiced``, ``posted``, ``held``, ``received``) to a currency to
    a decimal string, for the month-end reconcile.
    """

    id: int
    connection_id: int
    kind: RecordKind
    cin7_id: str
    reference: str
    supplier_id: str | None
    status: RecordStatus
    reason: str | None
    latest_version: int | None
    posted_version: int | None
    month: str | None
    amounts: dict[str, dict[str, str]]
    status_since: datetime
    created_at: datetime
    updated_at: datetime

    @property
    def key(self) -> str:
        """The audit key of this record (``purchase:PO-00412``)."""
        return f"{self.kind}:{self.reference}"


@dataclass(frozen=True, slots=True)
class Posting:
    """What exists (``posted``) or may exist (``intent``) in QAD under one natural key."""

    id: int
    connection_id: int
    record_id: int | None
    natural_key: str
    kind: str
    qad_id: str | None
    state: PostingState
    details: dict[str, Any]
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class MappingRow:
    """A cross-reference as imported, exported or suggested."""

    kind: MappingKind
    cin7_value: str
    qad_value: str
    source: MappingSource = "manual"
    confidence: float = 1.0


@dataclass(frozen=True, slots=True)
class Mapping:
    """A stored cross-reference between a Cin7 value and a QAD value."""

    id: int
    connection_id: int
    kind: MappingKind
    cin7_value: str
    qad_value: str
    source: MappingSource
    confidence: float
    created_at: datetime
    updated_at: datetime

    def row(self) -> MappingRow:
        return MappingRow(self.kind, self.cin7_value, self.qad_value, self.source, self.confidence)


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """One link of a record's audit trail; ``data`` is already redacted."""

    id: int
    connection_id: int
    record_key: str
    seq: int
    at: datetime
    event: AuditEventKind
    actor: str
    data: Any
    prev_hash: str
    hash: str
    key_version: int = 0


@dataclass(frozen=True, slots=True)
class BrokenLink:
    """A place where the audit chain does not hold: what kind of break, where, and in words.

    ``event_id`` is None for chain-wide problems (a truncated chain, a record's status).
    """

    event_id: int | None
    record_key: str | None
    seq: int | None
    problem: str
    kind: ChainBreakKind


@dataclass(frozen=True, slots=True)
class TrailEntry:
    """One event to append (:meth:`~ml_connector.store.protocols.TrailWrites.append_many`)."""

    record_key: str
    event: AuditEventKind
    actor: str
    data: Any = None
    at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Run:
    """One sync, replay or dry-run pass over a connection, with its counters."""

    id: int
    connection_id: int
    kind: RunKind
    actor: str
    status: RunStatus
    started_at: datetime
    finished_at: datetime | None
    counters: dict[str, int]
    error: str | None


@dataclass(frozen=True, slots=True)
class ReconcileLine:
    """Month-end view of one supplier in one currency."""

    supplier_id: str | None
    supplier_name: str | None
    currency: str
    invoiced: Decimal = Decimal(0)
    posted: Decimal = Decimal(0)
    held: Decimal = Decimal(0)
    received: Decimal = Decimal(0)
    credited: Decimal = Decimal(0)
    records: int = 0
    statuses: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AlertRule:
    """Where one connection's alerts go. ``target`` is the decrypted destination (the webhook's
    ``url``, or the SMTP settings with their password): kept out of the repr, never shown."""

    id: int
    connection_id: int
    channel: str
    conditions: tuple[str, ...]
    created_at: datetime
    target: dict[str, Any] = field(repr=False)
