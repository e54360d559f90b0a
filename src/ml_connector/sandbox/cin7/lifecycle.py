"""Purchase lifecycle rules (reference §5.3-§5.5, §6, messages from §4.3).

Each function changes one purchase or raises `Cin7SandboxError` with the text Cin7 sends. The
caller (the state) bumps `LastUpdatedDate` after a successful change. Messages marked
"inferred" below are not in the reference; they mirror the documented ones.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from ml_connector.sandbox.cin7.formats import parse_timestamp, q2, qty4
from ml_connector.sandbox.cin7.model import (
    ADVANCED,
    AUTHORISED,
    DONE,
    DRAFT,
    NA,
    PAID,
    VOIDED,
    Charge,
    Cin7SandboxError,
    CreditNote,
    Group,
    Invoice,
    Line,
    Payment,
    Purchase,
    StockLine,
    UnstockLine,
    by_sku,
    invoiced,
    ordered,
    ordered_stock,
)
from ml_connector.sandbox.cin7.reference import ProductRef, Reference

DEPRECATED = (
    "This endpoint is deprecated and does not support Advanced Purchase and Service Purchase. "
    "Please use AdvancedPurchase endpoint"
)
INVOICE_FIRST = "'Invoice First' approach option set. Please authorise Invoice before StockReceived"
# inferred: the mirror of INVOICE_FIRST
STOCK_FIRST = "'Stock First' approach option set. Please authorise StockReceived before Invoice"
DATE_REQUIRED = "'Date' is required for 'Lines' line"
ORDER_FIRST_STOCK = "Order should be authorised before StockReceived"  # inferred
ORDER_FIRST_INVOICE = "Order should be authorised before Invoice"  # inferred
SERVICE_CHARGES_ONLY = "Service Purchase can only contain additional charges"  # inferred
SERVICE_NOT_RECEIVED = "Service Purchase has no stock to receive"  # inferred


def not_stocked(sku: str, kind: str) -> str:
    """Receiving a Service or Non Inventory product (inferred wording)."""
    return f"Product '{sku}' is a {kind} product and cannot be received"


def mismatch_message(sku: str, quantity_invoiced: Decimal, quantity_received: Decimal) -> str:
    """The Simple-purchase refusal when invoiced and received quantities differ (§4.3)."""
    return (
        f"Product {sku} has quantity invoiced {qty4(quantity_invoiced)} which is different from "
        f"quantity received {qty4(quantity_received)}. Quantity received should exactly match "
        "the quantity invoiced."
    )


@dataclass(frozen=True)
class Env:
    """What the rules need from the state: the catalogue, fresh GUIDs and the sandbox's clock."""

    ref: Reference
    new_id: Callable[[], str]
    now: Callable[[], datetime]

    def today(self) -> date:
        return self.now().date()


# --- reading request bodies -------------------------------------------------------------------


def keys(raw: Mapping[str, Any]) -> dict[str, Any]:
    """A JSON object with lower-cased keys: Cin7 reads field names case-insensitively."""
    return {str(k).lower(): v for k, v in raw.items()}


def decimal(value: Any, field: str, *, default: Decimal | None = None) -> Decimal:
    if value is None or value == "":
        if default is None:
            raise Cin7SandboxError(f"'{field}' is required")
        return default
    if isinstance(value, bool):
        raise Cin7SandboxError(f"'{field}' is not a number")
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise Cin7SandboxError(f"'{field}' is not a number") from None
    if not number.is_finite():
        raise Cin7SandboxError(f"'{field}' is not a number")
    return number


def a_date(value: Any, field: str) -> date | None:
    if value is None or value == "":
        return None
    parsed = parse_timestamp(str(value))
    if parsed is None:
        raise Cin7SandboxError(f"'{field}' is not a valid date")
    return parsed.date()


def product_of(env: Env, raw: Mapping[str, Any]) -> ProductRef:
    item = keys(raw)
    pid = item.get("productid")
    if pid:
        found = env.ref.product_by_id.get(str(pid).lower())
        if found is None:
            raise Cin7SandboxError(f"Product with ID '{pid}' not found")
        return found
    sku = item.get("sku")
    if not sku:
        raise Cin7SandboxError("'ProductID' or 'SKU' is required for 'Lines' line")
    found = env.ref.product(str(sku))
    if found is None:
        raise Cin7SandboxError(f"Product with SKU '{sku}' not found")
    return found


