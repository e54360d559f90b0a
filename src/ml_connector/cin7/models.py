"""Typed Cin7 Core documents, tolerant of every quirk in the reference, with the raw JSON kept.

Quirks absorbed here (reference §5, §7): timestamps with or without `Z` and with 0-7 fraction
digits (naive values are UTC), numbers sent as strings, nulls where numbers belong, upper-case
GUIDs, the `InvocieNumber` typo, and the two shapes of a purchase: Simple (sub-documents are
objects) and Advanced (arrays of task blocks, received stock in `PutAway`). `Purchase.from_cin7`
normalises both into one shape: an order, a list of receipts, a list of invoices, a list of
credit notes.

A payload that cannot be read at all raises `InvalidPayload` with reasons a finance user can
read; checks of meaning (zero quantities, totals that do not add up) belong to the planner.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Annotated, Any, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
)

from ml_connector.errors import InvalidPayload

_STAMP = re.compile(
    r"^(?P<date>\d{4}-\d{2}-\d{2})(?:[T ](?P<h>\d{2}):(?P<m>\d{2})(?::(?P<s>\d{2})"
    r"(?:\.(?P<frac>\d{1,7}))?)?)?\s*(?P<tz>Z|[+-]\d{2}:?\d{2})?$"
)

CalendarDay = date  # a field named `date` would shadow the type inside a class

EMPTY_GUID = "00000000-0000-0000-0000-000000000000"
ORDER_NUMBER_MAX = 128  # longer is not a Cin7 order number; the store keeps 128 characters
PURCHASE_TYPES = ("Simple Purchase", "Advanced Purchase", "Service Purchase")
APPROACHES = ("INVOICE", "STOCK")  # invoice first, stock first
TAX_CALCULATIONS = ("Inclusive", "Exclusive")
STAGE_STATUSES = ("NOT AVAILABLE", "DRAFT", "AUTHORISED", "VOIDED")  # order, receipt, credit
INVOICE_STATUSES = (*STAGE_STATUSES, "PAID")
_GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def parse_timestamp(value: str) -> datetime:
    """Parse a Cin7 timestamp into an aware UTC datetime.

    >>> parse_timestamp("2026-08-28T12:59:44.05")
    datetime.datetime(2026, 8, 28, 12, 59, 44, 50000, tzinfo=datetime.timezone.utc)
    """
    match = _STAMP.match(value.strip())
    if not match:
        raise ValueError(f"not a Cin7 date: {_shown(value)}")
    year, month, day = (int(part) for part in match["date"].split("-"))
    frac = (match["frac"] or "").ljust(7, "0")  # 100 ns ticks, as .NET prints them
    micro = int(frac[:6])
    stamp = datetime(
        year,
        month,
        day,
        int(match["h"] or 0),
        int(match["m"] or 0),
        int(match["s"] or 0),
        micro,
        tzinfo=UTC,
    )
    tz = match["tz"]
    if tz and tz != "Z":
        sign = 1 if tz[0] == "+" else -1
        digits = tz[1:].replace(":", "")
        offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
        stamp = stamp.replace(tzinfo=timezone(sign * offset)).astimezone(UTC)
    return stamp


def format_timestamp(value: datetime) -> str:
    """Format for Cin7 query parameters: `yyyy-MM-ddTHH:mm:ss.fff`, UTC, no zone suffix."""
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}"


def _stamp(value: Any) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return _parsed_stamp(str(value))


@lru_cache(maxsize=1024)
def _parsed_stamp(text: str) -> datetime:
    """`parse_timestamp`, remembered: a purchase repeats its days on every line and block."""
    return parse_timestamp(text)


def _day(value: Any) -> date | None:
    stamp = _stamp(value)
    return stamp.date() if stamp else None


def to_decimal(value: Any) -> Decimal | None:
    """Numbers, numeric strings and nulls, as Decimal (None stays None)."""
    if type(value) is int:  # the most common: exact as it is, no text needed
        return Decimal(value)
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise ValueError("a number was expected, not true/false")
    if isinstance(value, float):
        value = repr(value)
        text = value
    else:
        text = str(value).strip()
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"{value!r} is not a number") from None
    if not number.is_finite():
        raise ValueError(f"{value!r} is not a number")
    return number


def _decimal_or_zero(value: Any) -> Decimal:
    return to_decimal(value) or Decimal(0)


def _shown(value: Any, limit: int = 40) -> str:
    """A value quoted for a reason a person reads, cut short when it is long."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _guid(value: Any) -> str | None:
    if value is None or value == "":
        return None
    return str(value).strip().lower()


