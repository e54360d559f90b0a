"""`api/qracore/browses`: flat dotted rows, `filter`/`page`/`pageSize`, `HasMoreParams` string.

A filter naming a field the browse does not have, or an operator QAD does not know, matches
nothing (HTTP 200, empty `data`), which is QAD's silent behaviour.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from ml_connector.sandbox.qad.envelope import num, to_decimal
from ml_connector.sandbox.qad.tenant import CURRENCY_NAMES, QadTenant

Row = dict[str, Any]
DEFAULT_PAGE_SIZE = 100


@dataclass(frozen=True)
class Browse:
    columns: tuple[str, ...]
    rows: Callable[[QadTenant], Iterable[Row]]


def _gl(t: QadTenant) -> Iterable[Row]:
    for a in sorted(t.gl_accounts.values(), key=lambda a: a.code):
        yield {
            "gl.glCode": a.code,
            "gl.description": a.description,
            "gl.glType": a.type,
            "gl.requiresSubAccount": a.requires_sub_account,
            "gl.requiresCostCentre": a.requires_cost_centre,
            "gl.isActive": a.active,
        }


def _items(t: QadTenant) -> Iterable[Row]:
    for i in sorted(t.items.values(), key=lambda i: i.code):
        yield {
            "pt_mstr.pt_part": i.code,
            "pt_mstr.pt_desc1": i.description,
            "pt_mstr.pt_um": i.uom,
            "pt_mstr.pt_prod_line": i.product_line,
            "pt_mstr.pt_status": i.status,
        }


def _sites(t: QadTenant) -> Iterable[Row]:
    for s in sorted(t.sites.values(), key=lambda s: s.code):
        yield {"si_mstr.si_site": s.code, "si_mstr.si_desc": s.description}


def _terms(t: QadTenant) -> Iterable[Row]:
    for c in sorted(t.credit_terms.values(), key=lambda c: c.code):
        yield {
            "ct_mstr.ct_code": c.code,
            "ct_mstr.ct_desc": c.description,
            "ct_mstr.ct_due_days": c.due_days,
        }


def _currencies(t: QadTenant) -> Iterable[Row]:
    for code in sorted(t.currencies):
        yield {"cu_mstr.cu_curr": code, "cu_mstr.cu_desc": CURRENCY_NAMES.get(code, code)}


def _tax(t: QadTenant) -> Iterable[Row]:
    for x in sorted(t.tax_classes.values(), key=lambda x: x.code):
        yield {"tx.taxClass": x.code, "tx.description": x.description, "tx.percent": num(x.percent)}


def _suppliers(t: QadTenant) -> Iterable[Row]:
    for (_, code), s in sorted(t.suppliers.items()):
        yield {"vd_mstr.vd_addr": code, "vd_mstr.vd_sort": s.name, "vd_mstr.vd_curr": s.currency}


def _orders(t: QadTenant) -> Iterable[Row]:
    for (_, number), po in sorted(t.purchase_orders.items()):
        yield {
            "po_mstr.po_nbr": number,
            "po_mstr.po_vend": po.supplier,
            "po_mstr.po_stat": po.status,
            "po_mstr.po_rmks": po.remarks,
        }


_ITEMS = Browse(
    (
        "pt_mstr.pt_part",
        "pt_mstr.pt_desc1",
        "pt_mstr.pt_um",
        "pt_mstr.pt_prod_line",
        "pt_mstr.pt_status",
    ),
    _items,
)
BROWSES: dict[str, Browse] = {
    "urn:browse:bebrowse:com.qad.erp.financials.glAccounts": Browse(
        (
            "gl.glCode",
            "gl.description",
            "gl.glType",
            "gl.requiresSubAccount",
            "gl.requiresCostCentre",
            "gl.isActive",
        ),
        _gl,
    ),
    "mfg:gp340": _ITEMS,
    "urn:browse:mfg:gp340": _ITEMS,
    "urn:browse:bebrowse:com.qad.erp.base.items": _ITEMS,
    "urn:browse:bebrowse:com.qad.erp.base.sites": Browse(
        ("si_mstr.si_site", "si_mstr.si_desc"), _sites
    ),
    "urn:browse:bebrowse:com.qad.erp.base.creditTerms": Browse(
        ("ct_mstr.ct_code", "ct_mstr.ct_desc", "ct_mstr.ct_due_days"), _terms
    ),
    "urn:browse:bebrowse:com.qad.erp.base.currencies": Browse(
        ("cu_mstr.cu_curr", "cu_mstr.cu_desc"), _currencies
    ),
    "urn:browse:bebrowse:com.qad.erp.financials.taxClasses": Browse(
        ("tx.taxClass", "tx.description", "tx.percent"), _tax
    ),
    "urn:browse:bebrowse:com.qad.erp.base.supplierV2s": Browse(
        ("vd_mstr.vd_addr", "vd_mstr.vd_sort", "vd_mstr.vd_curr"), _suppliers
    ),
    "urn:browse:bebrowse:com.qad.erp.purchasing.purchaseOrders": Browse(
        ("po_mstr.po_nbr", "po_mstr.po_vend", "po_mstr.po_stat", "po_mstr.po_rmks"), _orders
    ),
}


@dataclass(frozen=True)
class Condition:
    column: str
    op: str
    value: str
    upper: str = ""

    def holds(self, row: Row) -> bool:
        cell = row.get(self.column)
        if self.op == "rg":
            return _compare(cell, self.value) >= 0 and _compare(cell, self.upper) <= 0
        text, wanted = _as_text(cell).casefold(), self.value.casefold()
        if self.op == "sw":
            return text.startswith(wanted)
        if self.op == "ew":
            return text.endswith(wanted)
        if self.op == "cn":
            return wanted in text
        order = _compare(cell, self.value)
        return {
            "eq": order == 0,
            "gt": order > 0,
            "ge": order >= 0,
            "lt": order < 0,
            "le": order <= 0,
        }[self.op]


def parse_filter(text: str, columns: tuple[str, ...]) -> Condition | None:
    """`<table>.<field>,<op>,<value>,literal` (or `,rg,<from>,literal,<to>,literal`).

    None when the field is not one of the browse's columns or the operator is unknown.
    """
    parts = text.split(",")
    if len(parts) < 3:
        return None
    column = _column(parts[0].strip(), columns)
    op = parts[1].strip().lower()
    if column is None:
        return None
    if op == "rg":
        if len(parts) < 5:
            return None
        return Condition(column, op, parts[2], parts[4])
    if op not in ("eq", "sw", "ew", "cn", "gt", "ge", "lt", "le"):
        return None
    values = parts[2:-1] if len(parts) > 3 and parts[-1].strip().lower() == "literal" else parts[2:]
    return Condition(column, op, ",".join(values))


def browse(tenant: QadTenant, params: dict[str, str], filters: list[str]) -> dict[str, Any] | None:
    """The browse page, or None when the browse id is unknown."""
    spec = BROWSES.get(params.get("browseId", ""))
    if spec is None:
        return None
    page = max(_int(params.get("page"), 1), 1)
    size = _int(params.get("pageSize"), DEFAULT_PAGE_SIZE)
    size = size if size > 0 else DEFAULT_PAGE_SIZE
    conditions = [parse_filter(f, spec.columns) for f in filters if f.strip()]
    if any(c is None for c in conditions):
        return _page([], False)
    rows = [r for r in spec.rows(tenant) if all(c is not None and c.holds(r) for c in conditions)]
    start = (page - 1) * size
    return _page(rows[start : start + size], len(rows) > start + size)


def _page(rows: list[Row], more: bool) -> dict[str, Any]:
    return {"data": rows, "auxillaryData": {"HasMoreParams": "true" if more else "false"}}


def _column(name: str, columns: tuple[str, ...]) -> str | None:
    if name in columns:
        return name
    bare = [c for c in columns if c.split(".", 1)[1] == name]
    return bare[0] if len(bare) == 1 else None


def _as_text(cell: object) -> str:
    if isinstance(cell, bool):
        return "true" if cell else "false"
    return "" if cell is None else str(cell)


def _compare(cell: object, value: str) -> int:
    """Numbers compare as numbers, everything else as case-insensitive text."""
    left = (
        None
        if isinstance(cell, bool)
        else to_decimal(cell)
        if isinstance(cell, int | float)
        else None
    )
    right = to_decimal(value)
    if left is not None and right is not None:
        return (left > right) - (left < right)
    a, b = _as_text(cell).casefold(), value.casefold()
    return (a > b) - (a < b)


def _int(raw: str | None, default: int) -> int:
    parsed = to_decimal(raw) if raw else None
    if parsed is None or parsed != parsed.to_integral_value():
        return default
    return int(parsed)
