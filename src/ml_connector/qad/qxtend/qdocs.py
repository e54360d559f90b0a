"""The three QDocs ml-connector posts: `maintainPurchaseOrder`, `receivePurchaseOrder`, `bcinvoice`.

Each builder turns one of the engine's specs (`PurchaseOrderSpec`, `ReceiptSpec`, `InvoiceSpec`)
into the dataset element `soap.request` wraps. Element names and their order come from public
QXtend code; where a name is not in any public source it is our inference, marked in place:

- `maintainPurchaseOrder`: `dsPurchaseOrder/purchaseOrder` + `lineDetail` ([CODE] S7 for the
  elements and `operation` A/M; [DOC] D1 .31.33 for the operation codes);
- `receivePurchaseOrder`: `dsPurchaseOrderReceive/purchaseOrderReceive` + flat `lineDetail`
  ([CODE] S6: the structure that posts; the nested one is a silent no-op);
- `bcinvoice`: `BCInvoice/tContextInfo` + `tCInvoice` (+ `tCInvoiceVat`, `tCInvoicePO`)
  ([CODE] S8; [DOC] D6 for the `tCInvoicePO` and `tCInvoiceVat` field names).

QDoc values are text: dates `YYYY-MM-DD`, booleans `true`/`false`, decimals without exponent.
Element order matters (the UI adapter replays a character screen; reference §7.7), so each
builder writes its elements in the order of its source and the tests pin that order.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from lxml import etree

from ml_connector.qad.models import InvoiceSpec, PurchaseOrderSpec, ReceiptSpec
from ml_connector.qad.qxtend.soap import child, document

Operation = Literal["A", "M"]

# QXtend's Financials adapter version seen with `bcinvoice` ([CODE] S8).
CBF_VERSION = "9.2"


def text(value: object) -> str:
    """A QDoc value: `Decimal` without exponent, `date` as ISO, `bool` as true/false."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        formatted = format(value.normalize(), "f")
        return "0" if formatted in ("-0", "") else formatted
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def money(value: Decimal, places: int) -> str:
    """An amount written with the profile's decimal places (`[defaults] rounding`) or its own,
    whichever are more.

    Amounts arrive rounded once, by the one money rule (the currency's decimals, the
    connection's mode; `sync/amounts.py`), and go to QAD as they are, the same as over REST:
    the profile pads (JPY 1235 as `1235.00`) but never cuts (KWD 22.625 stays `22.625`).
    """
    exponent = value.as_tuple().exponent
    own = -exponent if isinstance(exponent, int) and exponent < 0 else 0
    return format(value.quantize(Decimal(1).scaleb(-max(places, own))), "f")


def _put(parent: etree._Element, name: str, value: object) -> None:
    """Append `name` unless the value is blank (QXtend keeps a field's default when absent)."""
    if value is None or value == "":
        return
    child(parent, name, text(value))


# ---- maintainPurchaseOrder ([CODE] S7) ---------------------------------------------------------


@dataclass(frozen=True)
class PoOptions:
    """Tenant defaults a PO QDoc needs beyond the spec (from the profile's `[defaults]`).

    `exchange_rate_type` blank: the PO carries Cin7's rate (`poExRate`); set: QAD looks the rate
    up in that rate type and no rate is sent.
    """

    default_site: str = ""
    bill_to: str = ""
    exchange_rate_type: str = ""


def maintain_purchase_order(
    spec: PurchaseOrderSpec,
    *,
    operation: Operation = "A",
    lines: Iterable[int] | None = None,
    added: Collection[int] = (),
    close_lines: Iterable[int] = (),
    close: bool = False,
    options: PoOptions | None = None,
) -> etree._Element:
    """`dsPurchaseOrder` for a new PO (`A`, every line added) or a change (`M`).

    With `M`, `lines` names the spec lines to send (default: all), each sent with `M` unless it
    is in `added` (then `A`); `close_lines` are PO line numbers to close; `close=True` closes the
    whole PO. QAD rejects `A` on an existing PO number and `M` on a missing one ([DOC] D1 .31.33).
    """
    options = options or PoOptions()
    wanted = {line.line for line in spec.lines} if lines is None else set(lines)
    root = document("dsPurchaseOrder")
    po = child(root, "purchaseOrder")
    child(po, "operation", operation)
    child(po, "poNbr", spec.number)
    child(po, "poVend", spec.supplier_code)
    site = spec.ship_to_site or options.default_site
    _put(po, "poShip", site)
    _put(po, "poBill", options.bill_to)
    child(po, "poOrdDate", text(spec.order_date))
    _put(po, "poDueDate", spec.due_date)
    _put(po, "poSite", site)
    _put(po, "poCrTerms", spec.credit_terms)
    # poCurr / poExRate / exRateType follow the QDoc naming of po_mstr's po_curr, po_ex_rate
    # ([DOC] D6 BMfgPO); no public QDoc shows them: [INF].
    child(po, "poCurr", spec.currency)
    if options.exchange_rate_type:
        child(po, "exRateType", options.exchange_rate_type)
    else:
        child(po, "poExRate", text(spec.exchange_rate))
    child(po, "poRmks", spec.remarks)
    if close:
        child(po, "poStat", "C")  # closing through po_stat: [INF] D6 (po_stat), S7 shows M only
    for line in spec.lines:
        if line.line not in wanted:
            continue
        detail = child(po, "lineDetail")
        child(detail, "operation", "A" if operation == "A" or line.line in added else "M")
        child(detail, "line", str(line.line))
        _put(detail, "podSite", line.site or site)
        child(detail, "podPart", line.item_code)
        child(detail, "podQtyOrd", text(line.quantity))
        child(detail, "podPurCost", text(line.unit_cost))
        _put(detail, "podDueDate", line.due_date or spec.due_date)
        # S7 answers the UI's confirmation prompts on each line.
        child(detail, "yn", "true")
        child(detail, "yn1", "true")
    for number in close_lines:
        detail = child(po, "lineDetail")
        child(detail, "operation", "M")
        child(detail, "line", str(number))
        child(detail, "podStatus", "C")  # [INF] D6 pod_status; S7 removes lines with R instead
    return root