def _one_of(allowed: tuple[str, ...], *, blank: bool = False) -> Callable[[str], str]:
    """A Cin7 vocabulary, matched case-insensitively; `blank` lets an empty value through."""
    folded = {word.casefold() for word in allowed}
    listed = ", ".join(allowed)

    def check(value: str) -> str:
        word = value.strip()
        if (blank and not word) or word.casefold() in folded:
            return value
        raise ValueError(f"{_shown(value)} is not one of {listed}")

    return check


def _optional_guid(value: Any) -> str | None:
    return None if value is None or value == "" else _strict_guid(value)


def _strict_guid(value: Any) -> str:
    guid = _guid(value)
    if guid is None or not _GUID.match(guid):
        raise ValueError(f"not a GUID: {_shown(value)}")
    return guid


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in {"true", "1", "yes"}
    return bool(value)


Stamp = Annotated[datetime | None, BeforeValidator(_stamp)]
Day = Annotated[date | None, BeforeValidator(_day)]
Amount = Annotated[Decimal, BeforeValidator(_decimal_or_zero)]
MaybeAmount = Annotated[Decimal | None, BeforeValidator(to_decimal)]
Guid = Annotated[str | None, BeforeValidator(_guid)]
StrictGuid = Annotated[str, BeforeValidator(_strict_guid)]
OptionalGuid = Annotated[str | None, BeforeValidator(_optional_guid)]
PurchaseType = Annotated[str, BeforeValidator(_text), AfterValidator(_one_of(PURCHASE_TYPES))]
Approach = Annotated[str, BeforeValidator(_text), AfterValidator(_one_of(APPROACHES))]
TaxCalculation = Annotated[str, BeforeValidator(_text), AfterValidator(_one_of(TAX_CALCULATIONS))]
StageStatus = Annotated[
    str, BeforeValidator(_text), AfterValidator(_one_of(STAGE_STATUSES, blank=True))
]
InvoiceStatus = Annotated[
    str, BeforeValidator(_text), AfterValidator(_one_of(INVOICE_STATUSES, blank=True))
]
Text = Annotated[str, BeforeValidator(_text)]
Flag = Annotated[bool, BeforeValidator(_bool)]


class Cin7Model(BaseModel):
    """Field names are ours; aliases are Cin7's, so `model_validate(cin7_json)` works."""

    model_config = ConfigDict(frozen=True, populate_by_name=True, extra="ignore")


M = TypeVar("M", bound=Cin7Model)


def _read(model: type[M], payload: Mapping[str, Any], what: str) -> M:
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        raise InvalidPayload([_explain(what, err) for err in exc.errors()]) from None


def read_document(model: type[M], payload: Mapping[str, Any], what: str) -> M:
    """Validate one Cin7 document as `model`; `InvalidPayload` with readable reasons if not."""
    if not isinstance(payload, Mapping):
        raise InvalidPayload([f"{what}: the document is not a JSON object"])
    return _read(model, payload, what)


def _explain(what: str, err: Mapping[str, Any]) -> str:
    where = ".".join(str(part) for part in err.get("loc", ()))
    message = str(err.get("msg", "invalid")).removeprefix("Value error, ")
    return f"{what}: {where or 'document'}: {message}"


