"""The sandbox's records: suppliers and purchases, and the statuses derived from them.

One `Purchase` shape holds both kinds. Its receiving and invoicing live in `Group`s, Cin7's
"invoicing and receiving" (I&R) groups that share one TaskID:

- a Simple purchase has at most one group, whose TaskID is the purchase ID; its receipt is
  the `StockReceived` object and its invoice the `Invoice` object;
- an Advanced purchase has any number of groups; each may carry a `StockReceived` block, a
  `PutAway` block (the source of truth for received stock: §6.4) and an invoice.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from ml_connector.errors import RecordRejected
from ml_connector.sandbox.cin7.formats import q2, q4

SIMPLE = "Simple Purchase"
ADVANCED = "Advanced Purchase"
SERVICE = "Service Purchase"  # charges only, invoice first, never received (§5.5, §6.1)
NA = "NOT AVAILABLE"
DRAFT = "DRAFT"
AUTHORISED = "AUTHORISED"
VOIDED = "VOIDED"
PAID = "PAID"
DONE = (AUTHORISED, PAID)  # an invoice that counts


class Cin7SandboxError(RecordRejected):
    """A request the real Cin7 Core would refuse; the HTTP layer answers it as
    `[{"ErrorCode": status, "Exception": message}]` with that status (400 unless stated)."""

    def __init__(self, message: str, *, status: int = 400) -> None:
        super().__init__(message, system="cin7", status=status, code=status)


@dataclass(slots=True)
class Address:
    id: str
    line1: str
    line2: str
    city: str
    state: str
    postcode: str
    country: str
    type: str  # Business | Billing | Shipping
    default_for_type: bool = True


@dataclass(slots=True)
class Contact:
    id: str
    name: str
    phone: str
    mobile: str
    email: str
    default: bool
    fax: str = ""
    website: str | None = None
    comment: str | None = None
    include_in_email: bool = True


@dataclass(slots=True)
class Supplier:
    id: str
    name: str
    currency: str
    payment_term: str
    tax_rule: str
    modified: datetime
    status: str = "Active"
    account_payable: str = "800"
    discount: Decimal = Decimal(0)
    comments: str | None = None
    tax_number: str | None = ""
    attribute_set: str | None = None
    attributes: list[str | None] = field(default_factory=lambda: [None] * 10)
    addresses: list[Address] = field(default_factory=list)
    contacts: list[Contact] = field(default_factory=list)
    skus: tuple[str, ...] = ()  # what this supplier usually sells
    code: str = ""  # prefix of its invoice numbers

    def default_contact(self) -> Contact | None:
        for contact in self.contacts:
            if contact.default:
                return contact
        return self.contacts[0] if self.contacts else None

    def address(self, kind: str) -> Address | None:
        for address in self.addresses:
            if address.type == kind:
                return address
        return self.addresses[0] if self.addresses else None


@dataclass(frozen=True, slots=True)
class Line:
    """An order, invoice or credit-note line. `total`/`tax` follow the Exclusive tax maths."""

    product_id: str | None
    sku: str
    name: str
    quantity: Decimal
    price: Decimal
    discount: Decimal
    tax_rule: str
    total: Decimal
    tax: Decimal
    supplier_sku: str = ""
    account: str = ""
    comment: str = ""
    non_inventory: bool = False  # a Service or Non Inventory product: never received

    @classmethod
    def make(
        cls,
        *,
        product_id: str | None,
        sku: str,
        name: str,
        quantity: Decimal,
        price: Decimal,
        discount: Decimal,
        tax_rule: str,
        tax_percent: Decimal,
        supplier_sku: str = "",
        account: str = "",
        comment: str = "",
        non_inventory: bool = False,
    ) -> Line:
        total = q4(quantity * price * (1 - discount / 100))
        return cls(
            product_id=product_id,
            sku=sku,
            name=name,
            quantity=quantity,
            price=price,
            discount=discount,
            tax_rule=tax_rule,
            total=total,
            tax=q4(total * tax_percent / 100),
            supplier_sku=supplier_sku,
            account=account,
            comment=comment,
            non_inventory=non_inventory,
        )


@dataclass(frozen=True, slots=True)
class Charge:
    """An additional charge (freight): no product, booked to `account`."""

    description: str
    reference: str
    quantity: Decimal
    price: Decimal
    discount: Decimal
    tax_rule: str
    total: Decimal
    tax: Decimal
    account: str = "425"

    @classmethod
    def make(
        cls, description: str, reference: str, price: Decimal, tax_rule: str, tax_percent: Decimal
    ) -> Charge:
        total = q4(price)
        tax = q4(total * tax_percent / 100)
        return cls(description, reference, Decimal(1), price, Decimal(0), tax_rule, total, tax)


@dataclass(frozen=True, slots=True)
class StockLine:
    """One receipt event for one product at one location (or bin); `card_id` is its key."""

    card_id: str
    on: date
    quantity: Decimal
    product_id: str
    sku: str
    name: str
    location: str | None
    location_id: str | None
    supplier_sku: str = ""
    batch: str = ""


@dataclass(slots=True)
class Payment:
    id: str
    reference: str
    amount: Decimal
    date_paid: date
    created: datetime
    currency_rate: Decimal
    account: str = "090"


@dataclass(slots=True)
class Invoice:
    invoice_number: str
    status: str
    invoice_date: date | None = None
    due_date: date | None = None
    lines: list[Line] = field(default_factory=list)
    charges: list[Charge] = field(default_factory=list)
    payments: list[Payment] = field(default_factory=list)

    @property
    def total_before_tax(self) -> Decimal:
        return sum((x.total for x in self.lines), Decimal(0)) + sum(
            (c.total for c in self.charges), Decimal(0)
        )

    @property
    def tax(self) -> Decimal:
        return sum((x.tax for x in self.lines), Decimal(0)) + sum(
            (c.tax for c in self.charges), Decimal(0)
        )

    @property
    def total(self) -> Decimal:
        return self.total_before_tax + self.tax

    @property
    def paid(self) -> Decimal:
        return sum((p.amount for p in self.payments), Decimal(0))


@dataclass(slots=True)
class Group:
    """One I&R group. For a Simple purchase only `sr_*` and `invoice` are used."""

    task_id: str
    number: int
    sr_status: str = NA
    sr_lines: list[StockLine] = field(default_factory=list)
    putaway_status: str = NA
    putaway_lines: list[StockLine] = field(default_factory=list)
    invoice: Invoice | None = None


@dataclass(slots=True)
class UnstockLine:
    card_id: str
    on: date
    quantity: Decimal
    product_id: str
    sku: str
    name: str
    location: str | None


@dataclass(slots=True)
class CreditNote:
    task_id: str
    number: str  # Cin7's own, CR-00001
    invoice_number: str  # the supplier's credit note / credited invoice reference
    credit_date: date
    status: str
    lines: list[Line] = field(default_factory=list)
    unstock_status: str = NA
    unstock_lines: list[UnstockLine] = field(default_factory=list)

    @property
    def total_before_tax(self) -> Decimal:
        return sum((x.total for x in self.lines), Decimal(0))

    @property
    def tax(self) -> Decimal:
        return sum((x.tax for x in self.lines), Decimal(0))


@dataclass(slots=True)
class Purchase:
    id: str
    seq: int
    type: str
    approach: str  # INVOICE | STOCK
    supplier_id: str
    supplier_name: str
    contact: str
    phone: str
    billing: Address | None
    currency: str
    currency_rate: Decimal
    tax_rule: str
    terms: str
    location: str
    order_date: date
    updated: datetime
    required_by: date | None = None
    note: str = ""
    order_status: str = NA
    memo: str = ""
    lines: list[Line] = field(default_factory=list)
    charges: list[Charge] = field(default_factory=list)
    groups: list[Group] = field(default_factory=list)
    credits: list[CreditNote] = field(default_factory=list)
    voided: bool = False
    base_currency: str = "USD"
    inventory_account: str = "630"
    attributes: list[str] = field(default_factory=lambda: [""] * 10)
    cache: dict[str, Any] = field(default_factory=dict)  # rendered JSON, dropped on change

    @property
    def order_number(self) -> str:
        return f"PO-{self.seq:05d}"

    @property
    def advanced(self) -> bool:
        """Advanced and Service purchases: sub-documents are arrays of task blocks."""
        return self.type != SIMPLE

    @property
    def service(self) -> bool:
        return self.type == SERVICE

    @property
    def order_total_before_tax(self) -> Decimal:
        return sum((x.total for x in self.lines), Decimal(0)) + sum(
            (c.total for c in self.charges), Decimal(0)
        )

    @property
    def order_tax(self) -> Decimal:
        return sum((x.tax for x in self.lines), Decimal(0)) + sum(
            (c.tax for c in self.charges), Decimal(0)
        )

    def group(self) -> Group:
        """The Simple purchase's one group, created on first use."""
        if not self.groups:
            self.groups.append(Group(task_id=self.id, number=0))
        return self.groups[0]

    def invoices(self) -> list[Invoice]:
        return [g.invoice for g in self.groups if g.invoice is not None]

    def receipt_lines(self) -> list[StockLine]:
        """Received stock: the authorised StockReceived (Simple) or PutAway blocks (Advanced)."""
        out: list[StockLine] = []
        for g in self.groups:
            if self.advanced:
                if g.putaway_status == AUTHORISED:
                    out.extend(g.putaway_lines)
            elif g.sr_status == AUTHORISED:
                out.extend(g.sr_lines)
        return out


