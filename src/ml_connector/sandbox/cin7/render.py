"""The JSON Cin7 Core sends for suppliers and purchases (reference §5.1-§5.5, §10).

Shapes:
- `simple_detail`: `GET /purchase`; `StockReceived`, `Invoice`, `CreditNote` (with an `Unstock`
  object) and `ManualJournals` are objects, present with `Status: "NOT AVAILABLE"` when empty.
- `advanced_detail`: `GET /advanced-purchase`; the same header plus `Type` and the `Combined*`
  statuses, and the sub-documents as arrays of task blocks: `StockReceived[]`, `PutAway[]`,
  `Invoice[]`, `CreditNote[]` (each with an `Unstock[]`), `ManualJournals[]`.
- Every line that has a `ProductID` carries the product dimension and custom fields.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ml_connector.sandbox.cin7.formats import day, num, stamp, stamp_z, ticks_z
from ml_connector.sandbox.cin7.model import (
    AUTHORISED,
    DONE,
    NA,
    Address,
    Charge,
    CreditNote,
    Group,
    Invoice,
    Line,
    Payment,
    Purchase,
    StockLine,
    Supplier,
    statuses,
)
from ml_connector.sandbox.cin7.reference import Reference

Row = dict[str, Any]

_DIMENSIONS: Row = {
    "ProductLength": 0,
    "ProductWidth": 0,
    "ProductHeight": 0,
    "ProductWeight": 0,
    "WeightUnits": "kg",
    "DimensionsUnits": "cm",
    **{f"ProductCustomField{i}": "" for i in range(1, 11)},
}


def supplier_row(s: Supplier) -> Row:
    row: Row = {
        "ID": s.id,
        "Name": s.name,
        "Currency": s.currency,
        "PaymentTerm": s.payment_term,
        "TaxRule": s.tax_rule,
        "Discount": num(s.discount),
        "Comments": s.comments,
        "AccountPayable": s.account_payable,
        "TaxNumber": s.tax_number,
    }
    for index, value in enumerate(s.attributes, start=1):
        row[f"AdditionalAttribute{index}"] = value
    row.update(
        {
            "AttributeSet": s.attribute_set,
            "Status": s.status,
            "LastModifiedOn": stamp_z(s.modified),
            "Addresses": [
                {
                    "ID": a.id,
                    "Line1": a.line1,
                    "Line2": a.line2,
                    "City": a.city,
                    "State": a.state,
                    "Postcode": a.postcode,
                    "Country": a.country,
                    "Type": a.type,
                    "DefaultForType": a.default_for_type,
                }
                for a in s.addresses
            ],
            "Contacts": [
                {
                    "ID": c.id,
                    "Name": c.name,
                    "Phone": c.phone,
                    "MobilePhone": c.mobile,
                    "Fax": c.fax,
                    "Email": c.email,
                    "Website": c.website,
                    "Default": c.default,
                    "Comment": c.comment,
                    "IncludeInEmail": c.include_in_email,
                }
                for c in s.contacts
            ],
        }
    )
    return row


def order_line(x: Line) -> Row:
    return {
        "ProductID": x.product_id,
        "SKU": x.sku,
        "Name": x.name,
        "Quantity": num(x.quantity),
        "Price": num(x.price),
        "Discount": num(x.discount),
        "Tax": num(x.tax),
        "TaxRule": x.tax_rule,
        "SupplierSKU": x.supplier_sku,
        "Comment": x.comment,
        "Total": num(x.total),
        # Live invoice and stock lines carry NonInventory (§5.3); order lines are read from
        # the same product record, so they carry it too (inferred).
        "NonInventory": x.non_inventory,
        **_DIMENSIONS,
    }


def invoice_line(x: Line) -> Row:
    return {
        "ProductID": x.product_id,
        "SKU": x.sku,
        "Name": x.name,
        "Quantity": num(x.quantity),
        "Price": num(x.price),
        "Discount": num(x.discount),
        "Tax": num(x.tax),
        "TaxRule": x.tax_rule,
        "Account": x.account,
        "Comment": x.comment,
        "Total": num(x.total),
        "NonInventory": x.non_inventory,
        **_DIMENSIONS,
    }


def charge_row(c: Charge, *, with_account: bool) -> Row:
    row: Row = {
        "Description": c.description,
        "Reference": c.reference,
        "Price": num(c.price),
        "Quantity": num(c.quantity),
        "Discount": num(c.discount),
        "Tax": num(c.tax),
        "Total": num(c.total),
        "TaxRule": c.tax_rule,
    }
    if with_account:
        row["Account"] = c.account
    return row


def charge_as_line(c: Charge, *, with_account: bool) -> Row:
    """An additional charge merged into `Lines` (`CombineAdditionalCharges=true`)."""
    row: Row = {
        "ProductID": None,
        "SKU": "",
        "Name": c.description,
        "Quantity": num(c.quantity),
        "Price": num(c.price),
        "Discount": num(c.discount),
        "Tax": num(c.tax),
        "TaxRule": c.tax_rule,
        "Comment": c.reference,
        "Total": num(c.total),
    }
    if with_account:
        row["Account"] = c.account
    return row


def stock_line(x: StockLine, *, received: bool) -> Row:
    return {
        "Date": day(x.on),
        "Quantity": num(x.quantity),
        "ProductID": x.product_id,
        "SKU": x.sku,
        "Name": x.name,
        "Location": x.location,
        "LocationID": x.location_id,
        "Received": received,
        "BatchSN": x.batch,
        "SupplierSKU": x.supplier_sku,
        "ExpiryDate": None,
        "CardID": x.card_id,
        "NonInventory": False,
        **_DIMENSIONS,
    }


def _sum(values: list[Line], charges: list[Charge]) -> tuple[Decimal, Decimal]:
    before = sum((x.total for x in values), Decimal(0)) + sum(
        (c.total for c in charges), Decimal(0)
    )
    tax = sum((x.tax for x in values), Decimal(0)) + sum((c.tax for c in charges), Decimal(0))
    return before, tax


def order_doc(p: Purchase, *, combine: bool = False) -> Row:
    lines = [order_line(x) for x in p.lines]
    charges = [charge_row(c, with_account=False) for c in p.charges]
    if combine:
        lines += [charge_as_line(c, with_account=False) for c in p.charges]
        charges = []
    before, tax = _sum(p.lines, p.charges)
    return {
        "Memo": p.memo,
        "Status": p.order_status,
        "Lines": lines,
        "AdditionalCharges": charges,
        "Prepayments": [],
        "TotalBeforeTax": num(before),
        "Tax": num(tax),
        "Total": num(before + tax),
    }


def _payment(pay: Payment) -> Row:
    return {
        "ID": pay.id,
        "Reference": pay.reference,
        "Amount": num(pay.amount),
        "DatePaid": day(pay.date_paid),
        "Account": pay.account,
        "CurrencyRate": num(pay.currency_rate),
        "DateCreated": ticks_z(pay.created),
    }


def invoice_doc(p: Purchase, inv: Invoice | None, *, combine: bool = False) -> Row:
    """The invoice fields shared by the Simple object and the Advanced block."""
    if inv is None:
        inv = Invoice(invoice_number="", status=NA)
    lines = [invoice_line(x) for x in inv.lines]
    charges = [charge_row(c, with_account=True) for c in inv.charges]
    if combine:
        lines += [charge_as_line(c, with_account=True) for c in inv.charges]
        charges = []
    return {
        "InvoiceDate": day(inv.invoice_date),
        "InvoiceDueDate": day(inv.due_date),
        "InvoiceNumber": inv.invoice_number,
        "Status": inv.status,
        "CurrencyRate": num(p.currency_rate) if p.advanced else None,
        "Lines": lines,
        "AdditionalCharges": charges,
        "Payments": [_payment(pay) for pay in inv.payments],
        "TotalBeforeTax": num(inv.total_before_tax),
        "Tax": num(inv.tax),
        "Total": num(inv.total),
        "Paid": num(inv.paid),
    }


def _unstock_lines(cn: CreditNote | None) -> list[Row]:
    if cn is None:
        return []
    return [
        {
            "CardID": u.card_id,
            "Date": day(u.on),
            "Quantity": num(u.quantity),
            "ProductID": u.product_id,
            "SKU": u.sku,
            "Name": u.name,
            "Location": u.location,
            "BatchSN": "",
            "ExpiryDate": None,
            **_DIMENSIONS,
        }
        for u in cn.unstock_lines
    ]


def _credit_fields(cn: CreditNote | None) -> Row:
    if cn is None:
        return {
            "CreditNoteNumber": "",
            "CreditNoteDate": None,
            "Status": NA,
            "Lines": [],
            "AdditionalCharges": [],
            "Refunds": [],
        }
    return {
        "CreditNoteNumber": cn.number,
        "CreditNoteDate": day(cn.credit_date),
        "Status": cn.status,
        "Lines": [invoice_line(x) for x in cn.lines],
        "AdditionalCharges": [],
        "Refunds": [],
    }


def _credit_totals(cn: CreditNote | None) -> Row:
    before = cn.total_before_tax if cn else Decimal(0)
    tax = cn.tax if cn else Decimal(0)
    return {"TotalBeforeTax": num(before), "Tax": num(tax), "Total": num(before + tax)}


def _movements(p: Purchase) -> list[Row]:
    moves: list[Row] = []
    for g in p.groups:
        block_ok = g.putaway_status == AUTHORISED if p.advanced else g.sr_status == AUTHORISED
        if block_ok:
            for x in g.putaway_lines if p.advanced else g.sr_lines:
                moves.append(
                    {"TaskID": g.task_id, "ProductID": x.product_id, "Date": day(x.on), "COGS": 0}
                )
        if g.invoice is not None and g.invoice.status in DONE:
            for line in g.invoice.lines:
                if line.product_id:
                    moves.append(
                        {
                            "TaskID": g.task_id,
                            "ProductID": line.product_id,
                            "Date": day(g.invoice.invoice_date),
                            "COGS": num((line.total * p.currency_rate).quantize(Decimal("0.01"))),
                        }
                    )
    return moves


def _address(a: Address | None) -> Row:
    if a is None:
        return {
            "DisplayAddressLine1": "",
            "DisplayAddressLine2": "",
            "Line1": "",
            "Line2": "",
            "City": "",
            "State": "",
            "Postcode": "",
            "Country": "",
        }
    return {
        "DisplayAddressLine1": a.line1,
        "DisplayAddressLine2": f"{a.city} {a.state} {a.postcode} {a.country}".strip(),
        "Line1": a.line1,
        "Line2": a.line2,
        "City": a.city,
        "State": a.state,
        "Postcode": a.postcode,
        "Country": a.country,
    }


def _header(p: Purchase, ref: Reference, status: str) -> Row:
    location = ref.location(p.location) or ref.default_location
    line1, line2, city, state, postcode, country = location.address
    return {
        "ID": p.id,
        "SupplierID": p.supplier_id,
        "Supplier": p.supplier_name,
        "Contact": p.contact,
        "Phone": p.phone,
        "InventoryAccount": p.inventory_account,
        "BlindReceipt": False,
        "Approach": p.approach,
        "BillingAddress": _address(p.billing),
        "ShippingAddress": {
            "DisplayAddressLine1": line1,
            "DisplayAddressLine2": f"{city} {state} {postcode} {country}".strip(),
            "Line1": line1,
            "Line2": line2,
            "City": city,
            "State": state,
            "Postcode": postcode,
            "Country": country,
            "ShipToOther": False,
            "Company": None,
        },
        "BaseCurrency": p.base_currency,
        "SupplierCurrency": p.currency,
        "TaxRule": p.tax_rule,
        "TaxCalculation": "Exclusive",
        "Terms": p.terms,
        "RequiredBy": day(p.required_by),
        "Location": p.location,
        "Note": p.note,
        "OrderNumber": p.order_number,
        "OrderDate": day(p.order_date),
        "Status": status,
        "RelatedDropShipSaleTask": None,
        "CurrencyRate": num(p.currency_rate),
        "LastUpdatedDate": stamp(p.updated),
    }


def _tail(p: Purchase) -> Row:
    return {
        "AdditionalAttributes": {
            f"AdditionalAttribute{i}": value for i, value in enumerate(p.attributes, start=1)
        },
        "Attachments": [],
        "InventoryMovements": _movements(p),
    }


def simple_detail(p: Purchase, ref: Reference, *, combine: bool = False) -> Row:
    """`GET /purchase`: sub-documents are objects."""
    st = statuses(p)
    group: Group | None = p.groups[0] if p.groups else None
    credit = p.credits[0] if p.credits else None
    doc = _header(p, ref, st.status)
    received = group is not None and group.sr_status == AUTHORISED
    doc["Order"] = order_doc(p, combine=combine)
    doc["StockReceived"] = {
        "Status": group.sr_status if group else NA,
        "Lines": [stock_line(x, received=received) for x in group.sr_lines] if group else [],
    }
    doc["Invoice"] = invoice_doc(p, group.invoice if group else None, combine=combine)
    doc["CreditNote"] = {
        **_credit_fields(credit),
        "Unstock": {
            "Status": credit.unstock_status if credit else NA,
            "Lines": _unstock_lines(credit),
        },
        **_credit_totals(credit),
    }
    doc["ManualJournals"] = {"Status": NA, "Lines": []}
    doc.update(_tail(p))
    return doc


def advanced_detail(p: Purchase, ref: Reference, *, combine: bool = False) -> Row:
    """`GET /advanced-purchase`: sub-documents are arrays of task blocks.

    A Simple purchase is answered in the same array shape (one `StockReceived` block, no
    `PutAway`), as the APIB says this endpoint supports Simple purchases. Live, ASUNG saw an
    "empty shell" (`Status: ""`, no lines) instead (§8 item 3); clients route by `Type`.
    """
    st = statuses(p)
    doc = _header(p, ref, st.status)
    doc["Type"] = p.type
    doc["CombinedInvoiceStatus"] = st.invoicing
    doc["CombinedReceivingStatus"] = st.receiving
    doc["CombinedPaymentStatus"] = st.payment
    doc["IsServiceOnly"] = p.service
    doc["Order"] = order_doc(p, combine=combine)
    doc["StockReceived"] = [
        {
            "TaskID": g.task_id,
            "InvoicingAndReceivingNumber": g.number,
            "Status": g.sr_status,
            "Lines": [stock_line(x, received=g.sr_status == AUTHORISED) for x in g.sr_lines],
        }
        for g in p.groups
        if g.sr_status != NA
    ]
    doc["PutAway"] = [
        {
            "TaskID": g.task_id,
            "InvoicingAndReceivingNumber": g.number,
            "Status": g.putaway_status,
            "Lines": [
                stock_line(x, received=g.putaway_status == AUTHORISED) for x in g.putaway_lines
            ],
        }
        for g in p.groups
        if g.putaway_status != NA
    ]
    doc["Invoice"] = [
        {"TaskID": g.task_id, "InvoicingAndReceivingNumber": g.number}
        | invoice_doc(p, g.invoice, combine=combine)
        for g in p.groups
        if g.invoice is not None
    ]
    doc["CreditNote"] = [
        {"TaskID": cn.task_id, "CreditNoteInvoiceNumber": cn.invoice_number}
        | _credit_fields(cn)
        | {
            "Unstock": [
                {"TaskID": cn.task_id, "Status": cn.unstock_status, "Lines": _unstock_lines(cn)}
            ]
        }
        | _credit_totals(cn)
        for cn in p.credits
    ]
    doc["ManualJournals"] = []
    doc.update(_tail(p))
    return doc


def list_row(p: Purchase) -> Row:
    """One `PurchaseList` item (§5.2)."""
    st = statuses(p)
    done = [inv for inv in p.invoices() if inv.status in DONE]
    first = done[0] if done else None
    credit = p.credits[0] if p.credits else None
    return {
        "ID": p.id,
        "BlindReceipt": False,
        "OrderNumber": p.order_number,
        "Status": st.status,
        "OrderDate": day(p.order_date),
        "InvoiceDate": day(first.invoice_date) if first else None,
        "Supplier": p.supplier_name,
        "SupplierID": p.supplier_id,
        "InvoiceNumber": first.invoice_number if first else "",
        "InvoiceAmount": num(sum((inv.total for inv in done), Decimal(0))),
        "PaidAmount": num(sum((inv.paid for inv in done), Decimal(0))),
        "InvoiceDueDate": day(first.due_date) if first else None,
        "RequiredBy": day(p.required_by),
        "BaseCurrency": p.base_currency,
        "SupplierCurrency": p.currency,
        "CreditNoteNumber": credit.number if credit else "",
        "OrderStatus": st.order,
        "StockReceivedStatus": st.stock_received,
        "UnstockStatus": st.unstock,
        "InvoiceStatus": st.invoice,
        "CreditNoteStatus": st.credit_note,
        "LastUpdatedDate": stamp(p.updated),
        "Type": p.type,
        "CombinedInvoiceStatus": st.invoicing,
        "CombinedPaymentStatus": st.payment,
        "CombinedReceivingStatus": st.receiving,
        "IsServiceOnly": p.service,
        "DropShipTaskID": None,
    }


def order_subdoc(p: Purchase, *, combine: bool) -> Row:
    """`GET`/`POST /purchase/order`."""
    doc = order_doc(p, combine=combine)
    doc.pop("Prepayments")
    return {"TaskID": p.id, "CombineAdditionalCharges": combine, **doc}


def stock_subdoc(p: Purchase) -> Row:
    """`GET`/`POST /purchase/stock`."""
    group = p.groups[0] if p.groups else None
    status = group.sr_status if group else NA
    lines = group.sr_lines if group else []
    return {
        "TaskID": p.id,
        "Status": status,
        "Lines": [stock_line(x, received=status == AUTHORISED) for x in lines],
    }


def invoice_subdoc(p: Purchase, *, combine: bool) -> Row:
    """`GET`/`POST /purchase/invoice`."""
    group = p.groups[0] if p.groups else None
    doc = invoice_doc(p, group.invoice if group else None, combine=combine)
    for key in ("CurrencyRate", "Payments", "Paid"):
        doc.pop(key)
    return {
        "TaskID": p.id,
        "CombineAdditionalCharges": combine,
        **doc,
        "InvoiceTotalAmount": doc["Total"],
        "InvoiceTotalTaxAmount": doc["Tax"],
    }