# --- Suppliers -------------------------------------------------------------------------------


class Address(Cin7Model):
    id: Guid = Field(None, alias="ID")
    line1: Text = Field("", alias="Line1")
    line2: Text = Field("", alias="Line2")
    city: Text = Field("", alias="City")
    state: Text = Field("", alias="State")
    postcode: Text = Field("", alias="Postcode")
    country: Text = Field("", alias="Country")
    type: Text = Field("", alias="Type")
    default_for_type: Flag = Field(False, alias="DefaultForType")


class Contact(Cin7Model):
    id: Guid = Field(None, alias="ID")
    name: Text = Field("", alias="Name")
    phone: Text = Field("", alias="Phone")
    email: Text = Field("", alias="Email")
    default: Flag = Field(False, alias="Default")


class Supplier(Cin7Model):
    id: Guid = Field(alias="ID")
    name: Text = Field(alias="Name")
    currency: Text = Field("", alias="Currency")
    payment_term: Text = Field("", alias="PaymentTerm")
    account_payable: Text = Field("", alias="AccountPayable")
    tax_rule: Text = Field("", alias="TaxRule")
    status: Text = Field("Active", alias="Status")
    discount: Amount = Field(Decimal(0), alias="Discount")
    tax_number: Text = Field("", alias="TaxNumber")
    comments: Text = Field("", alias="Comments")
    last_modified_on: Stamp = Field(None, alias="LastModifiedOn")
    addresses: list[Address] = Field(default_factory=list, alias="Addresses")
    contacts: list[Contact] = Field(default_factory=list, alias="Contacts")
    raw: dict[str, Any] = Field(default_factory=dict, exclude=True, repr=False)

    @classmethod
    def from_cin7(cls, payload: Mapping[str, Any]) -> Supplier:
        supplier = _read(
            cls,
            {
                **payload,
                "Addresses": payload.get("Addresses") or [],
                "Contacts": payload.get("Contacts") or [],
            },
            "supplier",
        )
        return supplier.model_copy(update={"raw": dict(payload)})

    @property
    def last_modified_raw(self) -> str:
        return _text(self.raw.get("LastModifiedOn"))

    @property
    def business_address(self) -> Address | None:
        ranked = sorted(
            self.addresses, key=lambda a: (a.type != "Business", not a.default_for_type)
        )
        return ranked[0] if ranked else None

    @property
    def default_contact(self) -> Contact | None:
        ranked = sorted(self.contacts, key=lambda c: not c.default)
        return ranked[0] if ranked else None


# --- Purchase list ---------------------------------------------------------------------------


class PurchaseListRow(Cin7Model):
    """One `purchaseList` row: what the poll routes and dedups on, so it is read strictly."""

    id: StrictGuid = Field(alias="ID")
    order_number: Text = Field("", alias="OrderNumber", max_length=ORDER_NUMBER_MAX)
    type: PurchaseType = Field("Simple Purchase", alias="Type")
    status: Text = Field("", alias="Status")
    supplier_id: OptionalGuid = Field(None, alias="SupplierID")
    supplier: Text = Field("", alias="Supplier")
    order_date: Day = Field(None, alias="OrderDate")
    order_status: Text = Field("", alias="OrderStatus")
    stock_received_status: Text = Field("", alias="StockReceivedStatus")
    invoice_status: Text = Field("", alias="InvoiceStatus")
    credit_note_status: Text = Field("", alias="CreditNoteStatus")
    combined_receiving_status: Text = Field("", alias="CombinedReceivingStatus")
    combined_invoice_status: Text = Field("", alias="CombinedInvoiceStatus")
    invoice_number: Text = Field("", alias="InvoiceNumber")
    blind_receipt: Flag = Field(False, alias="BlindReceipt")
    last_updated: Stamp = Field(None, alias="LastUpdatedDate")
    last_updated_raw: Text = Field("", alias="LastUpdatedDate_raw")

    @classmethod
    def from_cin7(cls, payload: Mapping[str, Any]) -> PurchaseListRow:
        raw_stamp = _text(payload.get("LastUpdatedDate"))
        return _read(cls, {**payload, "LastUpdatedDate_raw": raw_stamp}, "purchase list row")

    @property
    def is_simple(self) -> bool:
        return self.type.strip().lower().startswith("simple")