def modify_purchase_order(
    number: str,
    header: Iterable[tuple[str, object]] = (),
    lines: Iterable[tuple[int, Iterable[tuple[str, object]]]] = (),
) -> etree._Element:
    """`dsPurchaseOrder` with `operation` M changing only the named fields.

    `header` pairs are purchaseOrder elements (`poRmks`, `poDueDate`, `poCrTerms`, `poStat`);
    each `lines` entry is a line number and its lineDetail elements (`podQtyOrd`, `podPurCost`,
    `podStatus`), each sent with `operation` M. QXtend keeps every field a QDoc leaves out.
    """
    root = document("dsPurchaseOrder")
    po = child(root, "purchaseOrder")
    child(po, "operation", "M")
    child(po, "poNbr", number)
    for name, value in header:
        child(po, name, text(value))
    for line, fields in lines:
        detail = child(po, "lineDetail")
        child(detail, "operation", "M")
        child(detail, "line", str(line))
        for name, value in fields:
            child(detail, name, text(value))
        child(detail, "yn", "true")
        child(detail, "yn1", "true")
    return root


# ---- receivePurchaseOrder ([CODE] S6) -----------------------------------------------------------


@dataclass(frozen=True)
class ReceiptOptions:
    """Where received goods go when the PO line gives no site (`site`) and the location."""

    site: str = ""
    location: str = ""


def receive_purchase_order(
    spec: ReceiptSpec, *, sites: dict[int, str] | None = None, options: ReceiptOptions | None = None
) -> etree._Element:
    """`dsPurchaseOrderReceive` in the flat structure that posts ([CODE] S6).

    One `lineDetail` per PO line with `site`, `location` and `multiEntry=false`; no nested
    `receiptDetail` and no `operation` element, which S6 saw answer success and post nothing.
    The packing slip (`psNbr`) is the receipt's natural key: QXtend's answer carries no receiver
    number, so the receipt is found again by it (reference §7.5). A negative quantity reverses.
    A line's own site wins (where Cin7 received it); else `sites` gives each PO line's site
    (read from the PO); otherwise `options.site`.
    """
    options = options or ReceiptOptions()
    sites = sites or {}
    root = document("dsPurchaseOrderReceive")
    receipt = child(root, "purchaseOrderReceive")
    child(receipt, "ordernum", spec.po_number)
    child(receipt, "effDate", text(spec.effective_date))
    child(receipt, "psNbr", spec.packing_slip)
    child(receipt, "fillAll", "false")
    child(receipt, "move", "false")
    child(receipt, "yn", "true")
    child(receipt, "yn1", "true")
    for line in spec.lines:
        detail = child(receipt, "lineDetail")
        child(detail, "line", str(line.po_line))
        child(detail, "lotserialQty", text(line.quantity))
        child(detail, "site", line.site or sites.get(line.po_line) or options.site)
        child(detail, "location", options.location)
        child(detail, "multiEntry", "false")
    return root


# ---- bcinvoice ([CODE] S8) ----------------------------------------------------------------------


@dataclass(frozen=True)
class VatLine:
    """One tax line (`tCInvoiceVat`): taxable base and tax in transaction currency.

    A blank `tax_class` leaves the class to QAD's defaulting from the supplier's tax set-up.
    """

    base: Decimal
    amount: Decimal
    tax_class: str = ""


@dataclass(frozen=True)
class InvoiceOptions:
    """Tenant defaults an invoice QDoc needs (profile `[defaults]` and connection settings)."""

    entity: str
    domain: str
    daybook: str = "SUPINV"
    daybook_set: str = ""
    invoice_status: str = "AP-INITIAL"
    exchange_rate_type: str = ""
    places: int = 2


# QAD Financials spells the invoice types in capitals ([DOC] D6 bcinvoice); [INF] for the
# exact spelling of the credit note.
INVOICE_TYPES = {"Invoice": "INVOICE", "CreditNote": "CREDITNOTE"}


