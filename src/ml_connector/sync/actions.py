"""The QAD actions a plan is made of: frozen values, amounts as `Decimal`, nothing executed here.

Every action has a `natural_key` (unique within a plan and stable across runs), a `kind`, the
`depends_on` natural keys that must have succeeded first (only keys of actions in the same
plan), and everything the QAD client needs. After executing an action the engine records

    posted[action.natural_key] = Posted(qad_id, action.posted_details(qad_id))

and planning again on that state yields nothing more to do for it. `qad_id` is what QAD
identifies the document by: the supplier code, item code, PO number, receiver number or invoice
voucher. `posted_details` shapes (all JSON-able, decimals as strings):

- `supplier`: `code`, plus the compared fields `name`, `currency`, `credit_terms`,
  `tax_class`, `street`, `city`, `state`, `zip`, `country`, `email`, `phone`, `active`.
- `item`: `code`.
- `create_po` / `update_po`: the whole PO: `number`, `supplier_code`, `currency`,
  `exchange_rate`, `credit_terms`, `site`, `order_date`, `due_date`, `remarks`, and `lines` as
  `[{line, sku, item_code, description, quantity, unit_cost, status}]`.
- `receipt` / `reverse_receipt`: `receiver`, `packing_slip`, `effective_date`, and `lines` as
  `[{line, sku, quantity, site}]` (signed, as posted; rows recorded before receipts kept their
  site have none and went to the PO line's site).
- `invoice` / `credit_note`: `reference`, `voucher`, `supplier_code`, `po_number` ("" without
  a PO), `description`, `currency`, `amount`, `tax_amount`,
  `lines` as `[{line, sku, quantity, unit_price}]`, `gl` as `[{gl_code, amount, description,
  cin7_account}]`, and `variances` (price
  differences from the PO within the tolerance) as
  `[{line, sku, quantity, po_price, invoice_price, amount}]`.
- `close_po`: `number`, `closed`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, fields
from datetime import date
from decimal import Decimal
from typing import Any, ClassVar, Literal

from ml_connector.sync.amounts import fmt_money, fmt_price, fmt_qty


def _dec(value: Decimal) -> str:
    return format(value, "f")


def _day(value: date | None) -> str | None:
    return value.isoformat() if value else None


@dataclass(frozen=True, kw_only=True)
class Action(ABC):
    """Base of every planned QAD action."""

    kind: ClassVar[str] = "action"
    natural_key: str
    depends_on: tuple[str, ...] = ()

    @abstractmethod
    def posted_details(self, qad_id: str) -> dict[str, Any]:
        """What the engine stores for this action once QAD holds it (see the module table)."""

    @abstractmethod
    def describe(self) -> str:
        """One line for dry runs, logs and the audit trail."""


# --- supplier and items --------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class EnsureSupplier(Action):
    """Create (or, with `update`, bring up to date) a QAD business relation + supplier.

    Natural key `supplier:<cin7 supplier id>`. The business relation code is the supplier code.
    """

    kind: ClassVar[str] = "supplier"
    cin7_id: str
    code: str
    name: str
    currency: str
    credit_terms: str
    tax_class: str = ""
    street: str = ""
    city: str = ""
    state: str = ""
    zip: str = ""
    country: str = ""
    email: str = ""
    phone: str = ""
    remarks: str = ""
    active: bool = True
    update: bool = False

    def fingerprint(self) -> dict[str, Any]:
        """The fields compared with what was posted to decide whether an update is due."""
        return {
            "name": self.name,
            "currency": self.currency,
            "credit_terms": self.credit_terms,
            "tax_class": self.tax_class,
            "street": self.street,
            "city": self.city,
            "state": self.state,
            "zip": self.zip,
            "country": self.country,
            "email": self.email,
            "phone": self.phone,
            "active": self.active,
        }

    def posted_details(self, qad_id: str) -> dict[str, Any]:
        return {"code": qad_id or self.code, **self.fingerprint()}

    def describe(self) -> str:
        verb = "update" if self.update else "create"
        return f"{verb} supplier {self.code} ({self.name})"


@dataclass(frozen=True, kw_only=True)
class EnsureItem(Action):
    """Create a QAD item for an unmapped Cin7 SKU (only with `create_missing_items`).

    Natural key `item:<SKU in upper case>`.
    """

    kind: ClassVar[str] = "item"
    sku: str
    code: str
    description: str
    uom: str
    gl_account: str
    unit_cost: Decimal

    def posted_details(self, qad_id: str) -> dict[str, Any]:
        return {"code": qad_id or self.code}

    def describe(self) -> str:
        return f"create item {self.code} for SKU {self.sku}"


# --- purchase orders -----------------------------------------------------------------------


@dataclass(frozen=True)
class OrderLine:
    """A PO line. `status` is `O` (open) or `C` (closed: SKU no longer ordered nor received)."""

    line: int
    sku: str
    item_code: str
    description: str
    quantity: Decimal
    unit_cost: Decimal
    status: Literal["O", "C"] = "O"

    def as_details(self) -> dict[str, Any]:
        return {
            "line": self.line,
            "sku": self.sku,
            "item_code": self.item_code,
            "description": self.description,
            "quantity": _dec(self.quantity),
            "unit_cost": _dec(self.unit_cost),
            "status": self.status,
        }


@dataclass(frozen=True, kw_only=True)
class _PurchaseOrderAction(Action):
    """The whole PO as QAD must hold it: header and every line, closed ones included."""

    number: str
    order_number: str
    domain: str
    supplier_code: str
    currency: str
    exchange_rate: Decimal
    credit_terms: str | None
    site: str
    order_date: date
    due_date: date | None
    remarks: str
    lines: tuple[OrderLine, ...]

    def header_details(self) -> dict[str, Any]:
        return {
            "supplier_code": self.supplier_code,
            "currency": self.currency,
            "exchange_rate": _dec(self.exchange_rate),
            "credit_terms": self.credit_terms,
            "site": self.site,
            "order_date": _day(self.order_date),
            "due_date": _day(self.due_date),
            "remarks": self.remarks,
        }

    def posted_details(self, qad_id: str) -> dict[str, Any]:
        return {
            "number": qad_id or self.number,
            **self.header_details(),
            "lines": [line.as_details() for line in self.lines],
        }

    def line(self, number: int) -> OrderLine | None:
        return next((line for line in self.lines if line.line == number), None)

    @property
    def open_lines(self) -> tuple[OrderLine, ...]:
        return tuple(line for line in self.lines if line.status == "O")


@dataclass(frozen=True, kw_only=True)
class CreatePurchaseOrder(_PurchaseOrderAction):
    """Create the PO with all its lines. Natural key `po:<OrderNumber>`."""

    kind: ClassVar[str] = "create_po"

    def describe(self) -> str:
        return (
            f"create PO {self.number} ({self.order_number}) for {self.supplier_code}: "
            f"{len(self.open_lines)} lines"
        )


@dataclass(frozen=True, kw_only=True)
class UpdatePurchaseOrder(_PurchaseOrderAction):
    """Bring a posted PO to the state in `lines`/header. Natural key `po:<OrderNumber>`.

    `added`, `changed` and `closed` list the PO line numbers touched (a closed line is not also
    in `changed`); `header_changed` says whether any header field differs from what was posted.
    Line numbers of posted lines never change.
    """

    kind: ClassVar[str] = "update_po"
    added: tuple[int, ...] = ()
    changed: tuple[int, ...] = ()
    closed: tuple[int, ...] = ()
    header_changed: bool = False

    @classmethod
    def from_create(
        cls,
        create: CreatePurchaseOrder,
        *,
        added: tuple[int, ...],
        changed: tuple[int, ...],
        closed: tuple[int, ...],
        header_changed: bool,
    ) -> UpdatePurchaseOrder:
        values = {f.name: getattr(create, f.name) for f in fields(create)}
        return cls(
            **values, added=added, changed=changed, closed=closed, header_changed=header_changed
        )

    def describe(self) -> str:
        parts = [
            f"{name} {list(numbers)}"
            for name, numbers in (
                ("add lines", self.added),
                ("change lines", self.changed),
                ("close lines", self.closed),
            )
            if numbers
        ]
        if self.header_changed:
            parts.insert(0, "header")
        return f"update PO {self.number} ({self.order_number}): {', '.join(parts)}"


@dataclass(frozen=True, kw_only=True)
class ClosePurchaseOrder(Action):
    """Close a PO whose purchase was voided with nothing received. Key `close:<OrderNumber>`."""

    kind: ClassVar[str] = "close_po"
    number: str
    order_number: str
    domain: str

    def posted_details(self, qad_id: str) -> dict[str, Any]:
        return {"number": qad_id or self.number, "closed": True}

    def describe(self) -> str:
        return f"close PO {self.number} ({self.order_number}, voided in Cin7)"


# --- receipts ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReceiveLine:
    """Quantity received on one PO line at one QAD site (mapped from the Cin7 line's
    Location); negative reverses."""

    po_line: int
    sku: str
    quantity: Decimal
    site: str = ""

    def as_details(self) -> dict[str, Any]:
        return {
            "line": self.po_line,
            "sku": self.sku,
            "quantity": _dec(self.quantity),
            "site": self.site,
        }


@dataclass(frozen=True, kw_only=True)
class _ReceiptAction(Action):
    po_number: str
    order_number: str
    domain: str
    packing_slip: str
    effective_date: date
    lines: tuple[ReceiveLine, ...]
    block: str
    adjustment: int = 0

    def posted_details(self, qad_id: str) -> dict[str, Any]:
        return {
            "receiver": qad_id,
            "packing_slip": self.packing_slip,
            "effective_date": _day(self.effective_date),
            "lines": [line.as_details() for line in self.lines],
        }

    def _summary(self) -> str:
        goods = ", ".join(f"{line.sku} {fmt_qty(line.quantity)}" for line in self.lines)
        sites = list(dict.fromkeys(line.site for line in self.lines if line.site))
        return goods + (f" at {', '.join(sites)}" if sites else "")


@dataclass(frozen=True, kw_only=True)
class PostReceipt(_ReceiptAction):
    """A PO receipt for one AUTHORISED Cin7 receiving block (Simple: one day; Advanced: one
    PutAway task and day), or an adjustment of one already posted.

    Natural key `receipt:<OrderNumber>:<block>`; the n-th adjustment (quantities changed after
    posting; `lines` carry the signed difference) is `receipt:<OrderNumber>:<block>#adj<n>`.
    """

    kind: ClassVar[str] = "receipt"

    def describe(self) -> str:
        what = (
            f"adjust receipt {self.block} (#{self.adjustment})"
            if self.adjustment
            else (f"receive {self.block}")
        )
        return f"{what} on PO {self.po_number}, slip {self.packing_slip}: {self._summary()}"


@dataclass(frozen=True, kw_only=True)
class ReverseReceipt(_ReceiptAction):
    """A negative receipt for goods returned on a credit note (Cin7 Unstock, AUTHORISED).

    Natural key `unstock:<OrderNumber>:<credit note reference>:<day>` (adjustments `#adj<n>`).
    Quantities are negative, as posted to QAD.
    """

    kind: ClassVar[str] = "reverse_receipt"
    credit_note: str

    def describe(self) -> str:
        return (
            f"reverse receipt on PO {self.po_number} for credit note {self.credit_note}, "
            f"slip {self.packing_slip}: {self._summary()}"
        )


# --- supplier invoices and credit notes ----------------------------------------------------


@dataclass(frozen=True)
class MatchLine:
    """A supplier-invoice line matched to a PO line's received quantity (three-way match)."""

    po_line: int
    sku: str
    quantity: Decimal
    unit_price: Decimal

    def as_details(self) -> dict[str, Any]:
        return {
            "line": self.po_line,
            "sku": self.sku,
            "quantity": _dec(self.quantity),
            "unit_price": _dec(self.unit_price),
        }