def _list(raw: Any, field: str) -> list[Mapping[str, Any]]:
    if raw is None:
        return []
    if not isinstance(raw, list) or not all(isinstance(x, Mapping) for x in raw):
        raise Cin7SandboxError(f"'{field}' is invalid")
    return list(raw)


def _price_book(p: Purchase, env: Env) -> Callable[[ProductRef], Decimal]:
    """The order's price for a product, else its catalogue cost in the supplier's currency."""
    prices = {x.sku: x.price for x in p.lines}
    rate = p.currency_rate or Decimal(1)

    def price(prod: ProductRef) -> Decimal:
        if prod.sku in prices:
            return prices[prod.sku]
        return q2(prod.product.cost / rate)

    return price


def build_lines(
    p: Purchase, env: Env, raw: Any, *, invoice: bool, field: str = "Lines"
) -> list[Line]:
    """Order or invoice lines from a request, refusing the same product twice (live, §5.4)."""
    price_of = _price_book(p, env)
    discounts = {x.sku: x.discount for x in p.lines}
    supplier_skus = {x.sku: x.supplier_sku for x in p.lines}
    out: list[Line] = []
    seen: set[str] = set()
    for entry in _list(raw, field):
        prod = product_of(env, entry)
        item = keys(entry)
        if prod.sku in seen:
            raise Cin7SandboxError(f"Product '{prod.sku}' is specified more than once in 'Lines'")
        seen.add(prod.sku)
        quantity = decimal(item.get("quantity"), "Quantity")
        if quantity <= 0:
            raise Cin7SandboxError("'Quantity' should be greater than 0")
        tax_rule = str(item.get("taxrule") or p.tax_rule)
        if tax_rule.lower() not in env.ref.tax_by_name:
            raise Cin7SandboxError(f"Tax rule '{tax_rule}' not found")
        out.append(
            Line.make(
                product_id=prod.id,
                sku=prod.sku,
                name=str(item.get("name") or prod.product.name),
                quantity=quantity,
                price=decimal(item.get("price"), "Price", default=price_of(prod)),
                discount=decimal(
                    item.get("discount"), "Discount", default=discounts.get(prod.sku, Decimal(0))
                ),
                tax_rule=tax_rule,
                tax_percent=env.ref.tax_percent(tax_rule),
                supplier_sku=str(item.get("suppliersku") or supplier_skus.get(prod.sku, "")),
                account=str(item.get("account") or prod.product.purchase_account)
                if invoice
                else "",
                comment=str(item.get("comment") or ""),
                non_inventory=not prod.product.stocked,
            )
        )
    return out


def build_charges(p: Purchase, env: Env, raw: Any) -> list[Charge]:
    out = []
    for entry in _list(raw, "AdditionalCharges"):
        item = keys(entry)
        tax_rule = str(item.get("taxrule") or p.tax_rule)
        quantity = decimal(item.get("quantity"), "Quantity", default=Decimal(1))
        price = decimal(item.get("price"), "Price", default=Decimal(0))
        charge = Charge.make(
            str(item.get("description") or "Freight"),
            str(item.get("reference") or ""),
            price * quantity,
            tax_rule,
            env.ref.tax_percent(tax_rule),
        )
        out.append(charge if not item.get("account") else _with_account(charge, item["account"]))
    return out


def _with_account(charge: Charge, account: Any) -> Charge:
    return replace(charge, account=str(account))


# --- rules --------------------------------------------------------------------------------------


def require_open(p: Purchase) -> None:
    if p.voided:
        raise Cin7SandboxError(f"Purchase {p.order_number} is voided")


def require_simple(p: Purchase) -> None:
    if p.advanced:
        raise Cin7SandboxError(DEPRECATED)


def post_order(
    p: Purchase, env: Env, *, status: str, memo: str | None, lines: Any, charges: Any
) -> None:
    """`POST /purchase/order`: overwrite lines and charges while the order is not authorised."""
    require_open(p)
    if p.order_status not in (NA, DRAFT):
        raise Cin7SandboxError(
            f"Order status is {p.order_status}. Only DRAFT or NOT AVAILABLE Order can be changed"
        )
    status = (status or DRAFT).upper()
    if status not in (DRAFT, AUTHORISED):
        raise Cin7SandboxError("'Status' should be DRAFT or AUTHORISED")
    new_lines = build_lines(p, env, lines, invoice=False) or p.lines
    new_charges = build_charges(p, env, charges) if charges is not None else p.charges
    if p.service and new_lines:
        raise Cin7SandboxError(SERVICE_CHARGES_ONLY)
    if status == AUTHORISED and not new_lines and not (p.service and new_charges):
        raise Cin7SandboxError("Order has no lines to authorise")
    p.lines = new_lines
    p.charges = new_charges
    if memo is not None:
        p.memo = str(memo)
    p.order_status = status


