"""QAD REST JSON records of the observed routes, to and from the channel models.

Observed routes (business relations, suppliers, PO headers and lines, items) follow public client
code closely; the gap routes' shapes live in `adapter.py`. A record's `concurrencyHash` becomes
the model's `revision`; changes (`SupplierChange`, ...) become the fields of a `U` write.
Amounts go out as JSON numbers and come back as `Decimal`; dates go out as `YYYY-MM-DD` and are
read from the first ten characters (QAD also writes `2026-01-31T00:00:00.000Z`).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from ml_connector.qad.models import (
    Item,
    ItemSpec,
    PoHeaderChange,
    PoLine,
    PoLineChange,
    PurchaseOrder,
    PurchaseOrderSpec,
    Supplier,
    SupplierChange,
    SupplierSpec,
)
from ml_connector.qad.settings import QadSettings

BUSINESS_RELATIONS = "api/erp/businessRelationV2s"
SUPPLIERS = "api/erp/supplierV2s"
PO_HEADERS = "api/erp/purchaseOrderHeaders"
PO_LINES_GRID = "api/erp/purchaseOrderLinesGrid"
PO_LINE_FIELD_CHANGE = "api/erp/purchaseOrderLines/fieldChangeV2"
ITEMS = "api/erp/items"

# Business-component views, sent as `viewUri` the way QAD's own UI and S1's loader do.
VIEW_URIS = {
    BUSINESS_RELATIONS: "urn:be:com.qad.base.address.IBusinessRelationV2",
    SUPPLIERS: "urn:be:com.qad.base.supplier.ISupplierV2",
    PO_HEADERS: "urn:be:com.qad.purchasing.purchaseorders.IPurchaseOrderHeader",
    ITEMS: "urn:be:com.qad.base.item.IItem",
}

# Set on a new line in this order: QAD's defaulting runs on each field change (reference §7.1).
LINE_FIELD_ORDER = ("siteCode", "itemCode", "quantityOrdered", "purchaseCost")


def num(value: Decimal) -> int | float:
    """A Decimal as a JSON number (an int when it has no fraction)."""
    return int(value) if value == value.to_integral_value() else float(value)


def dec(value: Any, default: Decimal = Decimal(0)) -> Decimal:
    if type(value) is int:  # most numbers QAD sends: exact as they are, no text needed
        return Decimal(value)
    if value is None or value == "":
        return default
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return default


def date_of(value: Any) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def iso(value: dt.date | None, dates: str = "date") -> str:
    """A date as the tenant writes it: `2026-01-31`, or with `dates="datetime"` the ISO
    date-time observed in QAD's own writes, `2026-01-31T00:00:00.000Z` (reference §4)."""
    if not value:
        return ""
    return f"{value.isoformat()}T00:00:00.000Z" if dates == "datetime" else value.isoformat()


def text(record: dict[str, Any], key: str) -> str:
    value = record.get(key)
    return "" if value is None else str(value)


def _bool(value: Any, default: bool = True) -> bool:
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("true", "yes", "1", "y")


# ---- business relation and supplier -------------------------------------------------------------


def business_relation_record(spec: SupplierSpec) -> dict[str, Any]:
    return {
        "businessRelationCode": spec.relation_code,
        "name": spec.name,
        "addressStreet1": spec.street,
        "city": spec.city,
        "state": spec.state,
        "zip": spec.zip,
        "country": spec.country,
        "email": spec.email,
        "phone": spec.phone,
        "isActive": True,
        "dataOperation": "C",
        "concurrencyHash": "",
    }


def supplier_record(spec: SupplierSpec, settings: QadSettings) -> dict[str, Any]:
    profiles = settings.supplier_gl_profiles
    return {
        "sharedSetCode": settings.supplier_shared_set,
        "supplierCode": spec.code,
        "businessRelationCode": spec.relation_code,
        "name": spec.name,
        "isActive": spec.active,
        "currencyCode": spec.currency,
        "creditTermsCode": spec.credit_terms,
        "invoiceStatusCode": settings.invoice_status,
        "taxClass": spec.tax_class,
        "remarks": spec.remarks,
        "dataOperation": "C",
        "concurrencyHash": "",
        # GL profiles S1's loader sends on every supplier; only those the profile names.
        **{
            key: value
            for key, value in (
                ("invoiceControlGLProfileCode", profiles.invoice_control),
                ("creditNoteControlGLProfileCode", profiles.credit_note_control),
                ("prePaymentControlGLProfileCode", profiles.prepayment_control),
                ("purchaseAccountGLProfileCode", profiles.purchase_account),
            )
            if value
        },
    }


def supplier_fields(change: SupplierChange) -> dict[str, Any]:
    """The supplier record's fields that carry `change`."""
    fields = {
        "name": change.name,
        "currencyCode": change.currency,
        "creditTermsCode": change.credit_terms,
    }
    return {key: value for key, value in fields.items() if value is not None}


def parse_supplier(record: dict[str, Any]) -> Supplier:
    return Supplier(
        code=text(record, "supplierCode"),
        name=text(record, "name"),
        currency=text(record, "currencyCode"),
        credit_terms=text(record, "creditTermsCode"),
        business_relation=text(record, "businessRelationCode"),
        active=_bool(record.get("isActive")),
        revision=text(record, "concurrencyHash"),
    )


