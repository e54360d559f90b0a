"""What happened: records, holds, the month-end reconcile, a record's trail, the chain check.

Read-only use cases. Each returns a frozen result holding store values and the moment it was
read (``now``), so a view can compute ages without a clock of its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from ml_connector.errors import ConfigError
from ml_connector.store.audit import ChainHead
from ml_connector.store.models import AuditEvent, BrokenLink, ReconcileLine, Record
from ml_connector.store.protocols import Store
from ml_connector.sync.amounts import MoneyRule
from ml_connector.sync.reconcile import (
    AccountTotal,
    InvoiceRow,
    PostedDocument,
    account_totals,
    invoice_rows,
)
from ml_connector.vocab import CONNECTION_TRAIL, RECORD_KINDS, RecordKind, RecordStatus

__all__ = [
    "AccountReconciliation",
    "AuditTrail",
    "ChainCheck",
    "HeadReport",
    "Holds",
    "InvoiceReconciliation",
    "Reconciliation",
    "RecordList",
    "audit_head",
    "audit_trail",
    "find_record",
    "held_invoices",
    "list_records",
    "reconcile",
    "reconcile_accounts",
    "reconcile_invoices",
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
    """Per supplier and currency: invoiced, credited, posted, held, received (``month``: one)."""

    connection: str
    month: str | None
    lines: tuple[ReconcileLine, ...]


@dataclass(frozen=True)
class AccountReconciliation:
    """Per GL account and currency: invoices and credit notes QAD holds (``month``: one)."""

    connection: str
    month: str | None
    lines: tuple[AccountTotal, ...]


@dataclass(frozen=True)
class InvoiceReconciliation:
    """Every invoice and credit note QAD holds, with whether QAD reports it matched."""

    connection: str
    month: str | None
    invoices: tuple[InvoiceRow, ...]


@dataclass(frozen=True)
class AuditTrail:
    """One record's trail; ``record`` is None when only events remain (``key`` names them)."""

    connection: str
    record: Record | None
    key: str
    events: tuple[AuditEvent, ...]


@dataclass(frozen=True)
class ChainCheck:
    """The verdict on a connection's whole chain: every break found, the stored head, and the
    head kept elsewhere it was checked against (if any)."""

    connection: str
    broken: tuple[BrokenLink, ...]
    head: ChainHead
    expected: ChainHead | None = None

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


async def _posted_documents(
    store: Store, name: str, month: str | None
) -> tuple[list[PostedDocument], MoneyRule]:
    config = await store.get_connection(name)
    assert config.id is not None
    records = {r.id: r for r in await store.list_records(config.id, kind="purchase", month=month)}
    documents = []
    for kind in ("invoice", "credit_note"):
        for posting in await store.list_postings(config.id, kind=kind, state="posted"):
            record = records.get(posting.record_id) if posting.record_id else None
            if record is None:
                continue
            currencies = sorted({c for per in record.amounts.values() for c in per})
            documents.append(
                PostedDocument(
                    kind=kind,
                    order_number=record.reference,
                    qad_id=posting.qad_id or "",
                    details=posting.details,
                    currency=currencies[0] if currencies else "",
                )
            )
    return documents, MoneyRule(config.sync.rounding)


async def reconcile_accounts(
    store: Store, name: str, month: str | None = None
) -> AccountReconciliation:
    """What QAD holds per GL account and currency: stock lines on the item account QAD took,
    service and charge lines on their mapped account, tax apart; credit notes subtract."""
    documents, rule = await _posted_documents(store, name, month)
    return AccountReconciliation(name, month, tuple(account_totals(documents, rule)))


async def reconcile_invoices(
    store: Store, name: str, month: str | None = None
) -> InvoiceReconciliation:
    """Each invoice and credit note QAD holds: voucher, status, and whether QAD's receiver
    matching finished it (as last read from QAD; every pass re-reads unfinished ones)."""
    documents, _ = await _posted_documents(store, name, month)
    return InvoiceReconciliation(name, month, tuple(invoice_rows(documents)))


async def find_record(store: Store, cid: int, reference: str) -> tuple[Record | None, str]:
    """The record named ``kind:reference`` or plain ``reference`` (purchases first), and its
    audit key (``purchase:PO-00412``) even when no record exists."""
    if reference == CONNECTION_TRAIL:
        return None, CONNECTION_TRAIL
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
    """A record's hash-chained trail; ConfigError when neither record nor events exist. The
    connection's own trail (``connection``) always exists, empty until its first pause."""
    cid = await store.connection_id(name)
    record, key = await find_record(store, cid, reference)
    events = await store.trail(cid, key)
    if record is None and not events and key != CONNECTION_TRAIL:
        raise ConfigError(f"connection {name!r} has no record {reference!r}")
    return AuditTrail(name, record, key, tuple(events))


async def verify_audit(store: Store, name: str, expect: str | None = None) -> ChainCheck:
    """Check every link of the connection's chain, its records' statuses and, with ``expect``
    (``COUNT:LINK`` as ``audit head`` printed it), that the chain still reaches that head.

    ConfigError for an unknown connection or a head that does not read.
    """
    expected = None if expect is None else ChainHead.parse(expect)
    cid = await store.connection_id(name)
    broken = tuple(await store.verify(cid, expect=expected))
    return ChainCheck(name, broken, await store.head(cid), expected)


@dataclass(frozen=True)
class HeadReport:
    """A connection's audit chain head: the event count and the last link."""

    connection: str
    head: ChainHead


async def audit_head(store: Store, name: str) -> HeadReport:
    """The connection's chain head as stored, to keep somewhere its writers cannot reach."""
    cid = await store.connection_id(name)
    return HeadReport(name, await store.head(cid))
