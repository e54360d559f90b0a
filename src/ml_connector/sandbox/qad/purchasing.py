"""Purchase orders: headers, and lines through initialize → fieldChangeV2 → commit.

As in QAD, defaulting (UOM, description, GL account, price) happens only on field change;
a commit takes the line as sent and validates it.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from ml_connector.sandbox.qad.envelope import (
    CHANGED_BY_ANOTHER_USER,
    Codes,
    Msg,
    Outcome,
    RecordReader,
    is_stale,
    num,
    qty_text,
    read_envelope,
    refused,
    today,
    with_keys,
)
from ml_connector.sandbox.qad.records import PoLine, PurchaseOrder
from ml_connector.sandbox.qad.reference import check_analysis, domain_of, rate_of
from ml_connector.sandbox.qad.tenant import QadTenant

LINE_FIELDS = ("siteCode", "itemCode", "quantityOrdered", "purchaseCost")


def read_headers(tenant: QadTenant, params: Mapping[str, str]) -> dict[str, Any]:
    domain = params.get("domainCode") or tenant.domain
    number = params.get("purchaseOrderNumber", "")
    supplier = params.get("supplierCode", "")
    found = [
        po
        for (po_domain, po_number), po in sorted(tenant.purchase_orders.items())
        if po_domain == domain
        and (not number or po_number == number)
        and (not supplier or po.supplier == supplier)
    ]
    return read_envelope("purchaseOrderHeaders", [po.to_json() for po in found])


def save_header(tenant: QadTenant, record: Mapping[str, Any], params: Mapping[str, str]) -> Outcome:
    record = with_keys(record, params, ("domainCode", "purchaseOrderNumber"))
    reader = RecordReader(record)
    op = reader.operation()
    domain = domain_of(tenant, reader)
    number = reader.text(
        "purchaseOrderNumber", required=op == "U", max_len=8, label="Purchase order number"
    )
    if reader.errors:
        return refused(record, *reader.errors)
    existing = tenant.purchase_order(domain, number) if number else None
    if op == "C" and existing is not None:
        return refused(
            record,
            Msg(
                f"Purchase order {number} already exists",
                "purchaseOrderNumber",
                number,
                Codes.ALREADY_EXISTS,
            ),
        )
    if op == "U":
        if existing is None:
            return refused(
                record,
                Msg(
                    f"Purchase order {number} does not exist",
                    "purchaseOrderNumber",
                    number,
                    Codes.NOT_FOUND,
                ),
            )
        if is_stale(record, existing.hash):
            return refused(
                record, Msg(CHANGED_BY_ANOTHER_USER, "concurrencyHash", "", Codes.CHANGED)
            )
        reader = RecordReader({**existing.content(), **record})

    supplier_code = reader.text("supplierCode", required=True, label="Supplier")
    supplier = tenant.supplier(supplier_code)
    if supplier_code and supplier is None:
        reader.fail(
            "supplierCode",
            f"Supplier {supplier_code} does not exist",
            supplier_code,
            Codes.NOT_FOUND,
        )
    elif supplier is not None and not supplier.is_active:
        reader.fail(
            "supplierCode", f"Supplier {supplier_code} is not active", supplier_code, Codes.INACTIVE
        )
    currency = reader.text("currencyCode") or (supplier.currency if supplier else "")
    if currency and currency not in tenant.currencies:
        reader.fail(
            "currencyCode", f"Currency {currency} does not exist", currency, Codes.NOT_FOUND
        )
    terms = reader.text("creditTermsCode") or (supplier.credit_terms if supplier else "")
    if terms and terms not in tenant.credit_terms:
        reader.fail("creditTermsCode", f"Credit terms {terms} do not exist", terms, Codes.NOT_FOUND)
    site = reader.text("shipToSite") or tenant.default_site
    if site not in tenant.sites:
        reader.fail("shipToSite", f"Site {site} does not exist", site, Codes.NOT_FOUND)
    rate = reader.number(
        "exchangeRate",
        default=rate_of(tenant, reader, currency),
        positive=True,
        label="Exchange rate",
    )
    bill_to = reader.text("billToCode")
    if bill_to and bill_to not in tenant.sites:
        reader.fail("billToCode", f"Bill-to {bill_to} does not exist", bill_to, Codes.NOT_FOUND)
    order_date = reader.date("orderDate", default=today(), label="Order date")
    due_date = reader.date("dueDate", default=order_date, label="Due date")
    remarks = reader.text("remarks", max_len=40, label="Remarks")
    status = reader.choice("orderStatus", ("O", "C"), default="O")
    if existing is not None and any(ln.qty_received for ln in existing.lines.values()):
        for name, old, new in (
            ("supplierCode", existing.supplier, supplier_code),
            ("currencyCode", existing.currency, currency),
        ):
            if old != new:
                reader.fail(name, f"{name} cannot change after goods were received", new)
    if reader.errors:
        return refused(record, *reader.errors)

    if existing is None:
        number = number or tenant.next_po_number(domain)
        po = PurchaseOrder(
            domain, number, supplier_code, currency, rate, terms, site, order_date, due_date
        )
        tenant.purchase_orders[(domain, number)] = po
    else:
        po = existing
        po.supplier, po.currency, po.exchange_rate, po.credit_terms = (
            supplier_code,
            currency,
            rate,
            terms,
        )
        po.ship_to_site, po.order_date, po.due_date = site, order_date, due_date
        po.revision += 1
    po.remarks = remarks
    if status != po.status:
        po.status = status
        for line in po.lines.values():
            line.status = status
            line.revision += 1
    return Outcome(po.to_json())


def blank_line(po: PurchaseOrder) -> dict[str, Any]:
    """The line `purchaseOrderLinesGrid?initialize=true` hands out: next number, header's site."""
    return {
        "domainCode": po.domain,
        "purchaseOrderNumber": po.number,
        "purchaseOrderLine": po.next_line(),
        "siteCode": po.ship_to_site,
        "itemCode": "",
        "description": "",
        "unitOfMeasure": "",
        "quantityOrdered": 0,
        "quantityReceived": 0,
        "quantityInvoiced": 0,
        "purchaseCost": 0,
        "glAccount": "",
        "subAccount": "",
        "costCentre": "",
        "project": "",
        "dueDate": po.due_date,
        "lineStatus": "O",
        "dataOperation": "C",
        "concurrencyHash": "",
    }


