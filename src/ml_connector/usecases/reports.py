"""What happened: records, holds, the month-end reconcile, a record's trail, the chain check.

Read-only use cases. Each returns a frozen result holding store values and the moment it was
read (``now``), so a view can compute ages without a clock of its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from ml_connector.errors import ConfigError
from ml_connector.store.models import AuditEvent, BrokenLink, ReconcileLine, Record
from ml_connector.store.repo import Store
from ml_connector.vocab import RECORD_KINDS, RecordKind, RecordStatus

__all__ = [
    "AuditTrail",
    "ChainCheck",
    "Holds",
    "Reconciliation",
    "RecordList",
    "audit_trail",
    "find_record",
    "held_invoices",
    "list_records",
    "reconcile",
    "verify_audit",
]


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class RecordList:
    """Records of one kind (optionally one status); ``truncated`` when more exist."""

    connection: str
    kind: RecordKind
    status: RecordStatus | None
    records: tuple[Record, ...]
    truncated: bool
    now: datetime


@dataclass(frozen=True)
class Holds:
    """Held purchases: their invoices wait for goods receipts in QAD."""

    connection: str
    records: tuple[Record, ...]
    now: datetime


@dataclass(frozen=True)
class Reconciliation:
    """Per supplier and currency: invoiced, posted, held, received (``month``: one month)."""

    connection: str
    month: str | None
    lines: tuple[ReconcileLine, ...]


@dataclass(frozen=True)
class AuditTrail:
    """One record's trail; ``record`` is None when only events remain (``key`` names them)."""

    connection: str
    record: Record | None
    key: str
    events: tuple[AuditEvent, ...]


@dataclass(frozen=True)
class ChainCheck:
    """The verdict on a connection's whole hash chain."""

    connection: str
    broken: tuple[BrokenLink, ...]

    @property
    def intact(self) -> bool:
        return not self.broken


async def list_records(
    store: Store,
    name: str,
    *,
    status: RecordStatus | None = None,
    kind: RecordKind = "purchase",
    limit: int = 200,
) -> RecordList:
    """Records with their status and reason, oldest status change first (``limit=0``: all)."""
    cid = await store.connection_id(name)
    found = await store.list_records(
        cid, status=status, kind=kind, limit=limit + 1 if limit > 0 else None
    )
    truncated = limit > 0 and len(found) > limit
    shown = found[:limit] if truncated else found
    return RecordList(name, kind, status, tuple(shown), truncated, _now())


async def held_invoices(store: Store, name: str) -> Holds:
    """Held purchases, oldest hold first; each reason says which receipt quantities lack."""
    cid = await store.connection_id(name)
    held = await store.list_records(cid, status="held", kind="purchase")
    return Holds(name, tuple(held), _now())


async def reconcile(store: Store, name: str, month: str | None = None) -> Reconciliation:
    """Month-end figures per supplier and currency (``month`` as ``YYYY-MM``: only then)."""
    cid = await store.connection_id(name)
    return Reconciliation(name, month, tuple(await store.reconcile(cid, month)))


async def find_record(store: Store, cid: int, reference: str) -> tuple[Record | None, str]:
    """The record named ``kind:reference`` or plain ``reference`` (purchases first), and its
    audit key (``purchase:PO-00412``) even when no record exists."""
    kind, sep, rest = reference.partition(":")
    if sep and kind in RECORD_KINDS:
        matches = [r for r in await store.find_records(cid, rest) if r.kind == kind]
        return (matches[0] if matches else None), reference
    matches = await store.find_records(cid, reference)
    if not matches and reference.upper() != reference:
        matches = await store.find_records(cid, reference.upper())
    matches.sort(key=lambda r: r.kind != "purchase")
    if matches:
        return matches[0], matches[0].key
    return None, f"purchase:{reference}"


async def audit_trail(store: Store, name: str, reference: str) -> AuditTrail:
    """A record's hash-chained trail; ConfigError when neither record nor events exist."""
    cid = await store.connection_id(name)
    record, key = await find_record(store, cid, reference)
    events = await store.trail(cid, key)
    if record is None and not events:
        raise ConfigError(f"connection {name!r} has no record {reference!r}")
    return AuditTrail(name, record, key, tuple(events))


async def verify_audit(store: Store, name: str) -> ChainCheck:
    """Check every link of the connection's hash chain."""
    cid = await store.connection_id(name)
    return ChainCheck(name, tuple(await store.verify(cid)))
