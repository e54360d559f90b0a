"""Checks of meaning on a normalised Cin7 purchase: the reasons a record fails, in plain words.

The Cin7 models already refuse what cannot be read (mistyped fields raise `InvalidPayload`);
these checks find what reads fine but cannot be right, on the parts the planner acts on: the
AUTHORISED order, AUTHORISED receipts, AUTHORISED or PAID invoices, AUTHORISED credit notes and
unstock. Drafts are left alone: they are work in progress in Cin7.

Tolerances: a line total may differ from Quantity x Price x (1 - Discount/100) by 0.01; a document
total by 0.01 per line and charge. Quantities carry at most `QUANTITY_PLACES` decimals, Cin7's
own limit (reference §7; an account's `MaximumDecimalPlacesInQuantity` is at most 4): more means
the document was not written by Cin7 as it stands, and QAD would round what it receives.

`check_against_row` compares the detail with the list row it was fetched for (ID, OrderNumber,
supplier): the engine calls it before planning, since the planner never sees the row.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Protocol

from ml_connector.cin7.models import Charge, Line, Purchase, StockLine, Supplier
from ml_connector.errors import Problems
from ml_connector.sync.amounts import CENT, ZERO, extended, fmt_money, fmt_price, fmt_qty
from ml_connector.sync.inputs import fold

# Active ISO 4217 codes (2025), without XTS (testing) and XXX (no currency).
ISO_4217: frozenset[str] = frozenset(
    """
    AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BOV BRL BSD BTN
    BWP BYN BZD CAD CDF CHE CHF CHW CLF CLP CNY COP COU CRC CUC CUP CVE CZK DJF DKK DOP DZD EGP
    ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK
    JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK
    MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN
    PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SLL SOS SRD SSP STN SVC SYP SZL THB
    TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD USN UYI UYU UYW UZS VED VES VND VUV WST XAF XAG
    XAU XBA XBB XBC XBD XCD XCG XDR XOF XPD XPF XPT XSU XUA YER ZAR ZMW ZWG ZWL
    """.split()  # noqa: SIM905 - a block of codes reads better than 180 quoted strings
)

ACTIVE_INVOICE = frozenset({"AUTHORISED", "PAID"})
AUTHORISED = "AUTHORISED"
QUANTITY_PLACES = 4


def status_of(value: str) -> str:
    return value.strip().upper()


def is_voided(purchase: Purchase) -> bool:
    """Voided as a whole: the overall status says so (contains-match) or the order does."""
    return "VOIDED" in status_of(purchase.status) or status_of(purchase.order.status) == "VOIDED"


def order_authorised(purchase: Purchase) -> bool:
    return status_of(purchase.order.status) == AUTHORISED


def is_authorised(purchase: Purchase) -> bool:
    """Ready to plan: the order is AUTHORISED, or a blind receipt has authorised goods in."""
    if order_authorised(purchase):
        return True
    return purchase.blind_receipt and any(
        status_of(r.status) == AUTHORISED for r in purchase.receipts
    )


def document_currency(purchase: Purchase, supplier: Supplier | None) -> str:
    """The supplier currency the purchase is in (Cin7 `SupplierCurrency`), upper case."""
    chosen = purchase.currency or (supplier.currency if supplier else "") or purchase.base_currency
    return chosen.strip().upper()


def is_item_line(line: Line) -> bool:
    """An item line names a product; other lines (fees without a product) carry an account."""
    return bool(line.sku.strip() or line.product_id)


def is_stock_line(line: Line | StockLine) -> bool:
    """A line of a stocked product: a QAD PO line, received, matched to receipts.

    Lines of `Service` and `Non Inventory` products (Cin7 flags them `NonInventory`) and lines
    without a product are never received: they post to the GL account of the line.
    """
    if isinstance(line, StockLine):
        return not line.non_inventory
    return is_item_line(line) and not line.non_inventory


def check_against_row(
    purchase: Purchase, cin7_id: str, order_number: str, supplier_id: str | None
) -> list[str]:
    """Where the detail disagrees with the purchase list row it was fetched for.

    Cin7 answering with another purchase's document (or the list naming another order or
    supplier than the document) means one of the two is wrong: nothing is posted from it.
    """
    problems = Problems()
    if purchase.id != cin7_id.strip().lower():
        problems.add(
            f"Cin7 answered with purchase {purchase.id or '(no ID)'} when asked for {cin7_id}"
        )
    number = purchase.order_number.strip()
    if number and order_number.strip() and number != order_number.strip():
        problems.add(f"the document's OrderNumber {number} is not the list's {order_number}")
    if purchase.supplier_id and supplier_id and purchase.supplier_id != supplier_id.lower():
        problems.add(
            f"the document's supplier {purchase.supplier_id} is not the list's {supplier_id}"
        )
    return problems.items


def decimals(value: Decimal) -> int:
    """Significant decimal places: `10` → 0, `2.50` → 1, `10.00001` → 5."""
    exponent = value.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def check_purchase(purchase: Purchase, supplier: Supplier | None) -> list[str]:
    """Every reason this purchase cannot be posted as it stands, readable by a finance user."""
    problems = Problems()
    if not purchase.order_number.strip():
        problems.add("the purchase has no OrderNumber")
    if not purchase.supplier_id:
        problems.add("the purchase has no supplier")
    if purchase.order_date is None:
        problems.add("the purchase has no order date")
    _check_currency(purchase, supplier, problems)
    inclusive = purchase.tax_calculation.strip().lower() == "inclusive"
    if order_authorised(purchase):
        _check_order(purchase, inclusive, problems)
    received: set[str] = set()
    for receipt in purchase.receipts:
        if status_of(receipt.status) != AUTHORISED:
            continue
        where = f"receipt {receipt.date.isoformat() if receipt.date else 'with no date'}"
        if receipt.task_id:
            where += f" (task {receipt.task_id[:8]})"
        _check_stock(where, receipt.lines, problems)
        received |= {fold(line.sku) for line in receipt.lines if line.sku.strip()}
    _check_invoices(purchase, inclusive, problems)
    _check_credit_notes(purchase, inclusive, received, problems)
    return problems.items


def _check_currency(purchase: Purchase, supplier: Supplier | None, problems: Problems) -> None:
    currency = document_currency(purchase, supplier)
    base = purchase.base_currency.strip().upper()
    if not currency:
        problems.add("the purchase has no currency")
    elif currency not in ISO_4217:
        problems.add(f"currency '{currency}' is not a known currency")
    if base and base not in ISO_4217:
        problems.add(f"base currency '{base}' is not a known currency")
    if supplier and supplier.currency.strip():
        own = supplier.currency.strip().upper()
        if own not in ISO_4217:
            problems.add(f"supplier currency '{own}' is not a known currency")
    rate = purchase.currency_rate
    if rate is not None and rate <= 0:
        problems.add(f"currency rate {fmt_qty(rate)} is not a positive number")
    elif rate is None and currency and base and currency != base:
        problems.add(f"currency rate is missing (purchase in {currency}, base currency {base})")
    for invoice in purchase.invoices:
        if invoice.currency_rate is not None and invoice.currency_rate <= 0:
            problems.add(
                f"invoice {invoice.number or '(no number)'}: currency rate "
                f"{fmt_qty(invoice.currency_rate)} is not a positive number"
            )


def _check_order(purchase: Purchase, inclusive: bool, problems: Problems) -> None:
    order = purchase.order
    if not order.lines and not order.charges and not purchase.blind_receipt:
        problems.add("the order has no lines")
    seen: dict[str, list[int]] = {}
    for number, line in enumerate(order.lines, 1):
        where = f"line {number} ({line.sku.strip() or line.name or 'no SKU'})"
        if not line.sku.strip():
            problems.add(f"line {number} ({line.name or 'no name'}): no SKU")
        else:
            seen.setdefault(fold(line.sku), []).append(number)
        _check_line(where, line, problems)
    for sku_lines in seen.values():
        if len(sku_lines) > 1:
            sku = order.lines[sku_lines[0] - 1].sku.strip()
            numbers = ", ".join(str(n) for n in sku_lines[:-1]) + f" and {sku_lines[-1]}"
            problems.add(f"SKU {sku} is on more than one order line (lines {numbers})")
    _check_charges("", order.charges, need_account=False, problems=problems)
    _check_totals("order", order.lines, order.charges, order, inclusive, problems)


def _check_invoices(purchase: Purchase, inclusive: bool, problems: Problems) -> None:
    numbers: dict[str, int] = {}
    for index, invoice in enumerate(purchase.invoices, 1):
        if status_of(invoice.status) not in ACTIVE_INVOICE:
            continue
        name = f"invoice {invoice.number.strip() or f'{index} (no number)'}"
        if invoice.number.strip():
            numbers[invoice.number.strip()] = numbers.get(invoice.number.strip(), 0) + 1
        if invoice.date is None:
            problems.add(f"{name} has no invoice date")
        _check_document_lines(name, invoice.lines, problems)
        _check_charges(f"{name} ", invoice.charges, need_account=True, problems=problems)
        _check_totals(name, invoice.lines, invoice.charges, invoice, inclusive, problems)
    for number, count in numbers.items():
        if count > 1:
            problems.add(
                f"invoice number {number} is used by {count} invoices on this purchase; "
                "QAD keeps one invoice per supplier and number"
            )


def _check_credit_notes(
    purchase: Purchase, inclusive: bool, received: set[str], problems: Problems
) -> None:
    numbers: dict[str, int] = {}
    for index, note in enumerate(purchase.credit_notes, 1):
        name = f"credit note {note.number.strip() or f'{index} (no number)'}"
        if status_of(note.status) == AUTHORISED:
            if note.number.strip():
                numbers[note.number.strip()] = numbers.get(note.number.strip(), 0) + 1
            if note.date is None:
                problems.add(f"{name} has no date")
            _check_document_lines(name, note.lines, problems)
            _check_charges(f"{name} ", note.charges, need_account=True, problems=problems)
            _check_totals(name, note.lines, note.charges, note, inclusive, problems)
        if status_of(note.unstock_status) == AUTHORISED:
            _check_stock(f"{name} unstock", note.unstock, problems)
            for line in note.unstock:
                if line.sku.strip() and fold(line.sku) not in received:
                    problems.add(
                        f"{name} returns {line.sku.strip()}, which was never received "
                        "on this purchase"
                    )
    for number, count in numbers.items():
        if count > 1:
            problems.add(f"credit note number {number} is used by {count} credit notes")


def _check_document_lines(name: str, lines: Sequence[Line], problems: Problems) -> None:
    for number, line in enumerate(lines, 1):
        label = line.sku.strip() or line.name or "no SKU"
        where = f"{name} line {number} ({label})"
        if line.product_id and not line.sku.strip():
            problems.add(f"{where}: no SKU")
        elif not is_item_line(line) and not line.account.strip():
            problems.add(f"{where}: no SKU and no account")
        elif not is_stock_line(line) and not line.account.strip():
            problems.add(f"{where}: not a stocked product and no account")
        _check_line(where, line, problems)


def _check_places(where: str, quantity: Decimal | None, problems: Problems) -> None:
    if quantity is not None and decimals(quantity) > QUANTITY_PLACES:
        problems.add(
            f"{where}: quantity {fmt_qty(quantity)} has more than {QUANTITY_PLACES} decimals, "
            "more than Cin7 keeps"
        )


def _check_line(where: str, line: Line, problems: Problems) -> None:
    for field, value in (("quantity", line.quantity), ("price", line.price)):
        if value is None:
            problems.add(f"{where}: {field} is missing")
        elif value == 0:
            problems.add(f"{where}: {field} is 0")
        elif value < 0:
            problems.add(f"{where}: {field} is negative ({fmt_qty(value)})")
    _check_places(where, line.quantity, problems)
    if not ZERO <= line.discount <= 100:
        problems.add(f"{where}: discount {fmt_qty(line.discount)}% is outside 0-100")
        return
    if line.quantity is None or line.price is None or line.total is None:
        return
    expected = extended(line.quantity, line.price, line.discount)
    if abs(expected - line.total) > CENT:
        problems.add(
            f"{where}: {fmt_qty(line.quantity)} × {fmt_price(line.price)} less "
            f"{fmt_qty(line.discount)}% = {fmt_money(expected)}, but Cin7's total is "
            f"{fmt_money(line.total)}"
        )


def _check_charges(
    prefix: str, charges: Sequence[Charge], *, need_account: bool, problems: Problems
) -> None:
    for number, charge in enumerate(charges, 1):
        where = f"{prefix}charge {number} ({charge.description or charge.reference or 'no name'})"
        if charge.price is None:
            problems.add(f"{where}: price is missing")
        elif charge.price < 0:
            problems.add(f"{where}: price is negative ({fmt_qty(charge.price)})")
        if charge.quantity <= 0:
            problems.add(f"{where}: quantity is {fmt_qty(charge.quantity)}")
        if need_account and not charge.account.strip():
            problems.add(f"{where}: no account")
        if not ZERO <= charge.discount <= 100:
            problems.add(f"{where}: discount {fmt_qty(charge.discount)}% is outside 0-100")
            continue
        if charge.price is None or charge.total is None:
            continue
        expected = extended(charge.quantity, charge.price, charge.discount)
        if abs(expected - charge.total) > CENT:
            problems.add(
                f"{where}: {fmt_qty(charge.quantity)} × {fmt_price(charge.price)} less "
                f"{fmt_qty(charge.discount)}% = {fmt_money(expected)}, but Cin7's total is "
                f"{fmt_money(charge.total)}"
            )


class _Totals(Protocol):
    @property
    def total_before_tax(self) -> Decimal | None: ...
    @property
    def tax(self) -> Decimal: ...
    @property
    def total(self) -> Decimal | None: ...


def _line_total(line: Line | Charge) -> Decimal | None:
    """Cin7's total, else the computed one; None when neither is known (already reported)."""
    if line.total is not None:
        return line.total
    if line.quantity is None or line.price is None:
        return None
    return extended(line.quantity, line.price, line.discount)


