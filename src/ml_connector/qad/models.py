"""What the engine hands a QAD channel (specs, changes) and what it gets back (records, results).

These models are the channel seam's vocabulary (`qad/channel.py`): every channel — REST,
QXtend, the in-memory fake — reads and writes them, and none of them carries a wire format.
Specs validate QAD's own limits up front (supplier code and PO number at most 8 characters,
packing slip 20, PO remarks 40), so a too-long key fails here with a clear message instead of
being truncated or refused by QAD. Amounts and quantities are `Decimal`.

Records read from QAD carry `revision`, the channel's optimistic-lock token for that state of
the record (over REST, QAD's `concurrencyHash`). It is opaque: an update hands back the record
it was computed from, and a channel whose record moved on since refuses it (`StaleRecord`).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ml_connector.errors import FieldError

InvoiceType = Literal["Invoice", "CreditNote"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


# ---- specs ------------------------------------------------------------------------------------


class SupplierSpec(_Frozen):
    """A supplier as QAD should hold it; `business_relation` defaults to the supplier code."""

    code: str = Field(min_length=1, max_length=8)
    name: str = Field(min_length=1)
    currency: str = Field(min_length=1)
    credit_terms: str = Field(min_length=1)
    business_relation: str | None = Field(default=None, min_length=1, max_length=20)
    street: str = ""
    city: str = ""
    state: str = ""
    zip: str = ""
    country: str = ""
    email: str = ""
    phone: str = ""
    tax_class: str = ""
    remarks: str = ""
    active: bool = True

    @property
    def relation_code(self) -> str:
        return self.business_relation or self.code


class PurchaseOrderLineSpec(_Frozen):
    """One PO line. `site` defaults to the PO's ship-to site, then the tenant's default site."""

    line: int = Field(ge=1)
    item_code: str = Field(min_length=1)
    quantity: Decimal = Field(gt=0)
    unit_cost: Decimal = Field(ge=0)
    site: str | None = None
    due_date: dt.date | None = None


class PurchaseOrderSpec(_Frozen):
    """A purchase order with our own number (QAD's `po_nbr`, at most 8 characters)."""

    number: str = Field(min_length=1, max_length=8)
    supplier_code: str = Field(min_length=1, max_length=8)
    currency: str = Field(min_length=1)
    exchange_rate: Decimal = Field(default=Decimal(1), gt=0)
    credit_terms: str | None = None
    ship_to_site: str | None = None
    order_date: dt.date
    due_date: dt.date | None = None
    remarks: str = Field(default="", max_length=40)
    lines: list[PurchaseOrderLineSpec] = Field(default_factory=list)

    @field_validator("number")
    @classmethod
    def _no_blank_number(cls, value: str) -> str:
        if not value.strip() or value != value.strip():
            raise ValueError("PO number must be set and carry no surrounding spaces")
        return value

    @model_validator(mode="after")
    def _unique_lines(self) -> PurchaseOrderSpec:
        numbers = [line.line for line in self.lines]
        if len(numbers) != len(set(numbers)):
            raise ValueError("PO line numbers must be unique")
        return self


class ReceiptLineSpec(_Frozen):
    """Quantity received on one PO line, at `site` (None: the PO line's site); also accepted
    as a `(po_line, quantity)` pair."""

    po_line: int = Field(ge=1)
    quantity: Decimal
    site: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_pair(cls, data: Any) -> Any:
        if isinstance(data, tuple | list) and len(data) == 2:
            return {"po_line": data[0], "quantity": data[1]}
        return data

    @field_validator("quantity")
    @classmethod
    def _not_zero(cls, value: Decimal) -> Decimal:
        if value == 0:
            raise ValueError("receipt quantity must not be zero")
        return value


class ReceiptSpec(_Frozen):
    """One goods receipt; the packing slip is its natural key in QAD (at most 20 characters)."""

    po_number: str = Field(min_length=1, max_length=8)
    packing_slip: str = Field(min_length=1, max_length=20)
    effective_date: dt.date
    lines: list[ReceiptLineSpec] = Field(min_length=1)


class MatchLine(_Frozen):
    """An invoice line matched against a PO line's received quantity (the three-way match)."""

    po_number: str = Field(min_length=1, max_length=8)
    po_line: int = Field(ge=1)
    quantity: Decimal = Field(gt=0)
    unit_price: Decimal = Field(ge=0)
    receiver_number: str | None = None


class GlLine(_Frozen):
    """A charge posted straight to a GL account (freight, fees)."""

    gl_code: str = Field(min_length=1)
    amount: Decimal
    description: str = ""
    sub_account: str = ""
    cost_centre: str = ""
    project: str = ""


class InvoiceSpec(_Frozen):
    """A supplier invoice or credit note; supplier + reference + type is its natural key."""

    supplier_code: str = Field(min_length=1, max_length=8)
    reference: str = Field(min_length=1)
    type: InvoiceType = "Invoice"
    invoice_date: dt.date
    posting_date: dt.date | None = None
    due_date: dt.date | None = None
    currency: str = Field(min_length=1)
    exchange_rate: Decimal = Field(default=Decimal(1), gt=0)
    amount: Decimal
    tax_amount: Decimal = Decimal(0)
    description: str = ""
    po_numbers: list[str] = Field(default_factory=list)
    matching: list[MatchLine] = Field(default_factory=list)
    gl_lines: list[GlLine] = Field(default_factory=list)


class ItemSpec(_Frozen):
    """An item master record to create in QAD."""

    code: str = Field(min_length=1)
    description: str = Field(min_length=1)
    uom: str = Field(min_length=1)
    gl_account: str = Field(min_length=1)
    unit_cost: Decimal = Field(ge=0)
    product_line: str = ""
    status: str = "ACTIVE"


# ---- records read from QAD ----------------------------------------------------------------------


class Supplier(_Frozen):
    code: str
    name: str
    currency: str
    credit_terms: str = ""
    business_relation: str = ""
    active: bool = True
    revision: str = ""


class PoLine(_Frozen):
    line: int
    item_code: str
    quantity_ordered: Decimal
    quantity_received: Decimal
    quantity_invoiced: Decimal
    unit_cost: Decimal
    gl_account: str
    status: str = "O"
    site: str = ""
    revision: str = ""

    @property
    def is_open(self) -> bool:
        return self.status != "C"


class PurchaseOrder(_Frozen):
    number: str
    supplier_code: str
    currency: str
    status: str
    remarks: str = ""
    credit_terms: str = ""
    ship_to_site: str = ""
    due_date: dt.date | None = None
    lines: list[PoLine] = Field(default_factory=list)
    revision: str = ""

    def line(self, number: int) -> PoLine | None:
        return next((line for line in self.lines if line.line == number), None)


class ReceiptLine(_Frozen):
    po_line: int
    quantity: Decimal
    item_code: str = ""


class Receipt(_Frozen):
    receiver_number: str
    po_number: str
    packing_slip: str
    effective_date: dt.date | None = None
    lines: list[ReceiptLine] = Field(default_factory=list)


class MatchedLine(_Frozen):
    """An invoice line as QAD matched it to a PO line, on the GL account QAD took for it (the
    item's account, as QAD does for inventory lines)."""

    po_number: str
    po_line: int
    quantity: Decimal
    unit_price: Decimal
    gl_account: str = ""


class SupplierInvoice(_Frozen):
    voucher: int
    posting_year: int
    daybook: str
    supplier_code: str
    reference: str
    type: str
    currency: str = ""
    amount: Decimal = Decimal(0)
    tax_amount: Decimal = Decimal(0)
    invoice_date: dt.date | None = None
    due_date: dt.date | None = None
    matching_status: str = ""
    po_numbers: list[str] = Field(default_factory=list)
    description: str = ""
    status_code: str = ""
    matched: list[MatchedLine] = Field(default_factory=list)

    @property
    def is_matched(self) -> bool:
        """QAD's receiver matching finished: postings exist and the invoice can be paid."""
        return self.matching_status.strip().casefold() == "finished"

    def belongs_to(self, po_number: str | None, description: str = "") -> bool:
        """Whether this is the document of the purchase on PO `po_number`.

        A supplier's invoice number can be on several purchases, each with its own QAD
        invoice, so supplier + reference does not name one document: the PO does. A document
        without a PO (a Service purchase) is told apart by its description, which carries the
        Cin7 order number. `po_number=None` (an intent recorded before POs were part of the
        key) accepts any.
        """
        if po_number is None:
            return True
        if po_number:
            return po_number in self.po_numbers
        return not self.po_numbers and (not description or self.description == description)


class GlAccount(_Frozen):
    code: str
    description: str
    type: str
    requires_sub_account: bool
    requires_cost_centre: bool
    active: bool


class Item(_Frozen):
    code: str
    description: str
    uom: str = ""
    product_line: str = ""
    status: str = ""
    gl_account: str = ""
    unit_cost: Decimal | None = None


class Site(_Frozen):
    code: str
    description: str


class CreditTerm(_Frozen):
    code: str
    description: str
    due_days: int | None = None


class Currency(_Frozen):
    code: str
    description: str


class TaxClass(_Frozen):
    code: str
    description: str
    percent: Decimal | None = None


# ---- changes to records QAD holds ---------------------------------------------------------------


class SupplierChange(_Frozen):
    """Supplier fields to set; `None` leaves a field as it is."""

    name: str | None = None
    currency: str | None = None
    credit_terms: str | None = None


class PoHeaderChange(_Frozen):
    """PO header fields to set (`status` "C" closes the PO); `None` leaves a field as it is."""

    remarks: str | None = None
    due_date: dt.date | None = None
    credit_terms: str | None = None
    status: Literal["O", "C"] | None = None


class PoLineChange(_Frozen):
    """PO line fields to set (`status` "C" closes the line, "O" reopens it)."""

    quantity: Decimal | None = None
    unit_cost: Decimal | None = None
    status: Literal["O", "C"] | None = None


class CreatedInvoice(_Frozen):
    """A channel's answer to creating an invoice: the invoice when QAD echoed it, and warnings."""

    invoice: SupplierInvoice | None = None
    warnings: list[FieldError] = Field(default_factory=list)


# ---- results of the idempotent operations -------------------------------------------------------


class SupplierResult(_Frozen):
    code: str
    created: bool
    updated: bool = False


class PurchaseOrderResult(_Frozen):
    """`lines_added`/`lines_updated`/`lines_closed` hold the PO line numbers touched."""

    number: str
    created: bool
    header_updated: bool = False
    lines_added: list[int] = Field(default_factory=list)
    lines_updated: list[int] = Field(default_factory=list)
    lines_closed: list[int] = Field(default_factory=list)
    status: str = "O"
    lines: list[PoLine] = Field(default_factory=list)


class ReceiptResult(_Frozen):
    """`verified` means the receiver was read back with the quantities asked for."""

    receiver_number: str
    created: bool
    verified: bool
    attempts: int = 0


class InvoiceResult(_Frozen):
    voucher: int
    created: bool
    matching_status: str
    warnings: list[FieldError] = Field(default_factory=list)
    posting_year: int | None = None
    daybook: str = ""
    status_code: str = ""
    matched: list[MatchedLine] = Field(default_factory=list)
