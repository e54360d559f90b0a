"""The QAD channel seam: every raw operation the engine needs from QAD, and nothing more.

A channel is one way of talking to a QAD tenant: REST (`qad/rest/`), QXtend Inbound QDocs, the
in-memory `FakeQadChannel` (`qad/fake.py`). Its methods are the *raw* operations — one create is
one write, one read is one look — and the look-up-before-create, read-back and retry logic is
written once above them, in `qad/operations.py`. A second channel therefore needs no change to
the planner, the engine or the operations.

The seam is split by capability, so a tenant can mix channels (REST for suppliers, QXtend for
receipts and invoices) through `RoutedChannel` (`qad/routing.py`):

| capability | protocol | reads | writes |
|---|---|---|---|
| suppliers | `SupplierChannel` | supplier, business relation | relation, supplier, update |
| purchasing | `PurchasingChannel` | PO with lines | header, one line, updates |
| receiving | `ReceivingChannel` | receivers by PO (+ packing slip) | one receipt |
| invoicing | `InvoicingChannel` | by supplier + reference, by voucher | one invoice |
| reference | `ReferenceChannel` | browses, one item | one item |

What every channel promises, so the operations can be written once:

- **Errors carry their kind** (`ml_connector.errors`): a create on a key QAD holds raises
  `AlreadyExists`; an update carrying an old `revision` raises `StaleRecord`; any other business
  refusal raises `RecordRejected` with QAD's message and field errors; a write whose answer was
  lost (it may or may not have been applied) raises `WriteOutcomeUnknown`; transport failures
  raise `Unavailable`; refused credentials `AuthRejected`. Warnings are not errors.
- **Writes are never retried blindly** inside a channel: a channel may retry a write only when it
  knows the write did not reach QAD.
- **Reads are fresh**: no read answers from a cache of earlier writes.
- **Updates name the record state they were computed from** (the read record, whose `revision`
  is the channel's optimistic-lock token).
- `calls` counts the requests the channel sent to QAD (retries included); `ping()` logs in and
  makes one cheap read, raising `AuthRejected`, `PermissionDenied`, `ConfigError` or
  `Unavailable` with a plain reason.
"""

from __future__ import annotations

from types import TracebackType
from typing import Protocol, Self, runtime_checkable

from ml_connector.qad.models import (
    CreatedInvoice,
    CreditTerm,
    Currency,
    GlAccount,
    InvoiceSpec,
    Item,
    ItemSpec,
    PoHeaderChange,
    PoLine,
    PoLineChange,
    PurchaseOrder,
    PurchaseOrderLineSpec,
    PurchaseOrderSpec,
    Receipt,
    ReceiptSpec,
    Site,
    Supplier,
    SupplierChange,
    SupplierInvoice,
    SupplierSpec,
    TaxClass,
)


@runtime_checkable
class Channel(Protocol):
    """What every capability shares: a call counter, a health probe, and closing."""

    @property
    def calls(self) -> int:
        """Requests sent to QAD so far (retries included)."""
        ...

    async def ping(self) -> None:
        """Log in and make one cheap read; raise with a plain reason when that fails."""
        ...

    async def aclose(self) -> None: ...


class SupplierChannel(Channel, Protocol):
    """Suppliers and the business relations (address holders) they belong to."""

    async def get_supplier(self, code: str) -> Supplier | None: ...

    async def has_business_relation(self, code: str) -> bool: ...

    async def create_business_relation(self, spec: SupplierSpec) -> None:
        """Create the relation `spec.relation_code` with the spec's name and address."""
        ...

    async def create_supplier(self, spec: SupplierSpec) -> None:
        """Create the supplier; its business relation must exist."""
        ...

    async def update_supplier(self, held: Supplier, change: SupplierChange) -> None:
        """Apply `change` to the supplier as it was read (`held`)."""
        ...


class PurchasingChannel(Channel, Protocol):
    """Purchase orders under our own numbers, header and lines."""

    async def get_purchase_order(self, number: str) -> PurchaseOrder | None:
        """The PO with its lines (ordered, received and invoiced quantities), or None."""
        ...

    async def create_purchase_order(self, spec: PurchaseOrderSpec) -> PurchaseOrder | None:
        """Create the header only (no lines); the PO as saved when QAD answers it, else None."""
        ...

    async def add_po_line(self, spec: PurchaseOrderSpec, line: PurchaseOrderLineSpec) -> None:
        """Add one line to the PO `spec.number` (site defaults: line, PO, tenant)."""
        ...

    async def update_po_header(self, held: PurchaseOrder, change: PoHeaderChange) -> None: ...

    async def update_po_line(self, number: str, held: PoLine, change: PoLineChange) -> None: ...


class ReceivingChannel(Channel, Protocol):
    """Goods receipts (receivers). Posting is not idempotent: each post adds quantity."""

    async def find_receipts(self, po_number: str, packing_slip: str | None = None) -> list[Receipt]:
        """Receivers of a PO, only those with this packing slip when one is given."""
        ...

    async def post_receipt(self, spec: ReceiptSpec) -> str | None:
        """Post one receiver; its number when QAD answers one."""
        ...


class InvoicingChannel(Channel, Protocol):
    """Supplier invoices and credit notes, matched to PO lines (three-way match)."""

    async def find_supplier_invoices(
        self, supplier_code: str, reference: str, invoice_type: str | None = None
    ) -> list[SupplierInvoice]:
        """Every invoice of the supplier with this reference (duplicates included)."""
        ...

    async def get_supplier_invoice(
        self, voucher: int, posting_year: int, daybook: str | None = None
    ) -> SupplierInvoice | None: ...

    async def create_supplier_invoice(self, spec: InvoiceSpec) -> CreatedInvoice:
        """Create one invoice. QAD accepts a duplicate reference with only a warning."""
        ...


class ReferenceChannel(Channel, Protocol):
    """Reference lists (`mapping suggest`) and the item master."""

    async def gl_accounts(self) -> list[GlAccount]: ...

    async def items(self) -> list[Item]: ...

    async def sites(self) -> list[Site]: ...

    async def credit_terms(self) -> list[CreditTerm]: ...

    async def currencies(self) -> list[Currency]: ...

    async def tax_classes(self) -> list[TaxClass]: ...

    async def suppliers(self) -> list[Supplier]: ...

    async def get_item(self, code: str) -> Item | None: ...

    async def create_item(self, spec: ItemSpec) -> None: ...


class QadChannel(
    SupplierChannel,
    PurchasingChannel,
    ReceivingChannel,
    InvoicingChannel,
    ReferenceChannel,
    Protocol,
):
    """Everything the engine needs from one QAD tenant; used as `async with channel: ...`."""

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...