# --- Purchase documents ----------------------------------------------------------------------


class Line(Cin7Model):
    """An order, invoice or credit-note line (invoice lines carry `Account`).

    `non_inventory` is Cin7's `NonInventory` flag (live data, reference §5.3): the line's product
    is a `Service` or `Non Inventory` product, which is never received into stock.
    """

    product_id: Guid = Field(None, alias="ProductID")
    sku: Text = Field("", alias="SKU")
    name: Text = Field("", alias="Name")
    quantity: MaybeAmount = Field(None, alias="Quantity")
    price: MaybeAmount = Field(None, alias="Price")
    discount: Amount = Field(Decimal(0), alias="Discount")
    tax: Amount = Field(Decimal(0), alias="Tax")
    tax_rule: Text = Field("", alias="TaxRule")
    total: MaybeAmount = Field(None, alias="Total")
    account: Text = Field("", alias="Account")
    supplier_sku: Text = Field("", alias="SupplierSKU")
    comment: Text = Field("", alias="Comment")
    non_inventory: Flag = Field(False, alias="NonInventory")


class Charge(Cin7Model):
    """An additional charge (freight, duty, ...): a GL line, not an item line."""

    description: Text = Field("", alias="Description")
    reference: Text = Field("", alias="Reference")
    quantity: Amount = Field(Decimal(1), alias="Quantity")
    price: MaybeAmount = Field(None, alias="Price")
    discount: Amount = Field(Decimal(0), alias="Discount")
    tax: Amount = Field(Decimal(0), alias="Tax")
    tax_rule: Text = Field("", alias="TaxRule")
    total: MaybeAmount = Field(None, alias="Total")
    account: Text = Field("", alias="Account")


class StockLine(Cin7Model):
    """A received (or unstocked) quantity of one product on one day."""

    date: Day = Field(None, alias="Date")
    quantity: MaybeAmount = Field(None, alias="Quantity")
    product_id: Guid = Field(None, alias="ProductID")
    sku: Text = Field("", alias="SKU")
    name: Text = Field("", alias="Name")
    location: Text = Field("", alias="Location")
    location_id: Guid = Field(None, alias="LocationID")
    batch_sn: Text = Field("", alias="BatchSN")
    card_id: Guid = Field(None, alias="CardID")
    non_inventory: Flag = Field(False, alias="NonInventory")


class Order(Cin7Model):
    status: StageStatus = Field("NOT AVAILABLE", alias="Status")
    memo: Text = Field("", alias="Memo")
    lines: list[Line] = Field(default_factory=list, alias="Lines")
    charges: list[Charge] = Field(default_factory=list, alias="AdditionalCharges")
    total_before_tax: MaybeAmount = Field(None, alias="TotalBeforeTax")
    tax: Amount = Field(Decimal(0), alias="Tax")
    total: MaybeAmount = Field(None, alias="Total")


class Receipt(Cin7Model):
    """One delivery: the lines of one receiving block dated one day.

    `key` is stable across polls: the day for a Simple purchase, `<TaskID>/<day>` for an
    Advanced one, so the planner can carry it to QAD as the packing slip.
    """

    key: str
    task_id: str | None = None
    status: str
    date: CalendarDay | None = None
    lines: list[StockLine] = Field(default_factory=list)