def by_sku(items: list[Line] | list[StockLine]) -> dict[str, Decimal]:
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for item in items:
        totals[item.sku] += item.quantity
    return dict(totals)


def ordered(p: Purchase) -> dict[str, Decimal]:
    return by_sku(p.lines)


def ordered_stock(p: Purchase) -> dict[str, Decimal]:
    """What the order brings into stock: Service and Non Inventory lines are never received."""
    return by_sku([x for x in p.lines if not x.non_inventory])


def received(p: Purchase) -> dict[str, Decimal]:
    return by_sku(p.receipt_lines())


def invoiced(p: Purchase, *, stock_only: bool = False) -> dict[str, Decimal]:
    lines: list[Line] = []
    for inv in p.invoices():
        if inv.status in DONE:
            lines.extend(x for x in inv.lines if not (stock_only and x.non_inventory))
    return by_sku(lines)


def _coverage(have: dict[str, Decimal], want: dict[str, Decimal]) -> str:
    """NONE, PARTIAL or FULL: how far `have` covers `want`, product by product."""
    if not any(q > 0 for q in have.values()):
        return "NONE"
    if all(have.get(sku, Decimal(0)) >= q for sku, q in want.items()):
        return "FULL"
    return "PARTIAL"


@dataclass(frozen=True, slots=True)
class Statuses:
    status: str
    order: str
    stock_received: str
    invoice: str
    credit_note: str
    unstock: str
    receiving: str  # CombinedReceivingStatus
    invoicing: str  # CombinedInvoiceStatus
    payment: str  # CombinedPaymentStatus


