"""QXtend Inbound in the sandbox: `{base}/qxi/services/QdocWebService` and its three QDocs.

The QDocs drive the same tenant state as the REST resources, through the same rule modules: a
`maintainPurchaseOrder` header goes through `purchasing.save_header` and each added line through
the UI's field-change defaulting and `save_line`, a `receivePurchaseOrder` through
`receipts.post_receipt`, a `bcinvoice` through `matching.post_invoice`. So a PO created by QDoc
is read over REST and a receipt posted by QDoc is matched by a REST invoice, and vice versa.

What QXtend does differently from REST, and the sandbox with it:

- Credentials are in the session context (`username`, `password`; [DOC] D1); without them the
  receiver's stored user runs the QDoc (D1). Refused credentials are a SOAP fault. A user
  without the right to the program the QDoc drives gets `result=error` (D1: "menu access").
- `scopeTransaction=true` rolls the whole QDoc back on any error ([DOC] D1); otherwise what
  succeeded before the error stays.
- `receivePurchaseOrder` reads only the flat structure S6 found working: a `lineDetail` with
  `line`, `lotserialQty`, `site`, `location` and no `multiEntry=true`, nested `receiptDetail`
  or `operation`. Any other line is skipped without a word, so the structure S6 got wrong
  answers `success` and posts nothing ([CODE] S6), deterministically.
- The receipt answer echoes `ordernum` and the line numbers only ([CODE] S6: no receiver
  number). Faults (`/_sandbox/faults`) add QAD's other receipt quirks: `qdoc_silent_receipt_rate`
  (success, nothing posted, S6), `qdoc_posted_error_rate` (error, yet posted: reference §4.3),
  and `qdoc_no_receiver_rate` (default 1: the answer carries no receiver number, as S6 saw; set it
  below 1 to have the sandbox echo `receiverNumber` when response detail is asked for, which is
  our [INF] of what some QXtend versions do).
- A taxable invoice (`CInvoiceIsTaxable=true`) must carry its `tCInvoiceVat` lines, and an
  untaxed one none: QAD's API notes say only an initial non-taxable invoice can be created from
  minimal data ([DOC] D6 `bcinvoice/index.htm`). The voucher is echoed in `tCInvoice` when
  response detail is asked for ([INF]).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from lxml import etree

from ml_connector.sandbox.qad import matching, purchasing, receipts
from ml_connector.sandbox.qad.auth import User
from ml_connector.sandbox.qad.envelope import ERROR, Msg, Outcome, to_decimal
from ml_connector.sandbox.qad.faults import roll
from ml_connector.sandbox.qad.records import PurchaseOrder
from ml_connector.sandbox.qad.soapdoc import (
    BadEnvelope,
    Message,
    QdocReply,
    QdocRequest,
    add,
    answer,
    echo,
    elements,
    fault,
    first,
    local,
    parse_request,
    value,
)
from ml_connector.sandbox.qad.tenant import QadTenant

SERVICE_PATH = "qxi/services/QdocWebService"
Handler = Callable[[QadTenant, QdocRequest], QdocReply]

# Header elements of maintainPurchaseOrder ([CODE] S7) and the REST fields they set. poCurr,
# poExRate and exRateType are our [INF] from po_mstr's po_curr / po_ex_rate ([DOC] D6).
PO_HEADER = {
    "poVend": "supplierCode",
    "poCurr": "currencyCode",
    "poExRate": "exchangeRate",
    "poCrTerms": "creditTermsCode",
    "poShip": "shipToSite",
    "poOrdDate": "orderDate",
    "poDueDate": "dueDate",
    "poRmks": "remarks",
    "exRateType": "exchangeRateType",
}
# lineDetail elements ([CODE] S7) → REST line fields, in the UI's field-change order.
PO_LINE_FIELDS = (
    ("podSite", "siteCode"),
    ("podPart", "itemCode"),
    ("podQtyOrd", "quantityOrdered"),
    ("podPurCost", "purchaseCost"),
)
PO_LINE_UPDATES = {
    "podQtyOrd": "quantityOrdered",
    "podPurCost": "purchaseCost",
    "podDueDate": "dueDate",
    "podStatus": "lineStatus",  # [INF] D6 pod_status
    "podAcct": "glAccount",
    "podSub": "subAccount",
    "podCc": "costCentre",
    "podProject": "project",
}
INVOICE_TYPES = {"INVOICE": "Invoice", "CREDITNOTE": "CreditNote", "CREDIT NOTE": "CreditNote"}


def handle(tenant: QadTenant, raw: bytes) -> tuple[int, bytes]:
    """Run one posted QDoc; (HTTP status, SOAP answer)."""
    try:
        request = parse_request(raw)
    except BadEnvelope as exc:
        return 500, fault("Client", str(exc))
    entry = QDOCS.get(request.name)
    if entry is None:
        return 500, fault(
            "Client",
            f"No API {request.name} is registered for receiver {request.receiver or '(none)'}",
        )
    resource, handler = entry
    user = _user(tenant, request)
    if user is None:
        return 500, fault("Client", "Authentication failed: invalid user name or password")
    if not user.may(resource, write=True):
        return 200, answer(
            request.name,
            QdocReply(
                "error",
                [Message(f"ERROR: User {user.name} does not have access to {request.name}")],
            ),
        )
    domain = request.context.get("domain") or tenant.domain
    if domain != tenant.domain:
        return 200, answer(
            request.name,
            QdocReply("error", [Message(f"ERROR: Domain {domain} does not exist", field="domain")]),
        )
    return 200, answer(request.name, handler(tenant, request))


def _user(tenant: QadTenant, request: QdocRequest) -> User | None:
    name = request.context.get("username", "")
    if not name:
        return tenant.users.get(tenant.username)  # the receiver's stored user (D1)
    user = tenant.users.get(name)
    if user is None or user.password != request.context.get("password", ""):
        return None
    return user


def _messages(outcome: Outcome, where: str = "") -> list[Message]:
    return [_message(m, where) for m in outcome.messages]


def _message(m: Msg, where: str = "") -> Message:
    severe = m.severity == ERROR
    return Message(
        description=("ERROR: " if severe else "") + m.message,
        severity="error" if severe else "warning",
        number=m.code,
        field=m.field,
        context=where,
    )


def _reply(messages: list[Message], echoed: etree._Element | None) -> QdocReply:
    if any(m.severity == "error" for m in messages):
        return QdocReply("error", messages, echoed)
    return QdocReply("warning" if messages else "success", messages, echoed)


def _missing(name: str) -> QdocReply:
    return QdocReply("error", [Message(f"ERROR: The QDoc carries no {name}", field=name)])


# ---- maintainPurchaseOrder ----------------------------------------------------------------------


class _Rollback:
    """Copies of the POs a QDoc touches, to undo it under `scopeTransaction` ([DOC] D1)."""

    def __init__(self, tenant: QadTenant) -> None:
        self.tenant = tenant
        self.saved: dict[tuple[str, str], PurchaseOrder | None] = {}

    def keep(self, key: tuple[str, str]) -> None:
        if key not in self.saved:
            self.saved[key] = copy.deepcopy(self.tenant.purchase_orders.get(key))

    def undo(self) -> None:
        for key, saved in self.saved.items():
            if saved is None:
                self.tenant.purchase_orders.pop(key, None)
            else:
                self.tenant.purchase_orders[key] = saved


def maintain_purchase_order(tenant: QadTenant, request: QdocRequest) -> QdocReply:
    document = request.document
    if document is None or local(document) != "dsPurchaseOrder":
        return _missing("dsPurchaseOrder")
    orders = list(elements(document, "purchaseOrder"))
    if not orders:
        return _missing("purchaseOrder")
    rollback = _Rollback(tenant)
    messages: list[Message] = []
    echoed = echo("dsPurchaseOrder")
    for order in orders:
        messages += _maintain(tenant, order, rollback, echoed)
    failed = any(m.severity == "error" for m in messages)
    if failed and request.flag("scopeTransaction", default=False):
        rollback.undo()
    return _reply(messages, None if request.suppress_detail else echoed)


def _maintain(
    tenant: QadTenant, order: etree._Element, rollback: _Rollback, echoed: etree._Element
) -> list[Message]:
    operation = (value(order, "operation") or "A").upper()
    number = value(order, "poNbr") or ""
    where = f"purchaseOrder({number})"
    if operation not in ("A", "M"):
        return [Message(f"ERROR: Operation {operation} is not supported", field="operation")]
    key = (tenant.domain, number)
    rollback.keep(key)
    header: dict[str, Any] = {
        "domainCode": tenant.domain,
        "purchaseOrderNumber": number,
        "dataOperation": "C" if operation == "A" else "U",
    }
    for tag, name in PO_HEADER.items():
        given = value(order, tag)
        if given is not None:
            header[name] = given
    problems = [
        Message(f"ERROR: Site {site} does not exist", field=tag, context=where)
        for tag in ("poBill", "poSite")
        if (site := value(order, tag)) and site not in tenant.sites
    ]
    if operation == "M" and tenant.purchase_order(*key) is None:
        problems.append(
            Message(f"ERROR: Purchase order {number} does not exist", "error", "1003", "poNbr")
        )
    if problems:
        return problems
    saved = purchasing.save_header(tenant, header, {})
    messages = _messages(saved, where)
    if not saved.ok:
        return messages
    number = str(saved.record["purchaseOrderNumber"])
    rollback.keep((tenant.domain, number))
    po = tenant.purchase_order(tenant.domain, number)
    assert po is not None
    for detail in elements(order, "lineDetail"):
        messages += _maintain_line(tenant, po, detail, operation)
    status = (value(order, "poStat") or "").upper()
    if status and not any(m.severity == "error" for m in messages):
        # po_stat ([DOC] D6) applied after the lines, so closing also closes lines added here
        changing = {**header, "purchaseOrderNumber": number, "dataOperation": "U"}
        saved = purchasing.save_header(tenant, {**changing, "orderStatus": status}, {})
        messages += _messages(saved, where)
    ours = add(echoed, "purchaseOrder", "")
    add(ours, "poNbr", number)
    return messages


def _maintain_line(
    tenant: QadTenant, po: PurchaseOrder, detail: etree._Element, header_operation: str
) -> list[Message]:
    operation = (value(detail, "operation") or header_operation).upper()
    raw_line = value(detail, "line") or ""
    where = f"purchaseOrder({po.number})lineDetail({raw_line})"
    number = to_decimal(raw_line)
    if number is None or number != number.to_integral_value() or number < 1:
        return [Message(f"ERROR: Line {raw_line or '(blank)'} is not a line number", field="line")]
    line_no = int(number)
    if operation == "A":
        draft = purchasing.blank_line(po) | {"purchaseOrderLine": line_no}
        for tag, name in PO_LINE_FIELDS:
            given = value(detail, tag)
            if given is None:
                continue
            draft[name] = given
            changed = purchasing.field_change(tenant, draft, {"fieldName": name})
            if not changed.ok:
                return _messages(changed, where)
            draft = changed.record
        for tag, name in PO_LINE_UPDATES.items():
            given = value(detail, tag)
            if given is not None and name not in ("quantityOrdered", "purchaseCost"):
                draft[name] = given
        return _messages(purchasing.save_line(tenant, draft | {"dataOperation": "C"}, {}), where)
    if operation == "M":
        record: dict[str, Any] = {
            "domainCode": po.domain,
            "purchaseOrderNumber": po.number,
            "purchaseOrderLine": line_no,
            "dataOperation": "U",
        }
        for tag, name in PO_LINE_UPDATES.items():
            given = value(detail, tag)
            if given is not None:
                record[name] = given
        return _messages(purchasing.save_line(tenant, record, {}), where)
    return [Message(f"ERROR: Operation {operation} is not supported", field="operation")]


# ---- receivePurchaseOrder -----------------------------------------------------------------------


def _flat_line(detail: etree._Element) -> dict[str, Any] | None:
    """The line S6 found to post, or None for any other structure (skipped silently)."""
    if first(detail, "receiptDetail") is not None or first(detail, "operation") is not None:
        return None
    if (value(detail, "multiEntry") or "false").lower() in ("true", "yes"):
        return None
    fields = {tag: value(detail, tag) for tag in ("line", "lotserialQty", "site", "location")}
    if any(v is None for v in fields.values()):
        return None
    return {
        "purchaseOrderLine": fields["line"],
        "quantityReceived": fields["lotserialQty"],
        "siteCode": fields["site"],
        "location": fields["location"],
    }


def receive_purchase_order(tenant: QadTenant, request: QdocRequest) -> QdocReply:
    document = request.document
    receipt = first(document, "purchaseOrderReceive") if document is not None else None
    if document is None or receipt is None or local(document) != "dsPurchaseOrderReceive":
        return _missing("dsPurchaseOrderReceive")
    number = value(receipt, "ordernum") or ""
    details = list(elements(receipt, "lineDetail"))
    echoed = echo("dsPurchaseOrderReceive")
    ours = add(echoed, "purchaseOrderReceive", "")
    add(ours, "ordernum", number)
    for detail in details:
        add(add(ours, "lineDetail", ""), "line", value(detail, "line") or "")
    lines = [line for line in (_flat_line(d) for d in details) if line is not None]
    if not lines:
        return QdocReply("success", [], echoed)  # [CODE] S6: the wrong structure posts nothing
    if roll(tenant.rng, tenant.faults.qdoc_silent_receipt_rate):
        tenant.traffic.faults["qdoc_silent_receipt"] += 1
        return QdocReply("success", [], echoed)  # [CODE] S6: success, nothing posted
    record = {
        "domainCode": tenant.domain,
        "purchaseOrderNumber": number,
        "effectiveDate": value(receipt, "effDate") or "",
        "packingSlip": value(receipt, "psNbr") or "",
        "lines": lines,
    }
    posted = receipts.post_receipt(tenant, record, {})
    messages = _messages(posted, f"purchaseOrderReceive({number})")
    if not posted.ok:
        return QdocReply("error", messages, echoed)
    if roll(tenant.rng, tenant.faults.qdoc_posted_error_rate):
        # reference §4.3: a GL or costing sub-failure reports error though the quantity posted.
        tenant.traffic.faults["qdoc_posted_error"] += 1
        failure = Message(
            "ERROR: Unable to create GL transaction: cost update failed", number="6024"
        )
        return QdocReply("error", [*messages, failure], echoed)
    if not request.suppress_detail and not roll(tenant.rng, tenant.faults.qdoc_no_receiver_rate):
        add(ours, "receiverNumber", posted.record["receiverNumber"])
    return _reply(messages, echoed)


# ---- bcinvoice ----------------------------------------------------------------------------------


def _rows(document: etree._Element, name: str) -> list[dict[str, str]]:
    return [
        {local(c): (c.text or "").strip() for c in elements(row)}
        for row in elements(document, name)
    ]


def _total(rows: list[dict[str, str]], key: str) -> Decimal | None:
    total = Decimal(0)
    for row in rows:
        amount = to_decimal(row.get(key, ""))
        if amount is None:
            return None
        total += amount
    return total


def bcinvoice(tenant: QadTenant, request: QdocRequest) -> QdocReply:
    document = request.document
    if document is None or local(document) != "BCInvoice":
        return _missing("BCInvoice")
    context = request.context
    problems: list[Message] = []
    if context.get("action", "") != "Save":  # [CODE] S8
        problems.append(Message("ERROR: Financials QDocs need action Save", field="action"))
    entity = context.get("entity", "")
    info = first(document, "tContextInfo")
    company = value(info, "tcCompanyCode") if info is not None else None
    if entity != tenant.entity:
        problems.append(
            Message(f"ERROR: Entity {entity or '(blank)'} does not exist", field="entity")
        )
    elif company and company != entity:
        problems.append(
            Message(f"ERROR: Company {company} is not the session's entity", field="tcCompanyCode")
        )
    if info is None or value(info, "tcActivityCode") != "Create":
        problems.append(
            Message("ERROR: Only tcActivityCode Create is supported", field="tcActivityCode")
        )
    header = first(document, "tCInvoice")
    if header is None:
        problems.append(Message("ERROR: The QDoc carries no tCInvoice", field="tCInvoice"))
    if problems or header is None:
        return QdocReply("error", problems)
    fields = {local(c): (c.text or "").strip() for c in elements(header)}
    vat = _rows(document, "tCInvoiceVat")
    taxable = fields.get("CInvoiceIsTaxable", "false").lower() == "true"
    if taxable != bool(vat):
        return QdocReply(
            "error",
            [
                Message(
                    "ERROR: A taxable invoice needs its tax lines (tCInvoiceVat)"
                    if taxable
                    else "ERROR: Tax lines on an invoice that is not taxable",
                    field="CInvoiceIsTaxable",
                )
            ],
        )
    tax = _total(vat, "CInvoiceVatVatCreditTC")
    if tax is None:
        return QdocReply(
            "error", [Message("ERROR: A tax amount is not a number", field="tCInvoiceVat")]
        )
    kind = fields.get("CInvoiceType", "INVOICE").upper()
    currency = fields.get("tcCurrencyCode", "")
    record: dict[str, Any] = {
        "dataOperation": "C",
        "entityCode": entity,
        "supplierCode": fields.get("tcCreditorCode", ""),
        "invoiceReference": fields.get("CInvoiceReference", ""),
        "invoiceType": INVOICE_TYPES.get(kind, kind),
        "invoiceDate": fields.get("CInvoiceDate", ""),
        "postingDate": fields.get("CInvoicePostingDate", ""),
        "dueDate": fields.get("CInvoiceDueDate", ""),
        "currencyCode": currency,
        "exchangeRate": fields.get("CInvoiceExchangeRate", ""),
        "exchangeRateType": fields.get("tcExchangeRateType", ""),
        "amountTC": fields.get("CInvoiceOriginalCreditTC", ""),
        "taxAmountTC": str(tax),
        "invoiceStatusCode": fields.get("tcReasonCode", ""),
        "daybookCode": fields.get("tcJournalCode", ""),
        "description": fields.get("CInvoiceDescription", ""),
        "purchaseOrders": [
            {
                "domainCode": r.get("CInvoicePOPoDomain", ""),
                "purchaseOrderNumber": r.get("CInvoicePOPoNbr", ""),
            }
            for r in _rows(document, "tCInvoicePO")
        ],
        "matching": [
            {
                "purchaseOrderNumber": r.get("APMatchingLnPoNbr", ""),
                "purchaseOrderLine": r.get("APMatchingLnPoLine", ""),
                "quantity": r.get("APMatchingLnMatchQty", ""),
                "unitPrice": r.get("APMatchingLnMatchUnitPrice", ""),
                "receiverNumber": r.get("APMatchingLnReceiver", ""),
            }
            for r in _rows(document, "tAPMatchingLn")
        ],
        "glLines": [
            {
                "glCode": r.get("tcGLCode", ""),
                "subAccount": r.get("tcDivisionCode", ""),
                "costCentre": r.get("tcCostCentreCode", ""),
                "project": r.get("tcProjectCode", ""),
                "amountTC": r.get("PostingLineAmountTC", ""),
                "description": r.get("PostingLineText", ""),
            }
            for r in _rows(document, "tPostingLine")
        ],
    }
    posted = matching.post_invoice(tenant, _drop_blank(record), {})
    messages = _messages(posted, "tCInvoice")
    if not posted.ok:
        return QdocReply("error", messages)
    echoed = echo("BCInvoice")
    invoice = add(echoed, "tCInvoice", "")
    for tag, key in (
        ("CInvoiceVoucher", "voucher"),
        ("CInvoicePostingYear", "postingYear"),
        ("tcJournalCode", "daybookCode"),
        ("CInvoiceReference", "invoiceReference"),
        ("tcCreditorCode", "supplierCode"),
    ):
        add(invoice, tag, posted.record[key])
    return _reply(messages, None if request.suppress_detail else echoed)


def _drop_blank(record: Mapping[str, Any]) -> dict[str, Any]:
    """Leave out blank header values, so the REST rules apply their defaults (due date, rate)."""
    return {k: v for k, v in record.items() if v != ""}


QDOCS: dict[str, tuple[str, Handler]] = {
    "maintainPurchaseOrder": ("purchaseOrderHeaders", maintain_purchase_order),
    "receivePurchaseOrder": ("purchaseOrderReceipts", receive_purchase_order),
    "bcinvoice": ("supplierInvoices", bcinvoice),
}