class Invoice(Cin7Model):
    task_id: Guid = Field(None, alias="TaskID")
    number: Text = Field("", alias="InvoiceNumber")
    date: Day = Field(None, alias="InvoiceDate")
    due_date: Day = Field(None, alias="InvoiceDueDate")
    status: InvoiceStatus = Field("NOT AVAILABLE", alias="Status")
    currency_rate: MaybeAmount = Field(None, alias="CurrencyRate")
    lines: list[Line] = Field(default_factory=list, alias="Lines")
    charges: list[Charge] = Field(default_factory=list, alias="AdditionalCharges")
    total_before_tax: MaybeAmount = Field(None, alias="TotalBeforeTax")
    tax: Amount = Field(Decimal(0), alias="Tax")
    total: MaybeAmount = Field(None, alias="Total")
    paid: Amount = Field(Decimal(0), alias="Paid")


class CreditNote(Cin7Model):
    task_id: Guid = Field(None, alias="TaskID")
    number: Text = Field("", alias="CreditNoteNumber")
    date: Day = Field(None, alias="CreditNoteDate")
    status: StageStatus = Field("NOT AVAILABLE", alias="Status")
    lines: list[Line] = Field(default_factory=list, alias="Lines")
    charges: list[Charge] = Field(default_factory=list, alias="AdditionalCharges")
    total_before_tax: MaybeAmount = Field(None, alias="TotalBeforeTax")
    tax: Amount = Field(Decimal(0), alias="Tax")
    total: MaybeAmount = Field(None, alias="Total")
    unstock_status: str = "NOT AVAILABLE"
    unstock: list[StockLine] = Field(default_factory=list)


class Purchase(Cin7Model):
    """A purchase, Simple, Advanced or Service, in one normalised shape.

    A Service purchase (`Type: Service Purchase`, `IsServiceOnly`) holds additional charges
    only, is always invoice first and is never received (reference §5.5, §6.1).
    """

    id: Guid = Field(alias="ID")
    order_number: Text = Field("", alias="OrderNumber", max_length=ORDER_NUMBER_MAX)
    type: PurchaseType = Field("Simple Purchase", alias="Type")
    approach: Approach = Field("STOCK", alias="Approach")
    status: Text = Field("", alias="Status")
    supplier_id: Guid = Field(None, alias="SupplierID")
    supplier: Text = Field("", alias="Supplier")
    blind_receipt: Flag = Field(False, alias="BlindReceipt")
    service_only: Flag = Field(False, alias="IsServiceOnly")
    base_currency: Text = Field("", alias="BaseCurrency")
    currency: Text = Field("", alias="SupplierCurrency")
    currency_rate: MaybeAmount = Field(None, alias="CurrencyRate")
    tax_rule: Text = Field("", alias="TaxRule")
    tax_calculation: TaxCalculation = Field("Exclusive", alias="TaxCalculation")
    terms: Text = Field("", alias="Terms")
    location: Text = Field("", alias="Location")
    order_date: Day = Field(None, alias="OrderDate")
    required_by: Day = Field(None, alias="RequiredBy")
    note: Text = Field("", alias="Note")
    inventory_account: Text = Field("", alias="InventoryAccount")
    last_updated: Stamp = Field(None, alias="LastUpdatedDate")
    order: Order = Field(default_factory=Order, alias="Order")
    receipts: list[Receipt] = Field(default_factory=list)
    invoices: list[Invoice] = Field(default_factory=list)
    credit_notes: list[CreditNote] = Field(default_factory=list)
    raw: dict[str, Any] = Field(default_factory=dict, exclude=True, repr=False)

    @property
    def is_advanced(self) -> bool:
        return not self.type.strip().lower().startswith("simple")

    @property
    def is_service(self) -> bool:
        """A Service purchase: charges only, invoiced without goods or a PO."""
        return self.service_only or self.type.strip().lower().startswith("service")

    @property
    def last_updated_raw(self) -> str:
        return _text(self.raw.get("LastUpdatedDate"))

    @classmethod
    def from_cin7(cls, payload: Mapping[str, Any]) -> Purchase:
        """Read a `/purchase` (Simple) or `/advanced-purchase` detail into one shape."""
        if not isinstance(payload, Mapping):
            raise InvalidPayload(["purchase: the document is not a JSON object"])
        advanced = any(
            isinstance(payload.get(key), list) for key in ("StockReceived", "PutAway", "Invoice")
        )
        header = {
            key: value
            for key, value in payload.items()
            if key not in {"StockReceived", "PutAway", "Invoice", "CreditNote"}
        }
        if advanced and not header.get("Type"):
            header["Type"] = "Advanced Purchase"
        try:
            receipts = _advanced_receipts(payload) if advanced else _simple_receipts(payload)
            invoices = [
                _read(Invoice, _fix_invoice(block), "invoice")
                for block in _blocks(payload.get("Invoice"))
            ]
            credit_notes = [_credit_note(block) for block in _blocks(payload.get("CreditNote"))]
        except ValidationError as exc:
            raise InvalidPayload([_explain("purchase", err) for err in exc.errors()]) from None
        purchase = _read(cls, header, f"purchase {payload.get('OrderNumber') or ''}".strip())
        return purchase.model_copy(
            update={
                "receipts": receipts,
                "invoices": [inv for inv in invoices if inv.status != "NOT AVAILABLE"],
                "credit_notes": [cn for cn in credit_notes if cn.status != "NOT AVAILABLE"],
                "raw": dict(payload),
            }
        )


