"""Values the store hands out and takes in: frozen, typed, free of SQL.

The words they are written in (record statuses, mapping kinds, audit event names...) live in
:mod:`ml_connector.vocab`, which the pure planner imports without this module.

Secrets only ever appear as :class:`pydantic.SecretStr`, so a repr, a log line or a JSON dump of
a :class:`ConnectionConfig` shows ``**********`` instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from ml_connector.vocab import (
    AuditEventKind,
    MappingKind,
    MappingSource,
    PostingState,
    RecordStatus,
    RunKind,
    RunStatus,
)

__all__ = [
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
]

DEFAULT_CIN7_BASE_URL = "https://inventory.dearsystems.com/ExternalApi/v2/"


class ConnectionConfig(BaseModel):
    """One Cin7 Core account paired with one QAD tenant.

    Build it with plain secret strings (pydantic wraps them in ``SecretStr``); the store encrypts
    them on write and hands them back decrypted, still wrapped, on read. ``id``, ``created_at``
    and the health fields are filled in by the store.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
    cin7_account_id: str = Field(min_length=1, max_length=64)
    cin7_application_key: SecretStr
    cin7_base_url: str = Field(default=DEFAULT_CIN7_BASE_URL, min_length=1, max_length=512)
    qad_base_url: str = Field(min_length=1, max_length=512)
    qad_client_id: str = Field(min_length=1, max_length=128)
    qad_username: str = Field(min_length=1, max_length=128)
    qad_password: SecretStr
    qad_domain: str = Field(min_length=1, max_length=32)
    qad_entity: str = Field(min_length=1, max_length=32)
    qad_site: str | None = Field(default=None, max_length=32)
    qad_supplier_shared_set: str | None = Field(default=None, max_length=32)
    qad_daybook: str | None = Field(default=None, max_length=32)
    allow_local: bool = False
    schedule: str | None = Field(default=None, max_length=64)
    options: dict[str, Any] = Field(default_factory=dict)
    id: int | None = None
    created_at: datetime | None = None
    healthy: bool = True
    health_message: str | None = None
    health_checked_at: datetime | None = None

    def option(self, name: str, default: Any = None) -> Any:
        """One entry of ``options`` (e.g. ``create_missing_items``), or ``default``."""
        return self.options.get(name, default)


@dataclass(frozen=True, slots=True)
class Cursor:
    """Where a stream's incremental listing resumes: Cin7's raw timestamp and its parsed form."""

    stream: str
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
    kind: str
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
    kind: str
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


@dataclass(frozen=True, slots=True)
class BrokenLink:
    """A place where the audit chain does not hold. ``event_id`` is None for chain-wide problems."""

    event_id: int | None
    record_key: str | None
    seq: int | None
    problem: str


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
    records: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