@dataclass(frozen=True)
class PriceVariance:
    """An invoice line priced differently from its PO line, within the price tolerance.

    QAD posts the difference as a rate variance when it matches the invoice to the receipt;
    the trail keeps it so AP sees why the invoice differs from the PO.
    """

    po_line: int
    sku: str
    quantity: Decimal
    po_price: Decimal
    invoice_price: Decimal

    @property
    def amount(self) -> Decimal:
        return (self.invoice_price - self.po_price) * self.quantity

    def as_details(self) -> dict[str, Any]:
        return {
            "line": self.po_line,
            "sku": self.sku,
            "quantity": _dec(self.quantity),
            "po_price": _dec(self.po_price),
            "invoice_price": _dec(self.invoice_price),
            "amount": _dec(self.amount),
        }

    def describe(self) -> str:
        sign = "+" if self.amount > 0 else ""
        return (
            f"{self.sku} {fmt_price(self.po_price)} → {fmt_price(self.invoice_price)} "
            f"x {fmt_qty(self.quantity)} = {sign}{fmt_money(self.amount)}"
        )


@dataclass(frozen=True)
class GlLine:
    """An amount posted straight to a QAD GL account (charges, non-item lines)."""

    gl_code: str
    amount: Decimal
    description: str
    cin7_account: str

    def as_details(self) -> dict[str, Any]:
        return {
            "gl_code": self.gl_code,
            "amount": _dec(self.amount),
            "description": self.description,
            "cin7_account": self.cin7_account,
        }