def read_lines_grid(tenant: QadTenant, params: Mapping[str, str]) -> dict[str, Any]:
    po = tenant.purchase_order(
        params.get("domainCode") or tenant.domain, params.get("purchaseOrderNumber", "")
    )
    if po is None:
        return read_envelope("purchaseOrderLines", [])
    if params.get("initialize", "").lower() == "true":
        return read_envelope("purchaseOrderLines", [blank_line(po)])
    wanted = params.get("purchaseOrderLine", "")
    rows = [
        line.to_json()
        for n, line in sorted(po.lines.items())
        if not wanted or str(n) == wanted.strip()
    ]
    return read_envelope("purchaseOrderLines", rows)


def field_change(
    tenant: QadTenant, record: Mapping[str, Any], params: Mapping[str, str]
) -> Outcome:
    """Apply one field of a line being edited and answer the defaulted line; nothing is saved."""
    field = params.get("fieldName", "")
    line = dict(record)
    reader = RecordReader(record)
    if field == "siteCode":
        site = reader.text("siteCode", required=True, label="Site")
        if site and site not in tenant.sites:
            reader.fail("siteCode", f"Site {site} does not exist", site, Codes.NOT_FOUND)
    elif field == "itemCode":
        code = reader.text("itemCode", required=True, label="Item")
        item = tenant.items.get(code)
        if code and item is None:
            reader.fail("itemCode", f"Item {code} does not exist", code, Codes.NOT_FOUND)
        elif item is not None and not item.active:
            reader.fail("itemCode", f"Item {code} is not active", code, Codes.INACTIVE)
        elif item is not None:
            line.update(
                itemCode=item.code,
                description=item.description,
                unitOfMeasure=item.uom,
                glAccount=item.gl_account,
                subAccount=item.sub_account,
                costCentre=item.cost_centre,
            )
            if reader.number("purchaseCost") == 0:
                line["purchaseCost"] = num(item.unit_cost)
    elif field == "quantityOrdered":
        line["quantityOrdered"] = num(
            reader.number("quantityOrdered", positive=True, label="Quantity ordered")
        )
    elif field == "purchaseCost":
        line["purchaseCost"] = num(
            reader.number("purchaseCost", minimum=Decimal(0), label="Purchase cost")
        )
    else:
        reader.fail("fieldName", f"Field {field or '(blank)'} has no field-change logic", field)
    if reader.errors:
        return refused(record, *reader.errors)
    return Outcome(line)