def edit_order(p: Purchase, env: Env, lines: Any) -> None:
    """A user's edit after authorisation (undo, change lines, authorise again)."""
    require_open(p)
    if p.order_status != AUTHORISED:
        raise Cin7SandboxError("Order should be authorised before it is edited")
    new_lines = build_lines(p, env, lines, invoice=False)
    if not new_lines:
        raise Cin7SandboxError("'Lines' is required")
    p.lines = new_lines


def _stock_lines(
    p: Purchase, env: Env, raw: Any, *, default_day: date | None, bins: bool
) -> list[StockLine]:
    """Receipt lines; duplicates of one product and location in a payload are merged (§5.4)."""
    merged: dict[tuple[str, str, date, str], StockLine] = {}
    supplier_skus = {x.sku: x.supplier_sku for x in p.lines}
    for entry in _list(raw, "Lines"):
        item = keys(entry)
        prod = product_of(env, entry)
        if not prod.product.stocked:
            raise Cin7SandboxError(not_stocked(prod.sku, prod.product.type))
        on = a_date(item.get("date"), "Date") or default_day
        if on is None:
            raise Cin7SandboxError(DATE_REQUIRED)
        quantity = decimal(item.get("quantity"), "Quantity")
        if quantity <= 0:
            raise Cin7SandboxError("'Quantity' should be greater than 0")
        location, location_id = _where(p, env, item, bins=bins)
        batch = str(item.get("batchsn") or "")
        key = (prod.id, location_id, on, batch)
        if key in merged:
            old = merged[key]
            merged[key] = replace(old, quantity=old.quantity + quantity)
            continue
        merged[key] = StockLine(
            card_id=env.new_id(),
            on=on,
            quantity=quantity,
            product_id=prod.id,
            sku=prod.sku,
            name=prod.product.name,
            location=location,
            location_id=location_id,
            supplier_sku=supplier_skus.get(prod.sku, ""),
            batch=batch,
        )
    return list(merged.values())


def _where(p: Purchase, env: Env, item: Mapping[str, Any], *, bins: bool) -> tuple[str, str]:
    """(Location text, LocationID) for a receipt line: a location or one of its bins."""
    wanted = item.get("locationid")
    if wanted:
        for loc in env.ref.locations:
            if loc.id == str(wanted).lower():
                return loc.name, loc.id
            for b in loc.bins:
                if b.id.lower() == str(wanted).lower():
                    return b.display, b.id
        raise Cin7SandboxError(f"Location '{wanted}' was not found in Locations reference book")
    name = str(item.get("location") or p.location)
    found = env.ref.location(name.split(":")[0])
    if found is None:
        raise Cin7SandboxError(f"Location '{name}' was not found in Locations reference book")
    loc = found
    if ":" in name:
        bin_name = name.split(":", 1)[1].strip().lower()
        for b in loc.bins:
            if b.name.lower() == bin_name:
                return b.display, b.id
    if bins and loc.bins:
        return loc.bins[0].display, loc.bins[0].id
    return loc.name, loc.id


def post_stock(p: Purchase, env: Env, *, status: str, lines: Any) -> None:
    """`POST /purchase/stock` (Simple): add new lines; authorise with `Status: AUTHORISED`."""
    require_simple(p)
    require_open(p)
    if p.order_status != AUTHORISED:
        raise Cin7SandboxError(ORDER_FIRST_STOCK)
    group = p.group()
    if group.sr_status not in (NA, DRAFT):
        raise Cin7SandboxError(
            f"Stock Received status is {group.sr_status}. "
            "Only DRAFT or NOT AVAILABLE Stock Received can be changed"
        )
    if p.approach == "INVOICE" and not (group.invoice and group.invoice.status in DONE):
        raise Cin7SandboxError(INVOICE_FIRST)
    status = (status or DRAFT).upper()
    if status not in (DRAFT, AUTHORISED):
        raise Cin7SandboxError("'Status' should be DRAFT or AUTHORISED")
    new = _stock_lines(p, env, lines, default_day=None, bins=False)
    existing = {(x.product_id, x.location_id, x.batch, x.on) for x in group.sr_lines}
    for x in new:
        if (x.product_id, x.location_id, x.batch, x.on) in existing:
            raise Cin7SandboxError(
                "Cannot add duplicate value in stock received lines. "
                f"(Product:{x.sku}, Location:{x.location})"
            )
    if status == AUTHORISED and not group.sr_lines and not new:
        raise Cin7SandboxError("Stock Received has no lines to authorise")
    if status == AUTHORISED and p.approach == "INVOICE":
        _require_match(invoiced(p, stock_only=True), by_sku(group.sr_lines + new))
    group.sr_lines.extend(new)
    group.sr_status = status