@dataclass(frozen=True, kw_only=True)
class _SupplierDocument(Action):
    """Amounts are positive for invoices and credit notes alike; `invoice_type` tells them apart.

    `po_number` is "" for a purchase with nothing stocked (a Cin7 Service purchase): the
    document goes to QAD without a PO, its lines on GL accounts only.

    `amount` = Σ matching quantity x unit price + Σ GL amounts + `tax_amount`, to the cent.
    """

    invoice_type: ClassVar[Literal["Invoice", "CreditNote"]] = "Invoice"
    entity: str
    supplier_code: str
    reference: str
    cin7_number: str
    order_number: str
    po_number: str
    document_date: date
    due_date: date | None
    currency: str
    exchange_rate: Decimal
    amount: Decimal
    tax_amount: Decimal
    description: str
    matching: tuple[MatchLine, ...]
    gl_lines: tuple[GlLine, ...]
    variances: tuple[PriceVariance, ...] = ()

    def posted_details(self, qad_id: str) -> dict[str, Any]:
        return {
            "reference": self.reference,
            "voucher": qad_id,
            "supplier_code": self.supplier_code,
            "po_number": self.po_number,
            "description": self.description,
            "currency": self.currency,
            "amount": _dec(self.amount),
            "tax_amount": _dec(self.tax_amount),
            "lines": [line.as_details() for line in self.matching],
            "gl": [line.as_details() for line in self.gl_lines],
            "variances": [variance.as_details() for variance in self.variances],
        }

    def _on_po(self) -> str:
        return f"on PO {self.po_number}" if self.po_number else "without a PO"

    def _variance_text(self) -> str:
        if not self.variances:
            return ""
        return "; price variance " + ", ".join(v.describe() for v in self.variances)


