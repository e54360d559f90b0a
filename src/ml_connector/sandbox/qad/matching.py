"""Supplier invoices (gap route `supplierInvoices`) and the three-way match.

An invoice is saved only when every matched line is covered by received-and-not-yet-invoiced
quantity (of the PO line, or of one receiver when named), the GL lines' analysis codes fit
their accounts and the amount equals the matched amount plus GL lines plus tax; otherwise
nothing is saved. Its matching is Finished (quantities booked as invoiced) when each price is
within tolerance of the PO price; a price beyond it leaves the matching Ongoing, with a
warning, for a person to finish in QAD. Matched lines carry the PO line's GL account.
A reference already used by the same supplier for the same type is only a warning, as in QAD.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ml_connector.sandbox.qad.envelope import (
    WARNING,
    Codes,
    Msg,
    Outcome,
    RecordReader,
    money_text,
    qty_text,
    read_envelope,
    refused,
)
from ml_connector.sandbox.qad.records import (
    InvoiceGlLine,
    InvoiceMatch,
    PoLine,
    PurchaseOrder,
    ReceiverLine,
    SupplierInvoice,
)
from ml_connector.sandbox.qad.reference import check_analysis, rate_of
from ml_connector.sandbox.qad.tenant import QadTenant

INVOICE = "Invoice"
CREDIT_NOTE = "CreditNote"
AMOUNT_TOLERANCE = Decimal("0.01")
DUPLICATE_REFERENCE = "The reference already exists on another invoice for this supplier"


@dataclass
class _Draw:
    """One matching line resolved to its PO line (and receiver line, when one is named)."""

    match: InvoiceMatch
    line: PoLine
    receiver_line: ReceiverLine | None


def read_invoices(tenant: QadTenant, params: Mapping[str, str]) -> dict[str, Any]:
    """Read back by voucher, or search by supplier + reference; every given filter must hold."""
    wanted = {
        "entityCode": params.get("entityCode", ""),
        "postingYear": params.get("postingYear", ""),
        "daybookCode": params.get("daybookCode", ""),
        "voucher": params.get("voucher", ""),
        "supplierCode": params.get("supplierCode", ""),
        "invoiceReference": params.get("invoiceReference", ""),
        "invoiceType": params.get("invoiceType", ""),
    }
    rows = []
    supplier = wanted["supplierCode"].strip()
    candidates = (
        tenant.invoices_by_supplier.get(supplier, []) if supplier else tenant.invoices.values()
    )
    for invoice in candidates:
        row = invoice.to_json()
        if all(not v or str(row[k]) == v.strip() for k, v in wanted.items()):
            rows.append(row)
    return read_envelope("supplierInvoices", rows)


def post_invoice(
    tenant: QadTenant, record: Mapping[str, Any], params: Mapping[str, str]
) -> Outcome:
    reader = RecordReader(record)
    if reader.operation() != "C":
        return refused(
            record, Msg("Supplier invoices can only be created here", "dataOperation", "U")
        )
    entity = reader.text("entityCode") or tenant.entity
    if entity != tenant.entity:
        reader.fail("entityCode", f"Entity {entity} does not exist", entity, Codes.NOT_FOUND)
    supplier_code = reader.text("supplierCode", required=True, label="Supplier")
    supplier = tenant.supplier(supplier_code)
    if supplier_code and supplier is None:
        reader.fail(
            "supplierCode",
            f"Supplier {supplier_code} does not exist",
            supplier_code,
            Codes.NOT_FOUND,
        )
    reference = reader.text(
        "invoiceReference", required=True, max_len=40, label="Invoice reference"
    )
    kind = reader.choice("invoiceType", (INVOICE, CREDIT_NOTE), default=INVOICE)
    invoice_date = reader.date(
        "invoiceDate", default=dt.date.today().isoformat(), label="Invoice date"
    )
    posting_date = reader.date("postingDate", default=invoice_date, label="Posting date")
    currency = reader.text("currencyCode") or (supplier.currency if supplier else "")
    if currency not in tenant.currencies:
        reader.fail(
            "currencyCode", f"Currency {currency} does not exist", currency, Codes.NOT_FOUND
        )
    rate = reader.number(
        "exchangeRate",
        default=rate_of(tenant, reader, currency),
        positive=True,
        label="Exchange rate",
    )
    amount = reader.number("amountTC", label="Invoice amount")
    tax = reader.number("taxAmountTC", label="Tax amount")
    status_code = reader.text("invoiceStatusCode") or (supplier.invoice_status if supplier else "")
    status = tenant.invoice_statuses.get(status_code)
    if status is None:
        reader.fail(
            "invoiceStatusCode",
            f"Invoice status code {status_code} does not exist",
            status_code,
            Codes.NOT_FOUND,
        )
    daybook = reader.text("daybookCode") or "SUPINV"
    if daybook not in tenant.daybooks:
        reader.fail("daybookCode", f"Daybook {daybook} does not exist", daybook, Codes.NOT_FOUND)
    description = reader.text("description", max_len=80)
    due_default = invoice_date
    if supplier is not None and supplier.credit_terms in tenant.credit_terms:
        days = tenant.credit_terms[supplier.credit_terms].due_days
        due_default = (dt.date.fromisoformat(invoice_date) + dt.timedelta(days=days)).isoformat()
    due_date = reader.date("dueDate", default=due_default, label="Due date")

    orders = _linked_orders(tenant, reader, supplier_code)
    draws = _draws(tenant, reader, orders)
    gl_lines = _gl_lines(tenant, reader)
    if draws and status is not None and not status.receiver_matching:
        reader.fail(
            "invoiceStatusCode",
            f"Invoice status code {status_code} does not allow receiver matching",
            status_code,
        )
    if reader.errors:
        return refused(record, *reader.errors)

    messages: list[Msg] = []
    if kind == INVOICE:
        messages += _coverage_problems(draws)
    matched = sum((d.match.quantity * d.match.unit_price for d in draws), Decimal(0))
    expected = matched + sum((g.amount for g in gl_lines), Decimal(0)) + tax
    if abs(amount - expected) > AMOUNT_TOLERANCE:
        messages.append(
            Msg(
                f"Invoice amount {money_text(amount)} does not equal the matched amount "
                f"{money_text(expected)} (lines {money_text(matched)}, plus GL lines and tax)",
                "amountTC",
                money_text(amount),
                Codes.AMOUNT_MISMATCH,
            )
        )
    if messages:
        return refused(record, *messages)
    # A price beyond the tolerance does not refuse an initial invoice: QAD saves it and leaves
    # its receiver matching Ongoing for a person to finish (reference §4.4).
    variances = [msg for draw in draws for msg in _price_problems(tenant, draw)]
    messages += variances

    if any(
        i.entity == entity
        and i.supplier == supplier_code
        and i.type == kind
        and i.reference == reference
        for i in tenant.invoices_by_supplier.get(supplier_code, [])
    ):
        messages.append(
            Msg(
                DUPLICATE_REFERENCE,
                "invoiceReference",
                reference,
                Codes.DUPLICATE_REFERENCE,
                WARNING,
            )
        )
    if not variances:
        _apply(tenant, draws, credit=kind == CREDIT_NOTE)
    invoice = SupplierInvoice(
        voucher=tenant.next_number("voucher"),
        entity=entity,
        posting_year=dt.date.fromisoformat(posting_date).year,
        daybook=daybook,
        supplier=supplier_code,
        reference=reference,
        type=kind,
        invoice_date=invoice_date,
        posting_date=posting_date,
        due_date=due_date,
        currency=currency,
        exchange_rate=rate,
        amount=amount,
        tax_amount=tax,
        status_code=status_code,
        description=description,
        purchase_orders=[(po.domain, po.number) for po in orders.values()],
        matching=[d.match for d in draws],
        gl_lines=gl_lines,
        matching_status="Ongoing" if variances else "Finished",
    )
    tenant.add_invoice(invoice)
    return Outcome(invoice.to_json(), messages)


def _linked_orders(
    tenant: QadTenant, reader: RecordReader, supplier_code: str
) -> dict[str, PurchaseOrder]:
    orders: dict[str, PurchaseOrder] = {}
    raw = reader.record.get("purchaseOrders") or []
    if not isinstance(raw, list):
        reader.fail("purchaseOrders", "purchaseOrders must be a list")
        return orders
    for entry in raw:
        link = RecordReader(entry if isinstance(entry, dict) else {"purchaseOrderNumber": entry})
        domain = link.text("domainCode") or tenant.domain
        number = link.text("purchaseOrderNumber", required=True, label="Purchase order number")
        reader.errors += link.errors
        po = tenant.purchase_order(domain, number)
        if number and po is None:
            reader.fail(
                "purchaseOrders", f"Purchase order {number} does not exist", number, Codes.NOT_FOUND
            )
        elif po is not None and po.supplier != supplier_code:
            reader.fail(
                "purchaseOrders",
                f"Purchase order {number} belongs to supplier {po.supplier}, not {supplier_code}",
                number,
            )
        elif po is not None:
            orders[number] = po
    return orders


def _draws(
    tenant: QadTenant, reader: RecordReader, orders: dict[str, PurchaseOrder]
) -> list[_Draw]:
    draws: list[_Draw] = []
    raw = reader.record.get("matching") or []
    if not isinstance(raw, list) or not all(isinstance(x, dict) for x in raw):
        reader.fail("matching", "matching must be a list of lines")
        return draws
    for entry in raw:
        line_reader = RecordReader(entry)
        number = line_reader.text(
            "purchaseOrderNumber", required=True, label="Matching purchase order"
        )
        line_no = line_reader.integer("purchaseOrderLine", label="Matching line")
        quantity = line_reader.number("quantity", positive=True, label="Matching quantity")
        price = line_reader.number("unitPrice", minimum=Decimal(0), label="Matching unit price")
        receiver_number = line_reader.text("receiverNumber")
        for error in line_reader.errors:
            reader.fail("matching", f"PO {number} line {line_no}: {error.message}", error.value)
        if line_reader.errors:
            continue
        po = orders.get(number)
        if po is None:
            if tenant.purchase_order(tenant.domain, number) is not None:
                reader.fail(
                    "matching",
                    f"PO {number} is not linked to this invoice (purchaseOrders)",
                    number,
                )
            elif not any(e.field == "purchaseOrders" and e.value == number for e in reader.errors):
                reader.fail(
                    "matching", f"Purchase order {number} does not exist", number, Codes.NOT_FOUND
                )
            continue
        line = po.lines.get(line_no)
        if line is None:
            reader.fail(
                "matching",
                f"PO {number} line {line_no} does not exist",
                str(line_no),
                Codes.NOT_FOUND,
            )
            continue
        receiver_line = None
        if receiver_number:
            receiver = tenant.receivers.get(receiver_number)
            if receiver is None or receiver.po_number != number:
                reader.fail(
                    "matching",
                    f"{line.label()}: receiver {receiver_number} does not exist for this PO",
                    receiver_number,
                    Codes.NOT_FOUND,
                )
                continue
            receiver_line = next((r for r in receiver.lines if r.po_line == line_no), None)
            if receiver_line is None:
                reader.fail(
                    "matching",
                    f"{line.label()}: receiver {receiver_number} has no receipt of this line",
                    receiver_number,
                    Codes.NOT_FOUND,
                )
                continue
        match = InvoiceMatch(
            number, line_no, line.item, quantity, price, receiver_number, line.gl_account
        )
        draws.append(_Draw(match, line, receiver_line))
    return draws


def _gl_lines(tenant: QadTenant, reader: RecordReader) -> list[InvoiceGlLine]:
    lines: list[InvoiceGlLine] = []
    raw = reader.record.get("glLines") or []
    if not isinstance(raw, list) or not all(isinstance(x, dict) for x in raw):
        reader.fail("glLines", "glLines must be a list of lines")
        return lines
    for index, entry in enumerate(raw, start=1):
        line_reader = RecordReader(entry, where=f"GL line {index}: ")
        gl = InvoiceGlLine(
            gl_code=line_reader.text("glCode", required=True, label="GL account"),
            amount=line_reader.number("amountTC", label="Amount"),
            sub_account=line_reader.text("subAccount"),
            cost_centre=line_reader.text("costCentre"),
            project=line_reader.text("project"),
            description=line_reader.text("description", max_len=80),
        )
        reader.errors += [Msg(e.message, "glLines", e.value, e.code) for e in line_reader.errors]
        if gl.gl_code:
            reader.errors += check_analysis(
                tenant,
                gl.gl_code,
                gl.sub_account,
                gl.cost_centre,
                field="glLines",
                where=f"GL line {index}: ",
            )
        lines.append(gl)
    return lines


def _price_problems(tenant: QadTenant, draw: _Draw) -> list[Msg]:
    price, cost = draw.match.unit_price, draw.line.cost
    allowed = cost * tenant.price_tolerance_pct / 100
    if abs(price - cost) <= allowed or (cost == 0 and price == 0):
        return []
    return [
        Msg(
            f"{draw.line.label()}: unit price {qty_text(price)} is more than "
            f"{qty_text(tenant.price_tolerance_pct)} % away from the PO price {qty_text(cost)}; "
            "the matching stays Ongoing",
            "matching",
            qty_text(price),
            Codes.PRICE_TOLERANCE,
            WARNING,
        )
    ]


def _coverage_problems(draws: list[_Draw]) -> list[Msg]:
    """Received-not-invoiced must cover what is invoiced, per PO line and per named receiver."""
    per_line: dict[int, tuple[PoLine, Decimal]] = {}
    per_receiver: dict[int, tuple[_Draw, ReceiverLine, Decimal]] = {}
    for draw in draws:
        key = id(draw.line)
        line, total = per_line.get(key, (draw.line, Decimal(0)))
        per_line[key] = (line, total + draw.match.quantity)
        if draw.receiver_line is not None:
            rkey = id(draw.receiver_line)
            _, rline, rtotal = per_receiver.get(rkey, (draw, draw.receiver_line, Decimal(0)))
            per_receiver[rkey] = (draw, rline, rtotal + draw.match.quantity)
    problems = []
    for line, total in per_line.values():
        open_qty = line.qty_received - line.qty_invoiced
        if total > open_qty:
            problems.append(
                Msg(
                    f"{line.label()}: invoiced {qty_text(total)}, received and not yet "
                    f"invoiced {qty_text(max(open_qty, Decimal(0)))}",
                    "matching",
                    qty_text(total),
                    Codes.QUANTITY_NOT_COVERED,
                )
            )
    for draw, rline, total in per_receiver.values():
        open_qty = rline.quantity - rline.invoiced
        if total > open_qty:
            problems.append(
                Msg(
                    f"{draw.line.label()}: invoiced {qty_text(total)} on receiver "
                    f"{draw.match.receiver}, received and not yet invoiced "
                    f"{qty_text(max(open_qty, Decimal(0)))}",
                    "matching",
                    qty_text(total),
                    Codes.QUANTITY_NOT_COVERED,
                )
            )
    return problems


def _apply(tenant: QadTenant, draws: list[_Draw], *, credit: bool) -> None:
    """Book the matched quantities on PO lines and receiver lines (named ones first)."""
    for draw in sorted(draws, key=lambda d: d.receiver_line is None):
        qty, line = draw.match.quantity, draw.line
        if credit:
            line.qty_invoiced = max(Decimal(0), line.qty_invoiced - qty)
        else:
            line.qty_invoiced += qty
        line.revision += 1
        targets = [draw.receiver_line] if draw.receiver_line else _receiver_lines(tenant, line)
        if credit:
            targets.reverse()
        for target in targets:
            if qty <= 0:
                break
            if credit:
                step = min(qty, target.invoiced)
                target.invoiced -= step
            else:
                step = min(qty, max(target.quantity - target.invoiced, Decimal(0)))
                target.invoiced += step
            qty -= step


def _receiver_lines(tenant: QadTenant, line: PoLine) -> list[ReceiverLine]:
    return [
        rl
        for rc in tenant.receivers_by_po.get((line.domain, line.po_number), [])
        for rl in rc.lines
        if rl.po_line == line.line and rl.quantity > 0
    ]