def bcinvoice(
    spec: InvoiceSpec, *, vat: Iterable[VatLine] = (), options: InvoiceOptions
) -> etree._Element:
    """`BCInvoice` for one supplier invoice or credit note ([CODE] S8; [DOC] D6).

    `tcActivityCode=Create`, `CInvoiceVoucher` left to QAD (0 means "assign", D6). Taxable
    invoices carry their `vat` lines and `CInvoiceIsTaxable=true`. The PO links (`tCInvoicePO`,
    D6 `bcinvoiceapmatching`) and the receiver matching rows (`tAPMatchingLn`, D6 `bapmatching`)
    inside `bcinvoice` are not in any public example: [INF], to be traced on a real tenant.
    GL lines for charges go in `tPostingLine` rows: [INF] (D6 `bposting`).
    """
    places = options.places
    vat = list(vat)
    root = document("BCInvoice")
    context = child(root, "tContextInfo")
    child(context, "tcCompanyCode", options.entity)
    child(context, "tcCBFVersion", CBF_VERSION)
    child(context, "tcActivityCode", "Create")
    child(context, "tlPartialUpdate", "false")
    invoice = child(root, "tCInvoice")
    posting = spec.posting_date or spec.invoice_date
    child(invoice, "CInvoiceType", INVOICE_TYPES[spec.type])
    child(invoice, "CInvoiceDate", text(spec.invoice_date))
    child(invoice, "CInvoicePostingDate", text(posting))
    child(invoice, "CInvoicePostingYear", str(posting.year))
    child(invoice, "CInvoicePostingPeriod", str(posting.month))
    child(invoice, "CInvoicePostingYearPeriod", f"{posting.year}{posting.month:02d}")
    child(invoice, "CInvoiceReference", spec.reference)
    child(invoice, "CInvoiceDescription", spec.description)
    child(invoice, "CInvoiceOriginalCreditTC", money(spec.amount, places))
    child(invoice, "CInvoiceIsTaxable", text(bool(vat)))
    _put(invoice, "CInvoiceDayBookSetCode", options.daybook_set)
    child(invoice, "tcCreditorCode", spec.supplier_code)
    child(invoice, "CInvoicePoDomain", options.domain)
    child(invoice, "tcJournalCode", options.daybook)
    child(invoice, "tcCurrencyCode", spec.currency)
    # Rate fields follow D6's CInvoice naming (CInvoiceExchangeRate, exchange rate type): [INF].
    if options.exchange_rate_type:
        child(invoice, "tcExchangeRateType", options.exchange_rate_type)
    else:
        child(invoice, "CInvoiceExchangeRate", text(spec.exchange_rate))
    child(invoice, "tcReasonCode", options.invoice_status)
    _put(invoice, "CInvoiceDueDate", spec.due_date)
    child(invoice, "CInvoiceVoucher", "0")
    child(invoice, "tc_Rowid", "1")
    for number, line in enumerate(vat, start=1):
        row = child(root, "tCInvoiceVat")
        _put(row, "tcTaxCode", line.tax_class)
        child(row, "CInvoiceVatVatBaseCreditTC", money(line.base, places))
        child(row, "CInvoiceVatVatCreditTC", money(line.amount, places))
        child(row, "tc_Rowid", f"vat{number}")
        child(row, "tc_ParentRowid", "1")
    po_numbers = list(dict.fromkeys([*spec.po_numbers, *(m.po_number for m in spec.matching)]))
    for number, po in enumerate(po_numbers, start=1):
        row = child(root, "tCInvoicePO")
        child(row, "CInvoicePOPoDomain", options.domain)
        child(row, "CInvoicePOPoNbr", po)
        child(row, "tc_Rowid", f"po{number}")
        child(row, "tc_ParentRowid", "1")
    for number, match in enumerate(spec.matching, start=1):
        row = child(root, "tAPMatchingLn")
        child(row, "PvoDomain", options.domain)
        child(row, "APMatchingLnPoNbr", match.po_number)
        child(row, "APMatchingLnPoLine", str(match.po_line))
        _put(row, "APMatchingLnReceiver", match.receiver_number)
        child(row, "APMatchingLnMatchQty", text(match.quantity))
        child(row, "APMatchingLnMatchUnitPrice", text(match.unit_price))
        child(row, "tc_Rowid", f"m{number}")
        child(row, "tc_ParentRowid", "1")
    for number, gl in enumerate(spec.gl_lines, start=1):
        row = child(root, "tPostingLine")
        child(row, "tcGLCode", gl.gl_code)
        _put(row, "tcDivisionCode", gl.sub_account)
        _put(row, "tcCostCentreCode", gl.cost_centre)
        _put(row, "tcProjectCode", gl.project)
        child(row, "PostingLineAmountTC", money(gl.amount, places))
        _put(row, "PostingLineText", gl.description)
        child(row, "tc_Rowid", f"gl{number}")
        child(row, "tc_ParentRowid", "1")
    return root