@dataclass(frozen=True, kw_only=True)
class PostInvoice(_SupplierDocument):
    """A supplier invoice. Natural key `invoice:<QAD supplier code>:<PO number>:<reference>`.

    One per Cin7 purchase invoice: the reference is the supplier's own invoice number, unchanged,
    and two purchases invoiced under one number get one QAD invoice each, matched to their PO.

    Planned only when QAD's received quantity covers every invoiced line, cumulatively with the
    purchase's earlier invoices; it depends on the receipts of the same plan that it needs.
    """

    kind: ClassVar[str] = "invoice"
    invoice_type: ClassVar[Literal["Invoice", "CreditNote"]] = "Invoice"

    def describe(self) -> str:
        return (
            f"post invoice {self.reference} from {self.supplier_code} {self._on_po()}: "
            f"{fmt_money(self.amount)} {self.currency}{self._variance_text()}"
        )


@dataclass(frozen=True, kw_only=True)
class PostCreditNote(_SupplierDocument):
    """A supplier credit note. Natural key `credit:<QAD supplier code>:<PO number>:<reference>`.

    Matching lines give back invoiced quantity; planned only when QAD's invoiced quantity covers
    them.
    """

    kind: ClassVar[str] = "credit_note"
    invoice_type: ClassVar[Literal["Invoice", "CreditNote"]] = "CreditNote"

    def describe(self) -> str:
        return (
            f"post credit note {self.reference} from {self.supplier_code} {self._on_po()}: "
            f"{fmt_money(self.amount)} {self.currency}"
        )


AnyAction = (
    EnsureSupplier
    | EnsureItem
    | CreatePurchaseOrder
    | UpdatePurchaseOrder
    | PostReceipt
    | ReverseReceipt
    | PostInvoice
    | PostCreditNote
    | ClosePurchaseOrder
)