def _blocks(value: Any) -> list[Mapping[str, Any]]:
    """A Simple sub-document (object) or an Advanced one (array of task blocks), as a list."""
    if value is None:
        return []
    if isinstance(value, Mapping):
        return [value]
    if isinstance(value, list):
        return [block for block in value if isinstance(block, Mapping)]
    raise InvalidPayload([f"purchase: expected an object or a list, got {type(value).__name__}"])


def _fix_invoice(block: Mapping[str, Any]) -> dict[str, Any]:
    fixed = dict(block)
    if not fixed.get("InvoiceNumber") and fixed.get("InvocieNumber"):
        fixed["InvoiceNumber"] = fixed["InvocieNumber"]  # typo in Cin7's own examples
    return fixed


def _group_by_day(
    key_prefix: str, task_id: str | None, status: str, lines: list[StockLine]
) -> list[Receipt]:
    days: dict[date | None, list[StockLine]] = {}
    for line in lines:
        days.setdefault(line.date, []).append(line)
    receipts = []
    for day, day_lines in sorted(days.items(), key=lambda item: item[0] or date.min):
        label = day.isoformat() if day else "undated"
        key = f"{key_prefix}/{label}" if key_prefix else label
        receipts.append(Receipt(key=key, task_id=task_id, status=status, date=day, lines=day_lines))
    return receipts


def _stock_lines(block: Mapping[str, Any]) -> list[StockLine]:
    return [StockLine.model_validate(line) for line in block.get("Lines") or []]


_STAGE_STATUS = _one_of(STAGE_STATUSES)


def _block_status(block: Mapping[str, Any], where: str) -> str:
    """A receiving or unstock block's status, one of Cin7's (an empty one is NOT AVAILABLE)."""
    status = _text(block.get("Status")) or "NOT AVAILABLE"
    try:
        return _STAGE_STATUS(status)
    except ValueError as exc:
        raise InvalidPayload([f"purchase: {where}.Status: {exc}"]) from None


def _simple_receipts(payload: Mapping[str, Any]) -> list[Receipt]:
    receipts: list[Receipt] = []
    for block in _blocks(payload.get("StockReceived")):
        status = _block_status(block, "StockReceived")
        receipts += _group_by_day("", None, status, _stock_lines(block))
    return receipts


