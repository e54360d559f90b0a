"""`api/qracore/browses`: flat dotted rows, `filter`/`page`/`pageSize`, `HasMoreParams` string.

A filter naming a field the browse does not have, or an operator QAD does not know, matches
nothing (HTTP 200, empty `data`), which is QAD's silent behaviour.

Row keys follow what public traffic shows: business-entity browses (`urn:browse:bebrowse:…`) key
their rows `<entity>.<field>` in camelCase (observed `priceListV2.priceListCode`,
`domainV3.domainContext`; [CODE] S1, S4), classic `mfg:` browses by table and field
(`pt_mstr.pt_part`). The entity and field names of each business-entity browse below are our
reading of that convention, and the GL account, tax class, purchase order, supplier invoice and
receipt history browse ids are guesses (reference §4.5, §8.2 "(gap)"; [INF]).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from ml_connector.sandbox.qad.envelope import num, to_decimal
from ml_connector.sandbox.qad.records import InvoiceMatch, Receiver, SupplierInvoice
from ml_connector.sandbox.qad.tenant import CURRENCY_NAMES, QadTenant

Row = dict[str, Any]
DEFAULT_PAGE_SIZE = 100
# Receipt history (prh_hist, reference §4.3) as a classic browse: the read-back QXtend receipts
# are found by, through their packing slip. Browse id and `prh_ps_nbr` are [INF].
RECEIPT_HISTORY = "urn:browse:mfg:receiptHistory"
RECEIPT_COLUMNS = (
    "prh_hist.prh_receiver",
    "prh_hist.prh_nbr",
    "prh_hist.prh_line",
    "prh_hist.prh_part",
    "prh_hist.prh_ps_nbr",
    "prh_hist.prh_rcvd",
    "prh_hist.prh_rcp_date",
    "prh_hist.prh_site",
)
# Supplier invoices as a business-entity browse ([DOC] D7 browse URI pattern; [INF]).
SUPPLIER_INVOICES = "urn:browse:bebrowse:com.qad.erp.financials.supplierInvoices"
INVOICE_COLUMNS = (
    "supplierInvoice.voucher",
    "supplierInvoice.postingYear",
    "supplierInvoice.daybookCode",
    "supplierInvoice.supplierCode",
    "supplierInvoice.invoiceReference",
    "supplierInvoice.invoiceType",
    "supplierInvoice.currencyCode",
    "supplierInvoice.amountTC",
    "supplierInvoice.taxAmountTC",
    "supplierInvoice.invoiceDate",
    "supplierInvoice.dueDate",
    "supplierInvoice.matchingStatus",
    "supplierInvoice.description",
    "supplierInvoice.invoiceStatusCode",
    "supplierInvoice.purchaseOrderNumber",
    "supplierInvoice.matchLine",
    "supplierInvoice.matchQuantity",
    "supplierInvoice.matchUnitPrice",
    "supplierInvoice.matchGlAccount",
)


@dataclass(frozen=True)
class Browse:
    """A browse's columns and rows; `narrow` picks fewer rows to scan from an `eq` filter."""

    columns: tuple[str, ...]
    rows: Callable[[QadTenant], Iterable[Row]]
    narrow: Callable[[QadTenant, str, str], Iterable[Row] | None] | None = None


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
        yield {"site.siteCode": s.code, "site.description": s.description}


def _terms(t: QadTenant) -> Iterable[Row]:
    for c in sorted(t.credit_terms.values(), key=lambda c: c.code):
        yield {
            "creditTerm.creditTermsCode": c.code,
            "creditTerm.description": c.description,
            "creditTerm.dueDays": c.due_days,
        }


def _currencies(t: QadTenant) -> Iterable[Row]:
    for code in sorted(t.currencies):
        yield {
            "currency.currencyCode": code,
            "currency.description": CURRENCY_NAMES.get(code, code),
        }


def _tax(t: QadTenant) -> Iterable[Row]:
    for x in sorted(t.tax_classes.values(), key=lambda x: x.code):
        yield {"tx.taxClass": x.code, "tx.description": x.description, "tx.percent": num(x.percent)}


def _suppliers(t: QadTenant) -> Iterable[Row]:
    for (_, code), s in sorted(t.suppliers.items()):
        yield {
            "supplierV2.supplierCode": code,
            "supplierV2.name": s.name,
            "supplierV2.currencyCode": s.currency,
            "supplierV2.isActive": s.is_active,
        }