def save_line(tenant: QadTenant, record: Mapping[str, Any], params: Mapping[str, str]) -> Outcome:
    """Commit a line: `C` adds it, `U` changes quantity, cost, status, due date or accounts."""
    record = with_keys(record, params, ("domainCode", "purchaseOrderNumber"))
    reader = RecordReader(record)
    op = reader.operation()
    domain = domain_of(tenant, reader)
    number = reader.text("purchaseOrderNumber", required=True, label="Purchase order number")
    line_no = reader.integer("purchaseOrderLine", label="Line")
    if reader.errors:
        return refused(record, *reader.errors)
    po = tenant.purchase_order(domain, number)
    if po is None:
        return refused(
            record,
            Msg(
                f"Purchase order {number} does not exist",
                "purchaseOrderNumber",
                number,
                Codes.NOT_FOUND,
            ),
        )
    existing = po.lines.get(line_no)
    if op == "C":
        if existing is not None:
            return refused(
                record,
                Msg(
                    f"PO {number} line {line_no} already exists",
                    "purchaseOrderLine",
                    str(line_no),
                    Codes.ALREADY_EXISTS,
                ),
            )
        if po.status != "O":
            return refused(
                record,
                Msg(
                    f"Purchase order {number} is closed",
                    "purchaseOrderNumber",
                    number,
                    Codes.CLOSED,
                ),
            )
        return _add_line(tenant, po, reader, line_no or po.next_line())
    if existing is None:
        return refused(
            record,
            Msg(
                f"PO {number} line {line_no} does not exist",
                "purchaseOrderLine",
                str(line_no),
                Codes.NOT_FOUND,
            ),
        )
    if is_stale(record, existing.hash):
        return refused(record, Msg(CHANGED_BY_ANOTHER_USER, "concurrencyHash", "", Codes.CHANGED))
    return _update_line(tenant, po, existing, record)


def _add_line(tenant: QadTenant, po: PurchaseOrder, reader: RecordReader, line_no: int) -> Outcome:
    if line_no < 1:
        reader.fail("purchaseOrderLine", "Line must be 1 or more", str(line_no))
    site = reader.text("siteCode", required=True, label="Site")
    if site and site not in tenant.sites:
        reader.fail("siteCode", f"Site {site} does not exist", site, Codes.NOT_FOUND)
    code = reader.text("itemCode", required=True, label="Item")
    item = tenant.items.get(code)
    if code and item is None:
        reader.fail("itemCode", f"Item {code} does not exist", code, Codes.NOT_FOUND)
    elif item is not None and not item.active:
        reader.fail("itemCode", f"Item {code} is not active", code, Codes.INACTIVE)
    quantity = reader.number("quantityOrdered", positive=True, label="Quantity ordered")
    cost = reader.number("purchaseCost", minimum=Decimal(0), label="Purchase cost")
    uom = reader.text("unitOfMeasure", required=True, label="Unit of measure")
    description = reader.text("description")
    gl_code = reader.text("glAccount", required=True, label="GL account")
    sub_account = reader.text("subAccount")
    cost_centre = reader.text("costCentre")
    project = reader.text("project")
    due_date = reader.date("dueDate", default=po.due_date, label="Due date")
    messages = list(reader.errors)
    if gl_code:
        messages += check_analysis(
            tenant, gl_code, sub_account, cost_centre, where=f"PO {po.number} line {line_no}: "
        )
    if messages:
        return refused(reader.record, *messages)
    line = PoLine(
        po.domain,
        po.number,
        line_no,
        site,
        code,
        description,
        uom,
        quantity,
        cost,
        gl_code,
        sub_account,
        cost_centre,
        project,
        due_date,
    )
    po.lines[line_no] = line
    return Outcome(line.to_json())


def _update_line(
    tenant: QadTenant, po: PurchaseOrder, line: PoLine, record: Mapping[str, Any]
) -> Outcome:
    reader = RecordReader({**line.content(), **record})
    item = reader.text("itemCode")
    if item != line.item:
        reader.fail("itemCode", f"{line.label()}: the item cannot change on an existing line", item)
    quantity = reader.number("quantityOrdered", positive=True, label="Quantity ordered")
    floor = max(line.qty_received, line.qty_invoiced)
    if quantity < floor:
        reader.fail(
            "quantityOrdered",
            f"{line.label()}: quantity ordered {qty_text(quantity)} is below the quantity "
            f"received {qty_text(line.qty_received)}",
            qty_text(quantity),
        )
    cost = reader.number("purchaseCost", minimum=Decimal(0), label="Purchase cost")
    status = reader.choice("lineStatus", ("O", "C"), default="O")
    if po.status != "O" and status == "O":
        reader.fail("lineStatus", f"Purchase order {po.number} is closed", po.number, Codes.CLOSED)
    due_date = reader.date("dueDate", default=line.due_date, label="Due date")
    gl_code = reader.text("glAccount", required=True, label="GL account")
    sub_account = reader.text("subAccount")
    cost_centre = reader.text("costCentre")
    messages = list(reader.errors)
    if gl_code:
        messages += check_analysis(
            tenant, gl_code, sub_account, cost_centre, where=f"{line.label()}: "
        )
    if messages:
        return refused(record, *messages)
    line.qty_ordered, line.cost, line.status, line.due_date = quantity, cost, status, due_date
    line.gl_account, line.sub_account, line.cost_centre = gl_code, sub_account, cost_centre
    line.project = reader.text("project")
    line.revision += 1
    return Outcome(line.to_json())