def _advanced_receipts(payload: Mapping[str, Any]) -> list[Receipt]:
    """PutAway blocks are the truth for received stock; SR blocks describe the same goods."""
    put_away = {_guid(b.get("TaskID")) or "": b for b in _blocks(payload.get("PutAway"))}
    received = {_guid(b.get("TaskID")) or "": b for b in _blocks(payload.get("StockReceived"))}
    receipts: list[Receipt] = []
    for task_id in sorted(set(put_away) | set(received)):
        block = put_away.get(task_id)
        if block is None or not block.get("Lines"):
            block = received.get(task_id, block)
        if block is None:
            continue
        status = _block_status(
            block, "PutAway" if block is put_away.get(task_id) else "StockReceived"
        )
        receipts += _group_by_day(task_id or "task", task_id or None, status, _stock_lines(block))
    return receipts


def _credit_note(block: Mapping[str, Any]) -> CreditNote:
    unstock_blocks = _blocks(block.get("Unstock"))
    lines = [line for ub in unstock_blocks for line in _stock_lines(ub)]
    statuses = [_block_status(ub, "CreditNote.Unstock") for ub in unstock_blocks]
    status = "AUTHORISED" if "AUTHORISED" in statuses else (statuses[0] if statuses else "")
    base = _read(CreditNote, {k: v for k, v in block.items() if k != "Unstock"}, "credit note")
    return base.model_copy(update={"unstock": lines, "unstock_status": status or "NOT AVAILABLE"})


# --- Reference data --------------------------------------------------------------------------


class Account(Cin7Model):
    code: Text = Field(alias="Code")
    name: Text = Field("", alias="Name")
    type: Text = Field("", alias="Type")
    cls: Text = Field("", alias="Class")
    status: Text = Field("ACTIVE", alias="Status")


class Product(Cin7Model):
    id: Guid = Field(None, alias="ID")
    sku: Text = Field(alias="SKU")
    name: Text = Field("", alias="Name")
    category: Text = Field("", alias="Category")
    type: Text = Field("Stock", alias="Type")
    uom: Text = Field("", alias="UOM")
    status: Text = Field("Active", alias="Status")
    inventory_account: Text = Field("", alias="InventoryAccount")
    cogs_account: Text = Field("", alias="COGSAccount")
    expense_account: Text = Field("", alias="ExpenseAccount")
    purchase_tax_rule: Text = Field("", alias="PurchaseTaxRule")
    average_cost: Amount = Field(Decimal(0), alias="AverageCost")
    last_modified_on: Stamp = Field(None, alias="LastModifiedOn")


class Bin(Cin7Model):
    id: Guid = Field(None, alias="ID")
    name: Text = Field("", alias="Name")


class Location(Cin7Model):
    id: Guid = Field(None, alias="ID")
    name: Text = Field(alias="Name")
    is_default: Flag = Field(False, alias="IsDefault")
    is_deprecated: Flag = Field(False, alias="IsDeprecated")
    parent_id: Guid = Field(None, alias="ParentID")
    bins: list[Bin] = Field(default_factory=list, alias="Bins")

    @classmethod
    def from_cin7(cls, payload: Mapping[str, Any]) -> Location:
        return _read(cls, {**payload, "Bins": payload.get("Bins") or []}, "location")


class TaxRule(Cin7Model):
    id: Guid = Field(None, alias="ID")
    name: Text = Field(alias="Name")
    account: Text = Field("", alias="Account")
    is_active: Flag = Field(True, alias="IsActive")
    tax_inclusive: Flag = Field(False, alias="TaxInclusive")
    tax_percent: Amount = Field(Decimal(0), alias="TaxPercent")


class PaymentTerm(Cin7Model):
    id: Guid = Field(None, alias="ID")
    name: Text = Field(alias="Name")
    duration: Amount = Field(Decimal(0), alias="Duration")
    method: Text = Field("", alias="Method")
    is_active: Flag = Field(True, alias="IsActive")


class Company(Cin7Model):
    """`GET /me`: the account's company profile."""

    company: Text = Field("", alias="Company")
    currency: Text = Field("", alias="Currency")
    time_zone: Text = Field("", alias="TimeZone")