def _check_totals(
    name: str,
    lines: Sequence[Line],
    charges: Sequence[Charge],
    document: _Totals,
    inclusive: bool,
    problems: Problems,
) -> None:
    tolerance = CENT * max(1, len(lines) + len(charges))
    line_totals = [_line_total(line) for line in lines]
    charge_totals = [_line_total(charge) for charge in charges]
    if None in line_totals or None in charge_totals:
        return
    line_sum = sum((t for t in line_totals if t is not None), ZERO)
    charge_sum = sum((t for t in charge_totals if t is not None), ZERO)
    sums = f"lines {fmt_money(line_sum)} + charges {fmt_money(charge_sum)}"
    if inclusive:
        # Tax-inclusive prices: the line totals add up to the total, tax included.
        if document.total is not None and abs(document.total - line_sum - charge_sum) > tolerance:
            problems.add(f"{name} total {fmt_money(document.total)} does not equal {sums}")
    elif document.total_before_tax is not None and (
        abs(document.total_before_tax - line_sum - charge_sum) > tolerance
    ):
        problems.add(
            f"{name} total before tax {fmt_money(document.total_before_tax)} does not equal {sums}"
        )
    if document.total is not None and document.total_before_tax is not None:
        expected = document.total_before_tax + document.tax
        if abs(document.total - expected) > tolerance:
            problems.add(
                f"{name} total {fmt_money(document.total)} does not equal "
                f"{fmt_money(document.total_before_tax)} before tax + "
                f"{fmt_money(document.tax)} tax"
            )


def _check_stock(where: str, lines: Sequence[StockLine], problems: Problems) -> None:
    for number, line in enumerate(lines, 1):
        label = f"{where} line {number} ({line.sku.strip() or line.name or 'no SKU'})"
        if not line.sku.strip():
            problems.add(f"{label}: no SKU")
        if line.date is None:
            problems.add(f"{label}: no date")
        if line.quantity is None:
            problems.add(f"{label}: quantity is missing")
        elif line.quantity <= 0:
            problems.add(f"{label}: quantity is {fmt_qty(line.quantity)}")
        _check_places(label, line.quantity, problems)