# ---- purchase orders ----------------------------------------------------------------------------


def po_header_record(spec: PurchaseOrderSpec, settings: QadSettings) -> dict[str, Any]:
    record: dict[str, Any] = {
        "domainCode": settings.domain,
        "purchaseOrderNumber": spec.number,
        "supplierCode": spec.supplier_code,
        "currencyCode": spec.currency,
        "orderDate": iso(spec.order_date, settings.dates),
        "remarks": spec.remarks,
        "orderStatus": "O",
        "dataOperation": "C",
        "concurrencyHash": "",
    }
    # S1's loader sends exchangeRateType, daybookSetCode and billToCode on every header. With a
    # rate type QAD looks the rate up; without one the header carries Cin7's rate.
    if settings.exchange_rate_type:
        record["exchangeRateType"] = settings.exchange_rate_type
    else:
        record["exchangeRate"] = num(spec.exchange_rate)
    if settings.daybook_set:
        record["daybookSetCode"] = settings.daybook_set
    if settings.bill_to:
        record["billToCode"] = settings.bill_to
    site = spec.ship_to_site or settings.default_site
    if site:
        record["shipToSite"] = site
    if spec.credit_terms:
        record["creditTermsCode"] = spec.credit_terms
    if spec.due_date:
        record["dueDate"] = iso(spec.due_date, settings.dates)
    return record


def po_header_fields(change: PoHeaderChange, dates: str = "date") -> dict[str, Any]:
    """The PO header record's fields that carry `change`."""
    fields: dict[str, Any] = {
        "remarks": change.remarks,
        "dueDate": iso(change.due_date, dates) if change.due_date else None,
        "creditTermsCode": change.credit_terms,
        "orderStatus": change.status,
    }
    return {key: value for key, value in fields.items() if value is not None}


def po_line_fields(change: PoLineChange) -> dict[str, Any]:
    """The PO line record's fields that carry `change`."""
    fields: dict[str, Any] = {
        "quantityOrdered": None if change.quantity is None else num(change.quantity),
        "purchaseCost": None if change.unit_cost is None else num(change.unit_cost),
        "lineStatus": change.status,
    }
    return {key: value for key, value in fields.items() if value is not None}


def parse_po_line(record: dict[str, Any]) -> PoLine:
    return PoLine(
        line=int(dec(record.get("purchaseOrderLine"))),
        item_code=text(record, "itemCode"),
        quantity_ordered=dec(record.get("quantityOrdered")),
        quantity_received=dec(record.get("quantityReceived")),
        quantity_invoiced=dec(record.get("quantityInvoiced")),
        unit_cost=dec(record.get("purchaseCost")),
        gl_account=text(record, "glAccount"),
        status=text(record, "lineStatus") or "O",
        site=text(record, "siteCode"),
        revision=text(record, "concurrencyHash"),
    )


def parse_po(record: dict[str, Any]) -> PurchaseOrder:
    lines = record.get("lines") or []
    return PurchaseOrder(
        number=text(record, "purchaseOrderNumber"),
        supplier_code=text(record, "supplierCode"),
        currency=text(record, "currencyCode"),
        status=text(record, "orderStatus") or "O",
        remarks=text(record, "remarks"),
        credit_terms=text(record, "creditTermsCode"),
        ship_to_site=text(record, "shipToSite"),
        due_date=date_of(record.get("dueDate")),
        lines=sorted(
            (parse_po_line(line) for line in lines if isinstance(line, dict)),
            key=lambda line: line.line,
        ),
        revision=text(record, "concurrencyHash"),
    )


def header_for_update(record: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """The read-back header (without its lines) carrying `changes`, as a `U` write."""
    updated = {key: value for key, value in record.items() if key != "lines"}
    updated.update(changes)
    updated["dataOperation"] = "U"
    return updated


def for_update(record: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """The read-back record carrying `changes`, as a `U` write (its `concurrencyHash` kept)."""
    updated = dict(record)
    updated.update(changes)
    updated["dataOperation"] = "U"
    return updated


# ---- items --------------------------------------------------------------------------------------


def item_record(spec: ItemSpec, settings: QadSettings) -> dict[str, Any]:
    return {
        "domainCode": settings.domain,
        "itemCode": spec.code,
        "description": spec.description,
        "unitOfMeasure": spec.uom,
        "productLine": spec.product_line,
        "glAccount": spec.gl_account,
        "unitCost": num(spec.unit_cost),
        "itemStatus": spec.status,
        "dataOperation": "C",
        "concurrencyHash": "",
    }


def parse_item(record: dict[str, Any]) -> Item:
    cost = record.get("unitCost")
    return Item(
        code=text(record, "itemCode"),
        description=text(record, "description"),
        uom=text(record, "unitOfMeasure"),
        product_line=text(record, "productLine"),
        status=text(record, "itemStatus"),
        gl_account=text(record, "glAccount"),
        unit_cost=None if cost is None else dec(cost),
    )