def _require_match(invoiced_qty: dict[str, Decimal], received_qty: dict[str, Decimal]) -> None:
    for sku in sorted(set(invoiced_qty) | set(received_qty)):
        inv = invoiced_qty.get(sku, Decimal(0))
        rec = received_qty.get(sku, Decimal(0))
        if inv != rec:
            raise Cin7SandboxError(mismatch_message(sku, inv, rec))


def due_date(env: Env, terms: str, invoice_day: date) -> date:
    """The due date a payment term gives an invoice (§5.10 methods)."""
    ref = env.ref.term_by_name.get(terms.lower())
    if ref is None:
        return invoice_day + timedelta(days=30)
    term = ref.term
    year, month = (invoice_day.year, invoice_day.month + 1)
    if month > 12:
        year, month = year + 1, 1
    last = calendar.monthrange(year, month)[1]
    if term.method == "day of next month":
        return date(year, month, min(term.duration, last))
    if term.method == "last day of next month":
        return date(year, month, last)
    if term.method == "days since the end of the month":
        end = calendar.monthrange(invoice_day.year, invoice_day.month)[1]
        return date(invoice_day.year, invoice_day.month, end) + timedelta(days=term.duration)
    return invoice_day + timedelta(days=term.duration)


def post_invoice(
    p: Purchase,
    env: Env,
    *,
    status: str,
    number: str | None,
    invoice_day: date | None,
    due: date | None,
    lines: Any,
    charges: Any,
) -> None:
    """`POST /purchase/invoice` (Simple): overwrite the invoice; authorising a Simple invoice
    needs the invoiced quantity to equal the received quantity, product by product."""
    require_simple(p)
    require_open(p)
    if p.order_status != AUTHORISED:
        raise Cin7SandboxError(ORDER_FIRST_INVOICE)
    group = p.group()
    inv = group.invoice
    if inv is not None and inv.status not in (NA, DRAFT):
        raise Cin7SandboxError(
            f"Invoice status is {inv.status}. Only DRAFT or NOT AVAILABLE Invoice can be changed"
        )
    if p.approach == "STOCK" and group.sr_status != AUTHORISED:
        raise Cin7SandboxError(STOCK_FIRST)
    status = (status or DRAFT).upper()
    if status not in (DRAFT, AUTHORISED):
        raise Cin7SandboxError("'Status' should be DRAFT or AUTHORISED")
    new_lines = build_lines(p, env, lines, invoice=True)
    new_charges = build_charges(p, env, charges) if charges is not None else None
    if inv is None:
        inv = Invoice(invoice_number="", status=DRAFT)
    candidate_lines = new_lines or inv.lines
    if status == AUTHORISED:
        if not candidate_lines:
            raise Cin7SandboxError("Invoice has no lines to authorise")
        if p.approach == "STOCK":
            stocked = [x for x in candidate_lines if not x.non_inventory]
            _require_match(by_sku(stocked), by_sku(group.sr_lines))
    invoice_day = invoice_day or inv.invoice_date or env.today()
    inv.lines = candidate_lines
    if new_charges is not None:
        inv.charges = new_charges
    inv.invoice_number = number if number is not None else inv.invoice_number
    inv.invoice_date = invoice_day
    inv.due_date = due or due_date(env, p.terms, invoice_day)
    inv.status = status
    group.invoice = inv


# --- the sandbox's own verbs (the same rules, with sensible defaults) --------------------------


def open_to_receive(p: Purchase) -> dict[str, Decimal]:
    """What a receipt with no lines takes: ordered (or, invoice first on a Simple purchase,
    invoiced) quantity not yet on a receipt line."""
    target = ordered_stock(p)
    if not p.advanced and p.approach == "INVOICE":
        target = invoiced(p, stock_only=True) or target
    if p.advanced:
        done = by_sku([x for g in p.groups if g.putaway_status != VOIDED for x in g.putaway_lines])
    else:
        done = by_sku(p.groups[0].sr_lines if p.groups else [])
    return {sku: q - done.get(sku, Decimal(0)) for sku, q in target.items() if q > done.get(sku, 0)}