def _orders(t: QadTenant) -> Iterable[Row]:
    for (_, number), po in sorted(t.purchase_orders.items()):
        yield {
            "purchaseOrder.purchaseOrderNumber": number,
            "purchaseOrder.supplierCode": po.supplier,
            "purchaseOrder.orderStatus": po.status,
            "purchaseOrder.remarks": po.remarks,
        }


def _receipts(t: QadTenant, receivers: Iterable[Receiver] | None = None) -> Iterable[Row]:
    for rc in t.receivers.values() if receivers is None else receivers:
        for ln in rc.lines:
            yield dict(
                zip(
                    RECEIPT_COLUMNS,
                    (
                        rc.number,
                        rc.po_number,
                        ln.po_line,
                        ln.item,
                        rc.packing_slip,
                        num(ln.quantity),
                        rc.effective_date,
                        ln.site,
                    ),
                    strict=True,
                )
            )


def _receipts_of(t: QadTenant, column: str, wanted: str) -> Iterable[Row] | None:
    """Only the PO's receivers when the fetch filters on the PO (constant-time at scale)."""
    if column != "prh_hist.prh_nbr":
        return None
    return _receipts(t, t.receivers_by_po.get((t.domain, wanted), []))


def _invoices(t: QadTenant, invoices: Iterable[SupplierInvoice] | None = None) -> Iterable[Row]:
    """One row per matched line, and one per linked PO no line is matched on (an invoice with
    neither has one row, PO blank): the APMatchingLn detail a matching browse would show."""
    for inv in t.invoices.values() if invoices is None else invoices:
        matched = {m.po_number for m in inv.matching}
        for m in inv.matching:
            yield _invoice_row(inv, m.po_number, m)
        unmatched = [number for _, number in inv.purchase_orders if number not in matched]
        for po in unmatched or ([] if inv.matching else [""]):
            yield _invoice_row(inv, po, None)


def _invoice_row(inv: SupplierInvoice, po: str, match: InvoiceMatch | None) -> Row:
    return dict(
        zip(
            INVOICE_COLUMNS,
            (
                inv.voucher,
                inv.posting_year,
                inv.daybook,
                inv.supplier,
                inv.reference,
                inv.type,
                inv.currency,
                num(inv.amount),
                num(inv.tax_amount),
                inv.invoice_date,
                inv.due_date,
                inv.matching_status,
                inv.description,
                inv.status_code,
                po,
                "" if match is None else match.po_line,
                "" if match is None else num(match.quantity),
                "" if match is None else num(match.unit_price),
                "" if match is None else match.gl_account,
            ),
            strict=True,
        )
    )


def _invoices_of(t: QadTenant, column: str, wanted: str) -> Iterable[Row] | None:
    if column != "supplierInvoice.supplierCode":
        return None
    return _invoices(t, t.invoices_by_supplier.get(wanted, []))


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
        ("site.siteCode", "site.description"), _sites
    ),
    "urn:browse:bebrowse:com.qad.erp.base.creditTerms": Browse(
        ("creditTerm.creditTermsCode", "creditTerm.description", "creditTerm.dueDays"), _terms
    ),
    "urn:browse:bebrowse:com.qad.erp.base.currencies": Browse(
        ("currency.currencyCode", "currency.description"), _currencies
    ),
    "urn:browse:bebrowse:com.qad.erp.financials.taxClasses": Browse(
        ("tx.taxClass", "tx.description", "tx.percent"), _tax
    ),
    "urn:browse:bebrowse:com.qad.erp.base.supplierV2s": Browse(
        (
            "supplierV2.supplierCode",
            "supplierV2.name",
            "supplierV2.currencyCode",
            "supplierV2.isActive",
        ),
        _suppliers,
    ),
    "urn:browse:bebrowse:com.qad.erp.purchasing.purchaseOrders": Browse(
        (
            "purchaseOrder.purchaseOrderNumber",
            "purchaseOrder.supplierCode",
            "purchaseOrder.orderStatus",
            "purchaseOrder.remarks",
        ),
        _orders,
    ),
    RECEIPT_HISTORY: Browse(RECEIPT_COLUMNS, _receipts, _receipts_of),
    SUPPLIER_INVOICES: Browse(INVOICE_COLUMNS, _invoices, _invoices_of),
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
    candidates = spec.rows(tenant)
    for c in conditions:
        narrowed = (
            spec.narrow(tenant, c.column, c.value) if spec.narrow and c and c.op == "eq" else None
        )
        if narrowed is not None:
            candidates = narrowed
            break
    rows = [r for r in candidates if all(c is not None and c.holds(r) for c in conditions)]
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