def statuses(p: Purchase) -> Statuses:
    """Every status the list row and the detail show, derived from the records (§5.2, §6.2)."""
    credit = p.credits[0] if p.credits else None
    credit_status = credit.status if credit else NA
    unstock_status = credit.unstock_status if credit else NA
    credited = any(c.status == AUTHORISED for c in p.credits)
    invoices = p.invoices()
    if p.service:
        sr_status = NA
        done = [i for i in invoices if i.status in DONE]
        inv_status = invoices[0].status if invoices else NA
        if any(i.status == AUTHORISED for i in invoices):
            inv_status = AUTHORISED
        receiving = "NONE"
        invoicing = "FULL" if done else "NONE"
    elif p.advanced:
        receiving = _coverage(received(p), ordered_stock(p))
        invoicing = _coverage(invoiced(p), ordered(p))
        if not any(g.putaway_status != NA or g.sr_status != NA for g in p.groups):
            sr_status = NA
        else:
            sr_status = AUTHORISED if receiving == "FULL" else DRAFT
        if any(i.status == AUTHORISED for i in invoices):
            inv_status = AUTHORISED
        elif invoices and all(i.status == PAID for i in invoices):
            inv_status = PAID
        elif invoices:
            inv_status = invoices[0].status
        else:
            inv_status = NA
    else:
        group = p.groups[0] if p.groups else None
        sr_status = group.sr_status if group else NA
        inv = group.invoice if group else None
        inv_status = inv.status if inv else NA
        receiving = {AUTHORISED: "FULL", DRAFT: "PARTIAL"}.get(sr_status, "NONE")
        invoicing = "FULL" if inv_status in DONE else "NONE"
    if p.voided:
        return Statuses(
            VOIDED,
            VOIDED,
            sr_status,
            inv_status,
            credit_status,
            unstock_status,
            VOIDED,
            NA,
            VOIDED,
        )
    if p.order_status != AUTHORISED:
        return Statuses(
            "ORDERING",
            p.order_status,
            sr_status,
            inv_status,
            credit_status,
            unstock_status,
            NA,
            NA,
            "UNPAID",
        )
    combined_receiving = {
        "NONE": "NOT RECEIVED",
        "PARTIAL": "PARTIALLY RECEIVED",
        "FULL": "FULLY RECEIVED",
    }[receiving]
    if p.service:
        combined_receiving = NA
    combined_invoice = {
        "NONE": "NOT INVOICED",
        "PARTIAL": "PARTIALLY INVOICED",
        "FULL": "INVOICED",
    }[invoicing]
    if credited and invoicing != "NONE":
        combined_invoice += " / CREDITED"
    if credited:
        if invoicing != "NONE":
            status = "CREDITED"
        else:
            status = "RECEIVED / CREDITED" if receiving == "FULL" else "RECEIVING / CREDITED"
    elif invoicing == "FULL" and receiving == "FULL":
        status = "COMPLETED"
    elif invoicing == "PARTIAL":
        status = "PARTIALLY INVOICED"
    elif invoicing == "FULL":
        status = "INVOICED"
    elif receiving == "FULL":
        status = "RECEIVED"
    elif receiving == "PARTIAL":
        status = "RECEIVING"
    else:
        status = "ORDERED"
    due = sum((i.total for i in invoices if i.status in DONE), Decimal(0))
    due -= sum(
        (c.total_before_tax + c.tax for c in p.credits if c.status == AUTHORISED), Decimal(0)
    )
    due, paid = q2(due), q2(sum((i.paid for i in invoices), Decimal(0)))
    if paid <= 0:
        payment = "UNPAID"
    elif credited and paid > due:
        payment = "OVERPAID / CREDITED"
    elif paid >= due:
        payment = "PAID"
    else:
        payment = "PARTIALLY PAID"
    return Statuses(
        status,
        p.order_status,
        sr_status,
        inv_status,
        credit_status,
        unstock_status,
        combined_receiving,
        combined_invoice,
        payment,
    )
