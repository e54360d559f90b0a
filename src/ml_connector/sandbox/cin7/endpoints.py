"""The Cin7 Core API endpoints the sandbox serves, as plain functions of (state, query, body).

Query parameter names are read case-insensitively (`Page`/`page`); unknown parameters are
ignored, `RestockReceivedStatus` included (§4.4). Lists are wrapped as
`{"Total", "Page", "<ListKey>"}`; `Limit` defaults to 100 and is clamped to 1..1000; a page past
the end holds an empty array. An unfiltered page is sliced straight from the ordered store.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

from ml_connector.sandbox.cin7 import lifecycle
from ml_connector.sandbox.cin7.formats import num, parse_timestamp
from ml_connector.sandbox.cin7.lifecycle import keys
from ml_connector.sandbox.cin7.model import Cin7SandboxError, Purchase
from ml_connector.sandbox.cin7.reference import (
    account_row,
    location_rows,
    me_row,
    product_row,
    tax_row,
    term_row,
)
from ml_connector.sandbox.cin7.render import (
    invoice_subdoc,
    order_subdoc,
    stock_subdoc,
    supplier_row,
)
from ml_connector.sandbox.cin7.state import Cin7State

Query = dict[str, str]
Handler = Callable[[Cin7State, Query, Any], Any]
T = TypeVar("T")

ACCOUNT_WRITE_REFUSED = (
    "The requested resource does not support http method '{method}'. This sandbox refuses "
    "every write to the chart of accounts: ml-connector must never write Cin7 accounts."
)
_STATUS_FILTERS = {
    "status": "Status",
    "orderstatus": "OrderStatus",
    "stockreceivedstatus": "StockReceivedStatus",
    "invoicestatus": "InvoiceStatus",
    "creditnotestatus": "CreditNoteStatus",
    "unstockstatus": "UnstockStatus",
    "dropshiptaskid": "DropShipTaskID",
}


def _int(text: str | None, default: int) -> int:
    try:
        return int(str(text).strip()) if text not in (None, "") else default
    except ValueError:
        return default


def _bool(text: str | None) -> bool | None:
    if text is None or text == "":
        return None
    return text.strip().lower() in ("true", "1", "yes")


def _since(q: Query, name: str) -> datetime | None:
    text = q.get(name.lower())
    if not text:
        return None
    value = parse_timestamp(text)
    if value is None:
        raise Cin7SandboxError(f"'{name}' is not a valid date")
    return value


def page(q: Query, key: str, rows: Sequence[T], render: Callable[[T], Any]) -> dict[str, Any]:
    """The wrapped list envelope for one page of `rows`."""
    number = max(1, _int(q.get("page"), 1))
    limit = min(1000, max(1, _int(q.get("limit"), 100)))
    start = (number - 1) * limit
    return {
        "Total": len(rows),
        "Page": number,
        key: [render(r) for r in rows[start : start + limit]],
    }


def _starts(value: str | None, prefix: str | None) -> bool:
    return prefix is None or (value or "").lower().startswith(prefix.lower())


# --- me, suppliers --------------------------------------------------------------------------


def get_me(state: Cin7State, q: Query, body: Any) -> Any:
    return me_row(state.ref)


def get_suppliers(state: Cin7State, q: Query, body: Any) -> Any:
    rows = state.suppliers
    wanted_id = q.get("id")
    name = q.get("name")
    since = _since(q, "ModifiedSince")
    deprecated = _bool(q.get("includedeprecated")) or False
    if wanted_id or name or since or not deprecated:
        rows = [
            s
            for s in rows
            if (not wanted_id or s.id == wanted_id.lower())
            and _starts(s.name, name)
            and (since is None or s.modified > since)
            and (deprecated or s.status == "Active")
        ]
    return page(q, "SupplierList", rows, supplier_row)


def _saved_supplier(state: Cin7State, body: Any, *, create: bool) -> Any:
    if not isinstance(body, dict):
        raise Cin7SandboxError("Supplier is required")
    s = state.save_supplier(body, create=create)
    return {"Total": 1, "Page": 1, "SupplierList": [supplier_row(s)]}


def post_supplier(state: Cin7State, q: Query, body: Any) -> Any:
    return _saved_supplier(state, body, create=True)


def put_supplier(state: Cin7State, q: Query, body: Any) -> Any:
    return _saved_supplier(state, body, create=False)


# --- purchases ------------------------------------------------------------------------------


def get_purchase_list(state: Cin7State, q: Query, body: Any) -> Any:
    """`purchaseList`, ascending by OrderNumber; filters combine with AND; each status filter
    takes one value, matched exactly; `UpdatedSince` is strictly after."""
    since = _since(q, "UpdatedSince")
    until = _since(q, "UpdatedUntil")
    required = _since(q, "RequiredBy")
    search = (q.get("search") or "").lower() or None
    statuses = {
        field: q[name].strip().lower() for name, field in _STATUS_FILTERS.items() if q.get(name)
    }
    rows: Sequence[Purchase] = state.purchases
    if since or until or required or search or statuses:
        picked = []
        for p in rows:
            if since is not None and not p.updated > since:
                continue
            if until is not None and not p.updated < until:
                continue
            if required is not None and (p.required_by is None or p.required_by > required.date()):
                continue
            if search or statuses:
                row = state.row(p)
                if any(str(row[field] or "").lower() != v for field, v in statuses.items()):
                    continue
                if search and not any(
                    search in str(row[f] or "").lower()
                    for f in (
                        "OrderNumber",
                        "Status",
                        "Supplier",
                        "InvoiceNumber",
                        "CreditNoteNumber",
                    )
                ):
                    continue
            picked.append(p)
        rows = picked
    return page(q, "PurchaseList", rows, state.served_row)


def _purchase(state: Cin7State, raw_id: Any, field: str) -> Purchase:
    if not raw_id:
        raise Cin7SandboxError(f"'{field}' is required")
    p = state.lookup(str(raw_id))
    if p is None:
        raise Cin7SandboxError("Purchase with specified ID not found")
    return p


def _combine(q: Query) -> bool:
    return _bool(q.get("combineadditionalcharges")) or False


def get_purchase(state: Cin7State, q: Query, body: Any) -> Any:
    p = _purchase(state, q.get("id"), "ID")
    lifecycle.require_simple(p)
    return state.served_detail(p, state.simple_doc(p, combine=_combine(q)))


def post_purchase(state: Cin7State, q: Query, body: Any) -> Any:
    if not isinstance(body, dict):
        raise Cin7SandboxError("Purchase is required")
    return state.simple_doc(state.new_purchase(body))


def put_purchase(state: Cin7State, q: Query, body: Any) -> Any:
    if not isinstance(body, dict):
        raise Cin7SandboxError("Purchase is required")
    return state.simple_doc(state.update_purchase(body))


def delete_purchase(state: Cin7State, q: Query, body: Any) -> Any:
    p = _purchase(state, q.get("id"), "ID")
    lifecycle.require_simple(p)
    if not _bool(q.get("void")):
        raise Cin7SandboxError(
            "Undoing a purchase is not supported by this sandbox; send Void=true"
        )
    lifecycle.void(p)
    state.mark_changed(p)
    return state.simple_doc(p)


def get_advanced_purchase(state: Cin7State, q: Query, body: Any) -> Any:
    raw = q.get("id")
    if not raw:
        raise Cin7SandboxError("'ID' is required")
    p = state.lookup(raw)
    if p is None:
        raise Cin7SandboxError("Purchase Task with specified ID not found")
    return state.served_detail(p, state.advanced_doc(p, combine=_combine(q)))


def _task(state: Cin7State, q: Query, body: Any) -> tuple[Purchase, dict[str, Any]]:
    item = keys(body) if isinstance(body, dict) else {}
    p = _purchase(state, item.get("taskid") or q.get("taskid"), "TaskID")
    lifecycle.require_simple(p)
    return p, item


def get_purchase_order(state: Cin7State, q: Query, body: Any) -> Any:
    p, _ = _task(state, q, None)
    return order_subdoc(p, combine=_combine(q))


def post_purchase_order(state: Cin7State, q: Query, body: Any) -> Any:
    p, item = _task(state, q, body)
    lifecycle.post_order(
        p,
        state.env,
        status=str(item.get("status") or ""),
        memo=item.get("memo"),
        lines=item.get("lines"),
        charges=item.get("additionalcharges"),
    )
    state.mark_changed(p)
    return order_subdoc(p, combine=False)


def get_purchase_stock(state: Cin7State, q: Query, body: Any) -> Any:
    p, _ = _task(state, q, None)
    return stock_subdoc(p)


def post_purchase_stock(state: Cin7State, q: Query, body: Any) -> Any:
    p, item = _task(state, q, body)
    lifecycle.post_stock(
        p, state.env, status=str(item.get("status") or ""), lines=item.get("lines")
    )
    state.mark_changed(p)
    return stock_subdoc(p)


def get_purchase_invoice(state: Cin7State, q: Query, body: Any) -> Any:
    p, _ = _task(state, q, None)
    return invoice_subdoc(p, combine=_combine(q))


def post_purchase_invoice(state: Cin7State, q: Query, body: Any) -> Any:
    p, item = _task(state, q, body)
    number = item.get("invoicenumber")
    lifecycle.post_invoice(
        p,
        state.env,
        status=str(item.get("status") or ""),
        number=None if number is None else str(number),
        invoice_day=lifecycle.a_date(item.get("invoicedate"), "InvoiceDate"),
        due=lifecycle.a_date(item.get("invoiceduedate"), "InvoiceDueDate"),
        lines=item.get("lines"),
        charges=item.get("additionalcharges"),
    )
    state.mark_changed(p)
    return invoice_subdoc(p, combine=False)


# --- reference data ---------------------------------------------------------------------------


def get_accounts(state: Cin7State, q: Query, body: Any) -> Any:
    code, name, kind, status = (q.get(k) for k in ("code", "name", "type", "status"))
    rows = [
        a
        for a in state.ref.accounts
        if (not code or a.code == code)
        and _starts(a.name, name)
        and (not kind or a.type.lower() == kind.lower())
        and (not status or a.status.lower() == status.lower())
    ]
    return page(q, "AccountsList", rows, account_row)


def refuse_account_write(state: Cin7State, q: Query, body: Any, method: str) -> Any:
    raise Cin7SandboxError(ACCOUNT_WRITE_REFUSED.format(method=method), status=405)


def get_products(state: Cin7State, q: Query, body: Any) -> Any:
    wanted_id, name, sku = q.get("id"), q.get("name"), q.get("sku")
    since = _since(q, "ModifiedSince")
    rows = [
        p
        for p in state.ref.products
        if (not wanted_id or p.id == wanted_id.lower())
        and (not name or name.lower() in p.product.name.lower())
        and (not sku or sku.lower() in p.sku.lower())
        and (since is None or p.modified > since)
    ]
    with_suppliers = _bool(q.get("includesuppliers")) or False

    def render(ref: Any) -> Any:
        return product_row(ref, _product_suppliers(state, ref) if with_suppliers else None)

    return page(q, "Products", rows, render)


def _product_suppliers(state: Cin7State, ref: Any) -> list[dict[str, Any]]:
    out = []
    for s in state.suppliers:
        if ref.sku in s.skus:
            cost = (ref.product.cost / state.ref.rate(s.currency)).quantize(Decimal("0.01"))
            out.append(
                {
                    "SupplierID": s.id,
                    "SupplierName": s.name,
                    "SupplierInventoryCode": f"{s.code}-{ref.sku.replace('-', '')}",
                    "SupplierProductName": ref.product.name,
                    "Cost": num(cost),
                    "FixedCost": 0,
                    "Currency": s.currency,
                    "DropShip": "No Drop Ship",
                    "SupplierProductURL": "",
                    "LastSupplied": None,
                    "ProductSupplierOptions": [],
                }
            )
    return out


def get_locations(state: Cin7State, q: Query, body: Any) -> Any:
    wanted_id, name = (q.get("id") or "").lower(), q.get("name")
    rows = [
        row
        for loc in state.ref.locations
        for row in location_rows(loc)
        if (not wanted_id or str(row["ID"]).lower() == wanted_id) and _starts(row["Name"], name)
    ]
    return page(q, "LocationList", rows, lambda row: row)


def get_tax_rules(state: Cin7State, q: Query, body: Any) -> Any:
    wanted_id, name, account = (q.get("id") or "").lower(), q.get("name"), q.get("account")
    flags = {k: _bool(q.get(k.lower())) for k in ("IsActive", "IsTaxForSale", "IsTaxForPurchase")}
    rows = []
    for ref in state.ref.tax_rules:
        row = tax_row(ref)
        if wanted_id and ref.id != wanted_id:
            continue
        if not _starts(ref.rule.name, name) or (account and ref.rule.account != account):
            continue
        if any(v is not None and row[k] != v for k, v in flags.items()):
            continue
        rows.append(row)
    return page(q, "TaxRuleList", rows, lambda row: row)


def get_payment_terms(state: Cin7State, q: Query, body: Any) -> Any:
    name = q.get("name")
    default = state.ref.terms[0].term.name
    rows = [term_row(t, default) for t in state.ref.terms if _starts(t.term.name, name)]
    return page(q, "PaymentTermList", rows, lambda row: row)


# lower-case path -> (name in stats, {method: handler})
ENDPOINTS: dict[str, tuple[str, dict[str, Handler]]] = {
    "me": ("me", {"GET": get_me}),
    "supplier": ("supplier", {"GET": get_suppliers, "POST": post_supplier, "PUT": put_supplier}),
    "purchaselist": ("purchaseList", {"GET": get_purchase_list}),
    "purchase": (
        "purchase",
        {
            "GET": get_purchase,
            "POST": post_purchase,
            "PUT": put_purchase,
            "DELETE": delete_purchase,
        },
    ),
    "purchase/order": ("purchase/order", {"GET": get_purchase_order, "POST": post_purchase_order}),
    "purchase/stock": ("purchase/stock", {"GET": get_purchase_stock, "POST": post_purchase_stock}),
    "purchase/invoice": (
        "purchase/invoice",
        {"GET": get_purchase_invoice, "POST": post_purchase_invoice},
    ),
    "advanced-purchase": ("advanced-purchase", {"GET": get_advanced_purchase}),
    "ref/account": (
        "ref/account",
        {
            "GET": get_accounts,
            "POST": lambda s, q, b: refuse_account_write(s, q, b, "POST"),
            "PUT": lambda s, q, b: refuse_account_write(s, q, b, "PUT"),
            "DELETE": lambda s, q, b: refuse_account_write(s, q, b, "DELETE"),
        },
    ),
    "product": ("product", {"GET": get_products}),
    "ref/location": ("ref/location", {"GET": get_locations}),
    "ref/tax": ("ref/tax", {"GET": get_tax_rules}),
    "ref/paymentterm": ("ref/paymentterm", {"GET": get_payment_terms}),
}