def receive(p: Purchase, env: Env, lines: Any, on: date | None, *, authorise: bool = True) -> None:
    """Receive stock: on a Simple purchase into its one StockReceived block (authorised
    unless `authorise` is false); on an Advanced one as a new I&R group whose PutAway block is
    authorised and whose StockReceived block stays DRAFT, as seen live (§6.4)."""
    on = on or env.today()
    if p.service:
        raise Cin7SandboxError(SERVICE_NOT_RECEIVED)
    if lines is None:
        todo = open_to_receive(p) if not p.voided else {}
        if not todo and not p.voided and p.order_status == AUTHORISED:
            raise Cin7SandboxError(f"Nothing is left to receive on {p.order_number}")
        lines = [{"SKU": sku, "Quantity": str(q)} for sku, q in todo.items()]
    if not p.advanced:
        raw = [{**keys(x), "date": keys(x).get("date") or on.isoformat()} for x in lines]
        post_stock(p, env, status=AUTHORISED if authorise else DRAFT, lines=raw)
        return
    require_open(p)
    if p.order_status != AUTHORISED:
        raise Cin7SandboxError(ORDER_FIRST_STOCK)
    if p.approach == "INVOICE" and not any(i.status in DONE for i in p.invoices()):
        raise Cin7SandboxError(INVOICE_FIRST)
    put = _stock_lines(p, env, lines, default_day=on, bins=True)
    if not put:
        raise Cin7SandboxError("'Lines' is required")
    target = next((g for g in p.groups if g.invoice is not None and g.putaway_status == NA), None)
    if target is None:
        target = Group(task_id=env.new_id(), number=len(p.groups))
        p.groups.append(target)
    location = env.ref.location(p.location) or env.ref.default_location
    target.sr_lines = [
        StockLine(
            env.new_id(),
            x.on,
            x.quantity,
            x.product_id,
            x.sku,
            x.name,
            None,
            None if len(location.bins) else location.id,
            x.supplier_sku,
        )
        for x in put
    ]
    target.sr_status = DRAFT
    target.putaway_lines = put
    target.putaway_status = AUTHORISED


def _services(p: Purchase) -> dict[str, Decimal]:
    """Ordered Service and Non Inventory lines: invoiced without ever being received."""
    return by_sku([x for x in p.lines if x.non_inventory])


def _uninvoiced(p: Purchase) -> dict[str, Decimal]:
    base = by_sku(p.receipt_lines()) if p.approach == "STOCK" else ordered(p)
    if p.approach == "STOCK":
        base = {**base, **_services(p)}
    done = invoiced(p)
    return {sku: q - done.get(sku, Decimal(0)) for sku, q in base.items() if q > done.get(sku, 0)}


def invoice(
    p: Purchase,
    env: Env,
    *,
    number: str,
    lines: Any,
    on: date | None = None,
    authorise: bool = True,
) -> None:
    """Invoice a purchase. By default the lines are what the rules allow: on a Simple
    purchase the received quantity (stock first) or the ordered quantity (invoice first); on
    an Advanced one what is received (or ordered) and not yet invoiced."""
    require_open(p)
    if lines is None:
        if p.service:
            todo = {}
        elif p.advanced:
            todo = _uninvoiced(p)
        elif p.approach == "STOCK":
            todo = {**by_sku(p.receipt_lines()), **_services(p)}
        else:
            todo = ordered(p)
        lines = [{"SKU": sku, "Quantity": str(q)} for sku, q in todo.items()]
    first_invoice = not p.invoices() or all(not i.charges for i in p.invoices())
    charges = (
        [
            {
                "Description": c.description,
                "Reference": c.reference,
                "Price": str(c.total),
                "TaxRule": c.tax_rule,
                "Account": c.account,
            }
            for c in p.charges
        ]
        if first_invoice
        else []
    )
    if not p.advanced:
        post_invoice(
            p,
            env,
            status=AUTHORISED if authorise else DRAFT,
            number=number,
            invoice_day=on,
            due=None,
            lines=lines,
            charges=charges,
        )
        return
    if p.order_status != AUTHORISED:
        raise Cin7SandboxError(ORDER_FIRST_INVOICE)
    if p.approach == "STOCK" and not any(g.putaway_status == AUTHORISED for g in p.groups):
        raise Cin7SandboxError(STOCK_FIRST)
    built = build_lines(p, env, lines, invoice=True)
    if p.service and built:
        raise Cin7SandboxError(SERVICE_CHARGES_ONLY)
    if not built and not (p.service and charges):
        raise Cin7SandboxError("Nothing is left to invoice on " + p.order_number)
    day = on or env.today()
    target = next((g for g in p.groups if g.invoice is None and g.putaway_status != NA), None)
    if target is None:
        target = Group(task_id=env.new_id(), number=len(p.groups))
        p.groups.append(target)
    target.invoice = Invoice(
        invoice_number=number,
        status=AUTHORISED if authorise else DRAFT,
        invoice_date=day,
        due_date=due_date(env, p.terms, day),
        lines=built,
        charges=build_charges(p, env, charges),
    )


