"""`FakeQadChannel`: an in-memory QAD tenant behind the channel seam, for tests and trials.

It keeps QAD's rules that the idempotent operations and the engine depend on, and nothing about
any wire format:

- suppliers need their business relation, a known currency, credit terms and tax class;
  a create on a held key raises `AlreadyExists`; an update from an old revision `StaleRecord`;
- purchase orders under our numbers, lines added one at a time, validated against items and
  sites; closing the header closes its lines; a line cannot drop below what was received;
- receipts are not idempotent: each post adds a receiver and raises the received quantities;
  an over-receipt beyond the tolerance, a reversal below the invoiced quantity and closed lines
  are refused, and then nothing is posted;
- invoices are matched three ways: an invoice whose matched quantity exceeds what was received
  and not yet invoiced is refused with the line named, as are prices beyond the tolerance and
  amounts that are not matched + GL lines + tax; a reference the supplier already used for this
  type is **accepted with a warning** and makes a second invoice, as in QAD;
- business refusals are the exception types the REST channel raises (`RecordRejected` with
  field errors and QAD-like messages, `AlreadyExists`, `StaleRecord`).

Faults are injected per operation (`inject`): `lost-answer` applies the write and loses the
answer (`WriteOutcomeUnknown`), `not-sent` loses the write itself, `silent` answers success and
applies nothing (QAD's receipt no-op), `error-after-write` applies it and answers an error,
`unavailable` and `auth-rejected` fail the call. `calls` counts every call, `calls_by_operation`
per method, and `writes` lists the writes that took effect, in order.

    fake = FakeQadChannel()
    fake.inject("post_receipt", "silent")
    result = await QadOperations(fake).post_receipt_once(spec)   # posted on the second try
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from types import TracebackType
from typing import TYPE_CHECKING, Literal, TypeVar

from ml_connector.errors import (
    AlreadyExists,
    AuthRejected,
    FieldError,
    RecordRejected,
    StaleRecord,
    Unavailable,
    WriteOutcomeUnknown,
)
from ml_connector.qad.channel import QadChannel
from ml_connector.qad.models import (
    CreatedInvoice,
    CreditTerm,
    Currency,
    GlAccount,
    InvoiceSpec,
    Item,
    ItemSpec,
    MatchLine,
    PoHeaderChange,
    PoLine,
    PoLineChange,
    PurchaseOrder,
    PurchaseOrderLineSpec,
    PurchaseOrderSpec,
    Receipt,
    ReceiptLine,
    ReceiptSpec,
    Site,
    Supplier,
    SupplierChange,
    SupplierInvoice,
    SupplierSpec,
    TaxClass,
)

Fault = Literal[
    "lost-answer", "not-sent", "silent", "error-after-write", "unavailable", "auth-rejected"
]
WRITES = frozenset(
    {
        "create_business_relation",
        "create_supplier",
        "update_supplier",
        "create_purchase_order",
        "add_po_line",
        "update_po_header",
        "update_po_line",
        "post_receipt",
        "create_supplier_invoice",
        "create_item",
    }
)
READ_FAULTS: frozenset[Fault] = frozenset({"unavailable", "auth-rejected"})
AMOUNT_TOLERANCE = Decimal("0.01")
DUPLICATE_REFERENCE = "The reference already exists on another invoice for this supplier"
DAYBOOK = "SUPINV"

T = TypeVar("T")


@dataclass(frozen=True)
class FakeReference:
    """The reference lists a fake tenant holds (replace any with `dataclasses.replace`)."""

    gl_accounts: tuple[GlAccount, ...]
    items: tuple[Item, ...]
    sites: tuple[Site, ...]
    credit_terms: tuple[CreditTerm, ...]
    currencies: tuple[Currency, ...]
    tax_classes: tuple[TaxClass, ...]


def default_reference() -> FakeReference:
    """A small tenant: two sites, four currencies, two terms, five items on inventory 1300."""
    items = (
        ("WID-100", "Widget 100 mm", "12.5"),
        ("WID-150", "Widget 150 mm", "14.75"),
        ("BRK-20", "Bracket 20", "1.75"),
        ("BRK-40", "Bracket 40", "2.3"),
        ("NUT-M8", "Nut M8 (box)", "6.4"),
    )
    accounts = (
        ("1300", "Inventory", "INVENTORY"),
        ("2150", "Receipts Not Vouchered", "BALANCE"),
        ("5000", "Purchases", "EXPENSE"),
        ("6100", "Freight In", "EXPENSE"),
    )
    return FakeReference(
        gl_accounts=tuple(
            GlAccount(
                code=code,
                description=name,
                type=kind,
                requires_sub_account=False,
                requires_cost_centre=False,
                active=True,
            )
            for code, name, kind in accounts
        ),
        items=tuple(
            Item(
                code=code,
                description=name,
                uom="EA",
                status="ACTIVE",
                gl_account="1300",
                unit_cost=Decimal(cost),
            )
            for code, name, cost in items
        ),
        sites=(Site(code="10-100", description="Main"), Site(code="10-200", description="East")),
        credit_terms=(
            CreditTerm(code="N30", description="30 days", due_days=30),
            CreditTerm(code="N60", description="60 days", due_days=60),
        ),
        currencies=tuple(
            Currency(code=code, description=code) for code in ("USD", "EUR", "GBP", "AUD")
        ),
        tax_classes=(
            TaxClass(code="EXEMPT", description="Tax exempt", percent=Decimal(0)),
            TaxClass(code="PT825", description="Purchase tax 8.25%", percent=Decimal("8.25")),
        ),
    )


@dataclass
class _Line:
    po_number: str
    line: int
    item: str
    site: str
    quantity: Decimal
    cost: Decimal
    gl_account: str
    revision: str
    received: Decimal = Decimal(0)
    invoiced: Decimal = Decimal(0)
    status: str = "O"

    def label(self) -> str:
        return f"PO {self.po_number} line {self.line} ({self.item})"

    def model(self) -> PoLine:
        return PoLine(
            line=self.line,
            item_code=self.item,
            quantity_ordered=self.quantity,
            quantity_received=self.received,
            quantity_invoiced=self.invoiced,
            unit_cost=self.cost,
            gl_account=self.gl_account,
            status=self.status,
            site=self.site,
            revision=self.revision,
        )


@dataclass
class _Po:
    number: str
    supplier: str
    currency: str
    credit_terms: str
    site: str
    remarks: str
    due_date: dt.date | None
    revision: str
    status: str = "O"
    lines: dict[int, _Line] = field(default_factory=dict)

    def model(self) -> PurchaseOrder:
        return PurchaseOrder(
            number=self.number,
            supplier_code=self.supplier,
            currency=self.currency,
            status=self.status,
            remarks=self.remarks,
            credit_terms=self.credit_terms,
            ship_to_site=self.site,
            due_date=self.due_date,
            lines=[self.lines[n].model() for n in sorted(self.lines)],
            revision=self.revision,
        )


class FakeQadChannel:
    """An in-memory QAD tenant implementing `QadChannel` (see module docstring).

    `reference` defaults to `default_reference()`. `echoes=False` makes creates answer without
    the saved record (no PO, no voucher), as a channel that does not echo writes would, so the
    operations have to read back.
    """

    def __init__(
        self,
        *,
        reference: FakeReference | None = None,
        default_site: str = "10-100",
        over_receipt_tolerance_pct: Decimal = Decimal(10),
        price_tolerance_pct: Decimal = Decimal(5),
        echoes: bool = True,
    ) -> None:
        ref = reference or default_reference()
        self._gl = {a.code: a for a in ref.gl_accounts}
        self._items = {i.code: i for i in ref.items}
        self._sites = {s.code: s for s in ref.sites}
        self._terms = {t.code: t for t in ref.credit_terms}
        self._currencies = {c.code: c for c in ref.currencies}
        self._tax = {t.code: t for t in ref.tax_classes}
        self.default_site = default_site
        self.over_receipt_tolerance_pct = over_receipt_tolerance_pct
        self.price_tolerance_pct = price_tolerance_pct
        self.echoes = echoes
        self._relations: dict[str, str] = {}
        self._suppliers: dict[str, Supplier] = {}
        self._pos: dict[str, _Po] = {}
        self._receipts: list[Receipt] = []
        self._invoices: list[SupplierInvoice] = []
        self._faults: dict[str, list[Fault]] = defaultdict(list)
        self._numbers: Counter[str] = Counter()
        self.calls = 0
        self.calls_by_operation: Counter[str] = Counter()
        self.writes: list[str] = []
        self.closed = False

    def __repr__(self) -> str:
        return f"<FakeQadChannel calls={self.calls} writes={len(self.writes)}>"

    # ---- faults and inspection ----------------------------------------------------------------

    def inject(self, operation: str, fault: Fault, *, times: int = 1) -> None:
        """Make the next `times` calls of `operation` (a method name) fail with `fault`."""
        if not hasattr(self, operation) or operation.startswith("_"):
            raise ValueError(f"no channel operation {operation!r}")
        if operation not in WRITES and fault not in READ_FAULTS:
            raise ValueError(f"{fault} is a write fault; {operation} does not write")
        self._faults[operation].extend([fault] * times)

    @property
    def receipts_posted(self) -> list[Receipt]:
        """Every receiver QAD holds, in posting order."""
        return list(self._receipts)

    @property
    def invoices_posted(self) -> list[SupplierInvoice]:
        """Every supplier invoice and credit note QAD holds, in posting order."""
        return list(self._invoices)

    # ---- the channel's own -------------------------------------------------------------------

    async def ping(self) -> None:
        await self._enter("ping")

    async def aclose(self) -> None:
        self.closed = True

    async def __aenter__(self) -> FakeQadChannel:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    # ---- suppliers ----------------------------------------------------------------------------

    async def get_supplier(self, code: str) -> Supplier | None:
        await self._enter("get_supplier")
        return self._suppliers.get(code)

    async def has_business_relation(self, code: str) -> bool:
        await self._enter("has_business_relation")
        return code in self._relations

    async def create_business_relation(self, spec: SupplierSpec) -> None:
        def apply() -> None:
            code = spec.relation_code
            if code in self._relations:
                raise _refusal(
                    AlreadyExists,
                    _err(f"Business relation {code} already exists", "businessRelationCode", code),
                )
            self._relations[code] = spec.name

        await self._write("create_business_relation", apply, lambda: None)

    async def create_supplier(self, spec: SupplierSpec) -> None:
        def apply() -> None:
            if spec.code in self._suppliers:
                raise _refusal(
                    AlreadyExists,
                    _err(f"Supplier {spec.code} already exists", "supplierCode", spec.code),
                )
            problems = self._supplier_problems(spec.currency, spec.credit_terms)
            if spec.relation_code not in self._relations:
                problems.insert(
                    0,
                    _err(
                        f"Business relation {spec.relation_code} does not exist",
                        "businessRelationCode",
                        spec.relation_code,
                    ),
                )
            if spec.tax_class and spec.tax_class not in self._tax:
                problems.append(
                    _err(f"Tax class {spec.tax_class} does not exist", "taxClass", spec.tax_class)
                )
            _refuse_if(problems)
            self._suppliers[spec.code] = Supplier(
                code=spec.code,
                name=spec.name,
                currency=spec.currency,
                credit_terms=spec.credit_terms,
                business_relation=spec.relation_code,
                active=spec.active,
                revision=self._revision(),
            )

        await self._write("create_supplier", apply, lambda: None)

    async def update_supplier(self, held: Supplier, change: SupplierChange) -> None:
        def apply() -> None:
            current = self._suppliers.get(held.code)
            if current is None:
                raise _refusal(
                    RecordRejected,
                    _err(f"Supplier {held.code} does not exist", "supplierCode", held.code),
                )
            _check_revision(current.revision, held.revision)
            currency = change.currency or current.currency
            terms = change.credit_terms or current.credit_terms
            _refuse_if(self._supplier_problems(currency, terms))
            self._suppliers[held.code] = current.model_copy(
                update={
                    "name": change.name or current.name,
                    "currency": currency,
                    "credit_terms": terms,
                    "revision": self._revision(),
                }
            )

        await self._write("update_supplier", apply, lambda: None)

    def _supplier_problems(self, currency: str, terms: str) -> list[FieldError]:
        problems = []
        if currency not in self._currencies:
            problems.append(_err(f"Currency {currency} does not exist", "currencyCode", currency))
        if terms not in self._terms:
            problems.append(_err(f"Credit terms {terms} do not exist", "creditTermsCode", terms))
        return problems

    # ---- purchase orders ----------------------------------------------------------------------

    async def get_purchase_order(self, number: str) -> PurchaseOrder | None:
        await self._enter("get_purchase_order")
        po = self._pos.get(number)
        return po.model() if po else None

    async def create_purchase_order(self, spec: PurchaseOrderSpec) -> PurchaseOrder | None:
        def apply() -> PurchaseOrder | None:
            if spec.number in self._pos:
                raise _refusal(
                    AlreadyExists,
                    _err(
                        f"Purchase order {spec.number} already exists",
                        "purchaseOrderNumber",
                        spec.number,
                    ),
                )
            supplier = self._suppliers.get(spec.supplier_code)
            problems = []
            if supplier is None:
                problems.append(
                    _err(
                        f"Supplier {spec.supplier_code} does not exist",
                        "supplierCode",
                        spec.supplier_code,
                    )
                )
            elif not supplier.active:
                problems.append(
                    _err(
                        f"Supplier {spec.supplier_code} is not active",
                        "supplierCode",
                        spec.supplier_code,
                    )
                )
            if spec.currency not in self._currencies:
                problems.append(
                    _err(f"Currency {spec.currency} does not exist", "currencyCode", spec.currency)
                )
            terms = spec.credit_terms or (supplier.credit_terms if supplier else "")
            if terms and terms not in self._terms:
                problems.append(
                    _err(f"Credit terms {terms} do not exist", "creditTermsCode", terms)
                )
            site = spec.ship_to_site or self.default_site
            if site not in self._sites:
                problems.append(_err(f"Site {site} does not exist", "shipToSite", site))
            _refuse_if(problems)
            po = _Po(
                number=spec.number,
                supplier=spec.supplier_code,
                currency=spec.currency,
                credit_terms=terms,
                site=site,
                remarks=spec.remarks,
                due_date=spec.due_date or spec.order_date,
                revision=self._revision(),
            )
            self._pos[spec.number] = po
            return po.model() if self.echoes else None

        return await self._write("create_purchase_order", apply, lambda: None)

    async def add_po_line(self, spec: PurchaseOrderSpec, line: PurchaseOrderLineSpec) -> None:
        def apply() -> None:
            po = self._po(spec.number)
            if line.line in po.lines:
                raise _refusal(
                    AlreadyExists,
                    _err(
                        f"PO {spec.number} line {line.line} already exists",
                        "purchaseOrderLine",
                        str(line.line),
                    ),
                )
            if po.status != "O":
                raise _refusal(RecordRejected, _closed(po.number))
            site = line.site or spec.ship_to_site or self.default_site
            problems = []
            if site not in self._sites:
                problems.append(_err(f"Site {site} does not exist", "siteCode", site))
            item = self._items.get(line.item_code)
            if item is None:
                problems.append(
                    _err(f"Item {line.item_code} does not exist", "itemCode", line.item_code)
                )
            elif item.status.upper() not in ("", "ACTIVE"):
                problems.append(
                    _err(f"Item {line.item_code} is not active", "itemCode", line.item_code)
                )
            _refuse_if(problems)
            assert item is not None
            po.lines[line.line] = _Line(
                po_number=po.number,
                line=line.line,
                item=line.item_code,
                site=site,
                quantity=line.quantity,
                cost=line.unit_cost,
                gl_account=item.gl_account,
                revision=self._revision(),
            )

        await self._write("add_po_line", apply, lambda: None)

    async def update_po_header(self, held: PurchaseOrder, change: PoHeaderChange) -> None:
        def apply() -> None:
            po = self._po(held.number)
            _check_revision(po.revision, held.revision)
            if change.credit_terms and change.credit_terms not in self._terms:
                raise _refusal(
                    RecordRejected,
                    _err(
                        f"Credit terms {change.credit_terms} do not exist",
                        "creditTermsCode",
                        change.credit_terms,
                    ),
                )
            po.remarks = change.remarks if change.remarks is not None else po.remarks
            po.due_date = change.due_date or po.due_date
            po.credit_terms = change.credit_terms or po.credit_terms
            if change.status and change.status != po.status:
                po.status = change.status
                for line in po.lines.values():  # closing a PO closes its lines, as in QAD
                    line.status = change.status
                    line.revision = self._revision()
            po.revision = self._revision()

        await self._write("update_po_header", apply, lambda: None)

    async def update_po_line(self, number: str, held: PoLine, change: PoLineChange) -> None:
        def apply() -> None:
            po = self._po(number)
            line = po.lines.get(held.line)
            if line is None:
                raise _refusal(
                    RecordRejected,
                    _err(
                        f"PO {number} line {held.line} does not exist",
                        "purchaseOrderLine",
                        str(held.line),
                    ),
                )
            _check_revision(line.revision, held.revision)
            quantity = change.quantity if change.quantity is not None else line.quantity
            status = change.status or line.status
            problems = []
            if quantity < max(line.received, line.invoiced):
                problems.append(
                    _err(
                        f"{line.label()}: quantity ordered {quantity} is below the quantity "
                        f"received {line.received}",
                        "quantityOrdered",
                        str(quantity),
                    )
                )
            if po.status != "O" and status == "O":
                problems.append(_closed(number))
            _refuse_if(problems)
            line.quantity = quantity
            line.cost = change.unit_cost if change.unit_cost is not None else line.cost
            line.status = status
            line.revision = self._revision()

        await self._write("update_po_line", apply, lambda: None)

    def _po(self, number: str) -> _Po:
        po = self._pos.get(number)
        if po is None:
            raise _refusal(
                RecordRejected,
                _err(f"Purchase order {number} does not exist", "purchaseOrderNumber", number),
            )
        return po

    # ---- receipts -----------------------------------------------------------------------------

    async def find_receipts(self, po_number: str, packing_slip: str | None = None) -> list[Receipt]:
        await self._enter("find_receipts")
        return [
            r
            for r in self._receipts
            if r.po_number == po_number and (packing_slip is None or r.packing_slip == packing_slip)
        ]

    async def post_receipt(self, spec: ReceiptSpec) -> str | None:
        def apply() -> str | None:
            po = self._po(spec.po_number)
            if po.status != "O":
                raise _refusal(RecordRejected, _closed(po.number))
            totals: dict[int, Decimal] = {}
            problems = []
            for entry in spec.lines:
                line = po.lines.get(entry.po_line)
                if line is None:
                    problems.append(
                        _err(
                            f"PO {po.number} line {entry.po_line} does not exist",
                            "purchaseOrderLine",
                            str(entry.po_line),
                        )
                    )
                    continue
                if line.status != "O":
                    problems.append(
                        _err(f"{line.label()}: the line is closed", "purchaseOrderLine")
                    )
                totals[entry.po_line] = totals.get(entry.po_line, Decimal(0)) + entry.quantity
            for number, change in totals.items():
                problem = self._receipt_problem(po.lines[number], change)
                if problem:
                    problems.append(_err(problem, "quantityReceived", str(change)))
            _refuse_if(problems)
            receiver = self._number("RC")
            self._receipts.append(
                Receipt(
                    receiver_number=receiver,
                    po_number=po.number,
                    packing_slip=spec.packing_slip,
                    effective_date=spec.effective_date,
                    lines=[
                        ReceiptLine(po_line=n, quantity=q, item_code=po.lines[n].item)
                        for n, q in totals.items()
                    ],
                )
            )
            for number, change in totals.items():
                po.lines[number].received += change
                po.lines[number].revision = self._revision()
            return receiver

        return await self._write("post_receipt", apply, lambda: self._number("RC"))

    def _receipt_problem(self, line: _Line, change: Decimal) -> str:
        after = line.received + change
        limit = line.quantity * (1 + self.over_receipt_tolerance_pct / 100)
        if change > 0 and after > limit:
            return (
                f"{line.label()}: receiving {change} brings the received quantity to {after}, "
                f"over the {line.quantity} ordered plus the {self.over_receipt_tolerance_pct} % "
                "tolerance"
            )
        if change < 0 and after < line.invoiced:
            return (
                f"{line.label()}: reversing {-change} brings the received quantity to {after}, "
                f"below the {line.invoiced} already invoiced"
            )
        return ""

    # ---- supplier invoices --------------------------------------------------------------------

    async def find_supplier_invoices(
        self, supplier_code: str, reference: str, invoice_type: str | None = None
    ) -> list[SupplierInvoice]:
        await self._enter("find_supplier_invoices")
        return [
            i
            for i in self._invoices
            if i.supplier_code == supplier_code
            and i.reference == reference
            and (invoice_type is None or i.type == invoice_type)
        ]

    async def get_supplier_invoice(
        self, voucher: int, posting_year: int, daybook: str | None = None
    ) -> SupplierInvoice | None:
        await self._enter("get_supplier_invoice")
        return next(
            (
                i
                for i in self._invoices
                if i.voucher == voucher
                and i.posting_year == posting_year
                and i.daybook == (daybook or DAYBOOK)
            ),
            None,
        )

    async def create_supplier_invoice(self, spec: InvoiceSpec) -> CreatedInvoice:
        def apply() -> CreatedInvoice:
            supplier = self._suppliers.get(spec.supplier_code)
            problems: list[FieldError] = []
            if supplier is None:
                problems.append(
                    _err(
                        f"Supplier {spec.supplier_code} does not exist",
                        "supplierCode",
                        spec.supplier_code,
                    )
                )
            if spec.currency not in self._currencies:
                problems.append(
                    _err(f"Currency {spec.currency} does not exist", "currencyCode", spec.currency)
                )
            linked = list(dict.fromkeys([*spec.po_numbers, *(m.po_number for m in spec.matching)]))
            for number in linked:
                po = self._pos.get(number)
                if po is None:
                    problems.append(
                        _err(f"Purchase order {number} does not exist", "purchaseOrders", number)
                    )
                elif po.supplier != spec.supplier_code:
                    problems.append(
                        _err(
                            f"Purchase order {number} belongs to supplier {po.supplier}, "
                            f"not {spec.supplier_code}",
                            "purchaseOrders",
                            number,
                        )
                    )
            draws: list[tuple[_Line, MatchLine]] = []
            for match in spec.matching:
                po = self._pos.get(match.po_number)
                line = po.lines.get(match.po_line) if po else None
                if po is None:
                    continue
                if line is None:
                    problems.append(
                        _err(
                            f"PO {match.po_number} line {match.po_line} does not exist",
                            "matching",
                            str(match.po_line),
                        )
                    )
                    continue
                if match.receiver_number and not any(
                    r.receiver_number == match.receiver_number and r.po_number == po.number
                    for r in self._receipts
                ):
                    problems.append(
                        _err(
                            f"{line.label()}: receiver {match.receiver_number} does not exist "
                            "for this PO",
                            "matching",
                            match.receiver_number,
                        )
                    )
                    continue
                draws.append((line, match))
            for gl in spec.gl_lines:
                problems += self._gl_problems(gl.gl_code, gl.sub_account, gl.cost_centre)
            _refuse_if(problems)
            for line, match in draws:
                allowed = line.cost * self.price_tolerance_pct / 100
                if abs(match.unit_price - line.cost) > allowed:
                    problems.append(
                        _err(
                            f"{line.label()}: unit price {match.unit_price} is more than "
                            f"{self.price_tolerance_pct} % away from the PO price {line.cost}",
                            "matching",
                            str(match.unit_price),
                        )
                    )
            if spec.type == "Invoice":
                problems += _coverage_problems([(line, m.quantity) for line, m in draws])
            expected = (
                sum((m.quantity * m.unit_price for m in spec.matching), Decimal(0))
                + sum((g.amount for g in spec.gl_lines), Decimal(0))
                + spec.tax_amount
            )
            if abs(spec.amount - expected) > AMOUNT_TOLERANCE:
                problems.append(
                    _err(
                        f"Invoice amount {spec.amount} does not equal the matched amount "
                        f"{expected} (lines, plus GL lines and tax)",
                        "amountTC",
                        str(spec.amount),
                    )
                )
            _refuse_if(problems)
            warnings = []
            if any(
                i.supplier_code == spec.supplier_code
                and i.type == spec.type
                and i.reference == spec.reference
                for i in self._invoices
            ):
                warnings.append(
                    FieldError(
                        message=DUPLICATE_REFERENCE,
                        field="invoiceReference",
                        value=spec.reference,
                        severity="warning",
                    )
                )
            for line, match in draws:
                if spec.type == "CreditNote":
                    line.invoiced = max(Decimal(0), line.invoiced - match.quantity)
                else:
                    line.invoiced += match.quantity
                line.revision = self._revision()
            assert supplier is not None
            terms = self._terms.get(supplier.credit_terms)
            due = spec.due_date or spec.invoice_date + dt.timedelta(
                days=(terms.due_days or 0) if terms else 0
            )
            invoice = SupplierInvoice(
                voucher=self._numbered("voucher"),
                posting_year=(spec.posting_date or spec.invoice_date).year,
                daybook=DAYBOOK,
                supplier_code=spec.supplier_code,
                reference=spec.reference,
                type=spec.type,
                currency=spec.currency,
                amount=spec.amount,
                tax_amount=spec.tax_amount,
                invoice_date=spec.invoice_date,
                due_date=due,
                matching_status="Finished",
                po_numbers=linked,
                description=spec.description,
            )
            self._invoices.append(invoice)
            return CreatedInvoice(invoice=invoice if self.echoes else None, warnings=warnings)

        return await self._write("create_supplier_invoice", apply, lambda: CreatedInvoice())

    def _gl_problems(self, code: str, sub_account: str, cost_centre: str) -> list[FieldError]:
        account = self._gl.get(code)
        if account is None:
            return [_err(f"GL account {code} does not exist", "glLines", code)]
        problems = []
        if account.requires_sub_account and not sub_account:
            problems.append(_err(f"GL account {code} requires a sub-account", "glLines", code))
        if account.requires_cost_centre and not cost_centre:
            problems.append(_err(f"GL account {code} requires a cost centre", "glLines", code))
        return problems

    # ---- reference data -----------------------------------------------------------------------

    async def gl_accounts(self) -> list[GlAccount]:
        await self._enter("gl_accounts")
        return list(self._gl.values())

    async def items(self) -> list[Item]:
        await self._enter("items")
        return list(self._items.values())

    async def sites(self) -> list[Site]:
        await self._enter("sites")
        return list(self._sites.values())

    async def credit_terms(self) -> list[CreditTerm]:
        await self._enter("credit_terms")
        return list(self._terms.values())

    async def currencies(self) -> list[Currency]:
        await self._enter("currencies")
        return list(self._currencies.values())

    async def tax_classes(self) -> list[TaxClass]:
        await self._enter("tax_classes")
        return list(self._tax.values())

    async def suppliers(self) -> list[Supplier]:
        await self._enter("suppliers")
        return list(self._suppliers.values())

    async def get_item(self, code: str) -> Item | None:
        await self._enter("get_item")
        return self._items.get(code)

    async def create_item(self, spec: ItemSpec) -> None:
        def apply() -> None:
            if spec.code in self._items:
                raise _refusal(
                    AlreadyExists, _err(f"Item {spec.code} already exists", "itemCode", spec.code)
                )
            if spec.gl_account not in self._gl:
                raise _refusal(
                    RecordRejected,
                    _err(
                        f"GL account {spec.gl_account} does not exist",
                        "glAccount",
                        spec.gl_account,
                    ),
                )
            self._items[spec.code] = Item(
                code=spec.code,
                description=spec.description,
                uom=spec.uom,
                product_line=spec.product_line,
                status=spec.status,
                gl_account=spec.gl_account,
                unit_cost=spec.unit_cost,
            )

        await self._write("create_item", apply, lambda: None)

    # ---- the call path ------------------------------------------------------------------------

    async def _enter(self, operation: str) -> Fault | None:
        """Count the call, let other tasks run (as a network would), and take a fault."""
        self.calls += 1
        self.calls_by_operation[operation] += 1
        await asyncio.sleep(0)
        queued = self._faults.get(operation)
        fault = queued.pop(0) if queued else None
        if fault == "unavailable":
            raise Unavailable(f"QAD {operation}: injected outage", system="qad", status=503)
        if fault == "auth-rejected":
            raise AuthRejected(f"QAD {operation}: credentials refused", system="qad", status=401)
        return fault

    async def _write(self, operation: str, apply: Callable[[], T], silent: Callable[[], T]) -> T:
        fault = await self._enter(operation)
        if fault == "not-sent":
            raise WriteOutcomeUnknown(
                f"QAD {operation}: the request was lost; it may or may not have been applied",
                system="qad",
            )
        if fault == "silent":
            return silent()
        result = apply()  # validates before it changes anything: a refusal leaves no trace
        self.writes.append(operation)
        if fault == "lost-answer":
            raise WriteOutcomeUnknown(
                f"QAD {operation}: the answer was lost; the write may or may not have been applied",
                system="qad",
            )
        if fault == "error-after-write":
            raise RecordRejected(
                f"QAD {operation}: processing did not complete", system="qad", code="injected"
            )
        return result

    def _revision(self) -> str:
        return str(self._numbered("revision"))

    def _number(self, prefix: str) -> str:
        return f"{prefix}{self._numbered(prefix):06d}"

    def _numbered(self, sequence: str) -> int:
        self._numbers[sequence] += 1
        return self._numbers[sequence]


def _err(message: str, field: str = "", value: str = "") -> FieldError:
    return FieldError(message=message, field=field, value=value)


def _closed(number: str) -> FieldError:
    return _err(f"Purchase order {number} is closed", "purchaseOrderNumber", number)


def _refusal(kind: type[RecordRejected], *errors: FieldError) -> RecordRejected:
    """A refusal as the REST channel builds it: QAD's messages joined, the field errors kept."""
    return kind("; ".join(e.message for e in errors), system="qad", errors=list(errors))


def _refuse_if(problems: list[FieldError]) -> None:
    if problems:
        raise _refusal(RecordRejected, *problems)


def _check_revision(current: str, held: str) -> None:
    if current != held:
        raise _refusal(
            StaleRecord,
            _err("Record has been changed by another user", "concurrencyHash"),
        )


def _coverage_problems(draws: list[tuple[_Line, Decimal]]) -> list[FieldError]:
    """Received-not-invoiced must cover what is invoiced, per PO line (the three-way match)."""
    totals: dict[int, tuple[_Line, Decimal]] = {}
    for line, quantity in draws:
        _, total = totals.get(id(line), (line, Decimal(0)))
        totals[id(line)] = (line, total + quantity)
    problems = []
    for line, total in totals.values():
        open_quantity = line.received - line.invoiced
        if total > open_quantity:
            problems.append(
                _err(
                    f"{line.label()}: invoiced {total}, received and not yet invoiced "
                    f"{max(open_quantity, Decimal(0))}",
                    "matching",
                    str(total),
                )
            )
    return problems


if TYPE_CHECKING:  # mypy proves that FakeQadChannel is a whole QadChannel

    def _is_a_channel(channel: FakeQadChannel) -> QadChannel:
        return channel