def void(p: Purchase) -> None:
    """Void the purchase: every sub-document that exists becomes VOIDED (§5.3 DELETE)."""
    if p.voided:
        raise Cin7SandboxError(f"Purchase {p.order_number} is already voided")
    p.voided = True
    if p.order_status != NA:
        p.order_status = VOIDED
    for g in p.groups:
        if g.sr_status != NA:
            g.sr_status = VOIDED
        if g.putaway_status != NA:
            g.putaway_status = VOIDED
        if g.invoice is not None and g.invoice.status != NA:
            g.invoice.status = VOIDED
    for cn in p.credits:
        cn.status = VOIDED
        if cn.unstock_status != NA:
            cn.unstock_status = VOIDED


def pay(p: Purchase, env: Env, amount: Decimal | None, on: date | None) -> None:
    """Pay the first invoice with money outstanding; fully paid invoices become PAID."""
    require_open(p)
    for inv in p.invoices():
        outstanding = inv.total - inv.paid
        if inv.status == AUTHORISED and outstanding > 0:
            value = q2(amount if amount is not None else outstanding)
            if value <= 0:
                raise Cin7SandboxError("'Amount' should be greater than 0")
            inv.payments.append(
                Payment(
                    id=env.new_id(),
                    reference=f"Payment {len(inv.payments) + 1}",
                    amount=value,
                    date_paid=on or env.today(),
                    created=env.now(),
                    currency_rate=p.currency_rate,
                )
            )
            if inv.paid >= q2(inv.total):
                inv.status = PAID
            return
    raise Cin7SandboxError(f"Purchase {p.order_number} has no authorised invoice to pay")


def credit(
    p: Purchase, env: Env, *, number: str, supplier_ref: str, lines: Any, on: date | None
) -> None:
    """Credit returned goods: an authorised credit note and its unstock, linked by CardID."""
    require_open(p)
    invoices = [i for i in p.invoices() if i.status in DONE]
    if not invoices:
        raise Cin7SandboxError(f"Purchase {p.order_number} has no authorised invoice to credit")
    if lines is None:
        lines = [{"SKU": x.sku, "Quantity": str(x.quantity)} for x in invoices[0].lines[:1]]
    built = build_lines(p, env, lines, invoice=True)
    if not built:
        raise Cin7SandboxError("'Lines' is required")
    day = on or env.today()
    unstock: list[UnstockLine] = []
    pool = list(p.receipt_lines())
    for line in (x for x in built if not x.non_inventory):
        left = line.quantity
        for x in pool:
            if x.sku == line.sku and left > 0:
                take = min(left, x.quantity)
                unstock.append(
                    UnstockLine(x.card_id, day, take, x.product_id, x.sku, x.name, x.location)
                )
                left -= take
    p.credits.append(
        CreditNote(
            task_id=p.id if not p.advanced else env.new_id(),
            number=number,
            invoice_number=supplier_ref,
            credit_date=day,
            status=AUTHORISED,
            lines=built,
            unstock_status=AUTHORISED if unstock else NA,
            unstock_lines=unstock,
        )
    )


def convert(p: Purchase) -> None:
    """Convert a Simple purchase to Advanced (live users do, §8 item 2): its receipt becomes
    an I&R group whose PutAway mirrors the StockReceived block."""
    if p.advanced:
        raise Cin7SandboxError(f"Purchase {p.order_number} is already an Advanced Purchase")
    p.type = ADVANCED
    for g in p.groups:
        g.putaway_lines = list(g.sr_lines)
        g.putaway_status = g.sr_status
