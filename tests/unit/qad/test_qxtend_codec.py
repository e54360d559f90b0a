"""QXtend codec: SOAP envelopes and the three QDocs built from specs, answers read from XML."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from lxml import etree
from pydantic import SecretStr

from ml_connector.qad.models import (
    GlLine,
    InvoiceSpec,
    MatchLine,
    PurchaseOrderLineSpec,
    PurchaseOrderSpec,
    ReceiptSpec,
)
from ml_connector.qad.qxtend import (
    InvoiceOptions,
    MalformedAnswer,
    PoOptions,
    QdocAnswer,
    ReceiptOptions,
    SessionContext,
    SoapFault,
    VatLine,
    bcinvoice,
    maintain_purchase_order,
    modify_purchase_order,
    parse_answer,
    receive_purchase_order,
    request,
)
from ml_connector.qad.qxtend.soap import describe

NS = {
    "soapenv": "http://schemas.xmlsoap.org/soap/envelope/",
    "wsa": "http://www.w3.org/2005/08/addressing",
    "q": "urn:schemas-qad-com:xml-services",
    "c": "urn:schemas-qad-com:xml-services:common",
}
CONTEXT = SessionContext(username="integration", password=SecretStr("p&ss<word>"), domain="10USA")


def names(element: etree._Element) -> list[str]:
    return [etree.QName(c).localname for c in element]


def value(element: etree._Element, path: str) -> str:
    found = element.find(path, NS)
    assert found is not None, path
    return found.text or ""


def po_spec(**changes: object) -> PurchaseOrderSpec:
    fields: dict[str, object] = {
        "number": "PO-1",
        "supplier_code": "S1001",
        "currency": "EUR",
        "exchange_rate": Decimal("1.0850"),
        "credit_terms": "N30",
        "ship_to_site": "10-100",
        "order_date": dt.date(2026, 3, 2),
        "due_date": dt.date(2026, 3, 16),
        "remarks": "Tom & Jerry <rush>",
        "lines": [
            PurchaseOrderLineSpec(line=1, item_code="WID-100", quantity=10, unit_cost="12.50"),
            PurchaseOrderLineSpec(line=2, item_code="BRK-20", quantity=3, unit_cost="1.75"),
        ],
    }
    fields.update(changes)
    return PurchaseOrderSpec.model_validate(fields)


# ---- envelope -----------------------------------------------------------------------------------


def test_the_envelope_addresses_the_receiver_and_carries_the_session_context() -> None:
    context = SessionContext(
        username="integration",
        password=SecretStr("secret"),
        domain="10USA",
        entity="10USACO",
        action="Save",
        version="ERP3_1",
        receiver="QADFIN",
    )
    root = etree.fromstring(request("bcinvoice", context, etree.Element("x")))
    assert value(root, "soapenv:Header/wsa:To") == "urn:services-qad-com:QADFIN"
    assert value(root, "soapenv:Header/wsa:ReferenceParameters/c:suppressResponseDetail") == (
        "false"
    )
    qdoc = root.find("soapenv:Body/q:bcinvoice", NS)
    assert qdoc is not None
    assert names(qdoc) == ["dsSessionContext", "x"]
    rows = [
        (value(r, "c:propertyQualifier"), value(r, "c:propertyName"), value(r, "c:propertyValue"))
        for r in qdoc.findall("c:dsSessionContext/c:ttContext", NS)
    ]
    assert rows == [
        ("QAD", "domain", "10USA"),
        ("QAD", "scopeTransaction", "true"),
        ("QAD", "version", "ERP3_1"),
        ("QAD", "mnemonicsRaw", "false"),
        ("QAD", "action", "Save"),
        ("QAD", "entity", "10USACO"),
        ("QAD", "username", "integration"),
        ("QAD", "password", "secret"),
    ]


def test_operational_qdocs_leave_out_entity_and_action() -> None:
    properties = [name for name, _ in CONTEXT.properties()]
    assert "entity" not in properties
    assert "action" not in properties


def test_the_password_never_shows_in_a_repr_or_a_description() -> None:
    assert "p&ss" not in repr(CONTEXT)
    assert "p&ss" not in describe("receivePurchaseOrder", CONTEXT)
    assert describe("receivePurchaseOrder", CONTEXT) == (
        "QDoc receivePurchaseOrder (ERP3_2) to receiver QADERP"
    )


def test_values_are_escaped_and_read_back_intact() -> None:
    raw = request("maintainPurchaseOrder", CONTEXT, maintain_purchase_order(po_spec()))
    assert b"Tom &amp; Jerry &lt;rush&gt;" in raw
    root = etree.fromstring(raw)
    assert value(root, ".//q:poRmks") == "Tom & Jerry <rush>"
    assert "p&ss<word>" in [t.text for t in root.iter() if t.text]


# ---- maintainPurchaseOrder ----------------------------------------------------------------------


def test_a_new_po_is_added_with_every_line_in_s7_order() -> None:
    doc = maintain_purchase_order(po_spec())
    po = doc.find("q:purchaseOrder", NS)
    assert po is not None
    assert names(po) == [
        "operation",
        "poNbr",
        "poVend",
        "poShip",
        "poOrdDate",
        "poDueDate",
        "poSite",
        "poCrTerms",
        "poCurr",
        "poExRate",
        "poRmks",
        "lineDetail",
        "lineDetail",
    ]
    assert value(po, "q:operation") == "A"
    assert value(po, "q:poExRate") == "1.085"
    assert value(po, "q:poOrdDate") == "2026-03-02"
    first = po.findall("q:lineDetail", NS)[0]
    assert names(first) == [
        "operation",
        "line",
        "podSite",
        "podPart",
        "podQtyOrd",
        "podPurCost",
        "podDueDate",
        "yn",
        "yn1",
    ]
    assert [value(first, f"q:{n}") for n in ("operation", "line", "podPart", "podPurCost")] == [
        "A",
        "1",
        "WID-100",
        "12.5",
    ]


def test_a_change_sends_only_the_named_lines_and_adds_the_new_ones() -> None:
    doc = maintain_purchase_order(po_spec(), operation="M", lines=[2], added=[2], close_lines=[5])
    details = doc.findall("q:purchaseOrder/q:lineDetail", NS)
    assert [(value(d, "q:operation"), value(d, "q:line")) for d in details] == [
        ("A", "2"),
        ("M", "5"),
    ]
    assert value(details[1], "q:podStatus") == "C"
    assert value(doc, "q:purchaseOrder/q:operation") == "M"


def test_the_rate_type_replaces_cin7s_rate_and_defaults_fill_bill_to_and_site() -> None:
    options = PoOptions(default_site="20-200", bill_to="10-100", exchange_rate_type="ACCOUNTING")
    doc = maintain_purchase_order(po_spec(ship_to_site=None), options=options, close=True)
    po = doc.find("q:purchaseOrder", NS)
    assert po is not None
    assert value(po, "q:exRateType") == "ACCOUNTING"
    assert po.find("q:poExRate", NS) is None
    assert value(po, "q:poBill") == "10-100"
    assert value(po, "q:poShip") == "20-200"
    assert value(po, "q:lineDetail/q:podSite") == "20-200"
    assert value(po, "q:poStat") == "C"


def test_a_modification_names_only_the_fields_it_changes() -> None:
    doc = modify_purchase_order(
        "PO-1",
        [("poRmks", "late"), ("poDueDate", dt.date(2026, 4, 1))],
        [(2, [("podQtyOrd", Decimal("7.50")), ("podStatus", "C")])],
    )
    po = doc.find("q:purchaseOrder", NS)
    assert po is not None
    assert names(po) == ["operation", "poNbr", "poRmks", "poDueDate", "lineDetail"]
    assert value(po, "q:poDueDate") == "2026-04-01"
    detail = po.find("q:lineDetail", NS)
    assert detail is not None
    assert [(n, value(detail, f"q:{n}")) for n in names(detail)] == [
        ("operation", "M"),
        ("line", "2"),
        ("podQtyOrd", "7.5"),
        ("podStatus", "C"),
        ("yn", "true"),
        ("yn1", "true"),
    ]


# ---- receivePurchaseOrder -----------------------------------------------------------------------


def test_a_receipt_uses_s6s_flat_structure_that_posts() -> None:
    spec = ReceiptSpec(
        po_number="PO-1",
        packing_slip="PS-PO-1-1",
        effective_date=dt.date(2026, 3, 10),
        lines=[(1, Decimal(6)), (2, Decimal("-1.5"))],
    )
    doc = receive_purchase_order(
        spec, sites={1: "10-100"}, options=ReceiptOptions(site="20-200", location="RCV")
    )
    receipt = doc.find("q:purchaseOrderReceive", NS)
    assert receipt is not None
    assert names(receipt) == [
        "ordernum",
        "effDate",
        "psNbr",
        "fillAll",
        "move",
        "yn",
        "yn1",
        "lineDetail",
        "lineDetail",
    ]
    assert value(receipt, "q:psNbr") == "PS-PO-1-1"
    lines = receipt.findall("q:lineDetail", NS)
    assert [names(d) for d in lines] == [
        ["line", "lotserialQty", "site", "location", "multiEntry"]
    ] * 2
    assert [(value(d, "q:lotserialQty"), value(d, "q:site")) for d in lines] == [
        ("6", "10-100"),
        ("-1.5", "20-200"),
    ]
    assert doc.find(".//q:receiptDetail", NS) is None
    assert doc.find(".//q:operation", NS) is None


# ---- bcinvoice ----------------------------------------------------------------------------------


def invoice_spec(**changes: object) -> InvoiceSpec:
    fields: dict[str, object] = {
        "supplier_code": "S1001",
        "reference": "INV-77",
        "invoice_date": dt.date(2026, 3, 20),
        "currency": "EUR",
        "exchange_rate": Decimal("1.0850"),
        "amount": Decimal("147.15"),
        "tax_amount": Decimal("12.15"),
        "description": "March order",
        "po_numbers": ["PO-1"],
        "matching": [
            MatchLine(po_number="PO-1", po_line=1, quantity=10, unit_price="12.50"),
        ],
        "gl_lines": [GlLine(gl_code="6800", amount=Decimal(10), description="Freight")],
    }
    fields.update(changes)
    return InvoiceSpec.model_validate(fields)


OPTIONS = InvoiceOptions(entity="10USACO", domain="10USA", daybook_set="DBS-AP")


def test_an_invoice_carries_context_header_tax_po_links_matching_and_gl_lines() -> None:
    doc = bcinvoice(
        invoice_spec(), vat=[VatLine(Decimal(135), Decimal("12.15"), "VAT9")], options=OPTIONS
    )
    assert names(doc) == [
        "tContextInfo",
        "tCInvoice",
        "tCInvoiceVat",
        "tCInvoicePO",
        "tAPMatchingLn",
        "tPostingLine",
    ]
    assert [value(doc, f"q:tContextInfo/q:{n}") for n in names(doc[0])] == [
        "10USACO",
        "9.2",
        "Create",
        "false",
    ]
    invoice = doc.find("q:tCInvoice", NS)
    assert invoice is not None
    assert {n: value(invoice, f"q:{n}") for n in names(invoice)} == {
        "CInvoiceType": "INVOICE",
        "CInvoiceDate": "2026-03-20",
        "CInvoicePostingDate": "2026-03-20",
        "CInvoicePostingYear": "2026",
        "CInvoicePostingPeriod": "3",
        "CInvoicePostingYearPeriod": "202603",
        "CInvoiceReference": "INV-77",
        "CInvoiceDescription": "March order",
        "CInvoiceOriginalCreditTC": "147.15",
        "CInvoiceIsTaxable": "true",
        "CInvoiceDayBookSetCode": "DBS-AP",
        "tcCreditorCode": "S1001",
        "CInvoicePoDomain": "10USA",
        "tcJournalCode": "SUPINV",
        "tcCurrencyCode": "EUR",
        "CInvoiceExchangeRate": "1.085",
        "tcReasonCode": "AP-INITIAL",
        "CInvoiceVoucher": "0",
        "tc_Rowid": "1",
    }
    assert value(doc, "q:tCInvoiceVat/q:CInvoiceVatVatCreditTC") == "12.15"
    assert value(doc, "q:tCInvoiceVat/q:CInvoiceVatVatBaseCreditTC") == "135.00"
    assert value(doc, "q:tCInvoiceVat/q:tcTaxCode") == "VAT9"
    assert value(doc, "q:tCInvoicePO/q:CInvoicePOPoNbr") == "PO-1"
    assert value(doc, "q:tAPMatchingLn/q:APMatchingLnMatchQty") == "10"
    assert value(doc, "q:tPostingLine/q:PostingLineAmountTC") == "10.00"


def test_an_untaxed_credit_note_with_qads_rate_type() -> None:
    spec = invoice_spec(type="CreditNote", tax_amount=Decimal(0), matching=[], gl_lines=[])
    options = InvoiceOptions(entity="10USACO", domain="10USA", exchange_rate_type="ACCOUNTING")
    doc = bcinvoice(spec, options=options)
    assert names(doc) == ["tContextInfo", "tCInvoice", "tCInvoicePO"]
    assert value(doc, "q:tCInvoice/q:CInvoiceType") == "CREDITNOTE"
    assert value(doc, "q:tCInvoice/q:CInvoiceIsTaxable") == "false"
    assert value(doc, "q:tCInvoice/q:tcExchangeRateType") == "ACCOUNTING"
    assert doc.find("q:tCInvoice/q:CInvoiceExchangeRate", NS) is None
    assert doc.find("q:tCInvoice/q:CInvoiceDayBookSetCode", NS) is None


# ---- answers ------------------------------------------------------------------------------------

# The shape of S6's real answer to a receipt: result and an echo, no receiver number.
RECEIPT_SUCCESS = b"""<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">
 <soapenv:Body>
  <ns1:receivePurchaseOrderResponse xmlns:ns1="urn:schemas-qad-com:xml-services">
   <ns1:result>success</ns1:result>
   <ns1:dsPurchaseOrderReceive>
    <ns1:purchaseOrderReceive>
     <ns1:ordernum>PO-1</ns1:ordernum>
     <ns1:lineDetail><ns1:line>1</ns1:line></ns1:lineDetail>
    </ns1:purchaseOrderReceive>
   </ns1:dsPurchaseOrderReceive>
  </ns1:receivePurchaseOrderResponse>
 </soapenv:Body>
</soapenv:Envelope>"""


def answer_with(result: str, *rows: str) -> bytes:
    messages = "".join(f"<ns3:temp_err_msg>{r}</ns3:temp_err_msg>" for r in rows)
    return f"""<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">
 <soapenv:Body>
  <ns1:bcinvoiceResponse xmlns:ns1="urn:schemas-qad-com:xml-services"
      xmlns:ns3="urn:schemas-qad-com:xml-services:common">
   <ns1:result>{result}</ns1:result>
   <ns3:dsExceptions>{messages}</ns3:dsExceptions>
  </ns1:bcinvoiceResponse>
 </soapenv:Body>
</soapenv:Envelope>""".encode()


def test_a_success_echoes_the_document_and_no_receiver_number() -> None:
    answer = parse_answer(RECEIPT_SUCCESS)
    assert isinstance(answer, QdocAnswer)
    assert (answer.name, answer.result, answer.messages) == (
        "receivePurchaseOrderResponse",
        "success",
        (),
    )
    assert answer.first("purchaseOrderReceive", "ordernum") == "PO-1"
    assert answer.first("receiverNumber") == ""


def test_warnings_and_errors_are_told_apart_and_a_missing_severity_is_an_error() -> None:
    answer = parse_answer(
        answer_with(
            "warning",
            "<ns3:tt_msg_nbr>1101</ns3:tt_msg_nbr><ns3:tt_msg_desc>The reference already exists"
            "</ns3:tt_msg_desc><ns3:tt_msg_sev>warning</ns3:tt_msg_sev>"
            "<ns3:tt_msg_field>CInvoiceReference</ns3:tt_msg_field>",
            "<ns3:tt_msg_nbr>OE-132</ns3:tt_msg_nbr><ns3:tt_msg_desc>ERROR: ** already exists"
            "</ns3:tt_msg_desc>",
        )
    )
    assert isinstance(answer, QdocAnswer)
    assert answer.result == "warning"
    assert [w.field for w in answer.warnings] == ["CInvoiceReference"]
    assert [(e.number, e.is_openedge) for e in answer.errors] == [("OE-132", True)]


def test_an_error_result_keeps_every_message() -> None:
    answer = parse_answer(
        answer_with(
            "error",
            "<ns3:tt_msg_desc>ERROR: Supplier S9 does not exist</ns3:tt_msg_desc>"
            "<ns3:tt_msg_sev>error</ns3:tt_msg_sev><ns3:tt_msg_context>tCInvoice#1"
            "</ns3:tt_msg_context>",
        )
    )
    assert isinstance(answer, QdocAnswer)
    assert answer.result == "error"
    assert answer.errors[0].description == "ERROR: Supplier S9 does not exist"
    assert answer.errors[0].context == "tCInvoice#1"


@pytest.mark.parametrize(("code", "client"), [("soapenv:Client", True), ("soapenv:Server", False)])
def test_a_soap_fault_is_read_with_its_code_and_detail(code: str, client: bool) -> None:
    raw = f"""<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">
      <soapenv:Body><soapenv:Fault><faultcode>{code}</faultcode>
      <faultstring>Invalid user or password</faultstring>
      <detail><x>session</x> <y>refused</y></detail></soapenv:Fault></soapenv:Body>
    </soapenv:Envelope>""".encode()
    fault = parse_answer(raw)
    assert fault == SoapFault(
        code=code, reason="Invalid user or password", detail="session refused"
    )
    assert fault.client_side is client


@pytest.mark.parametrize(
    "raw",
    [
        b"<!DOCTYPE html><html><body>502 Bad Gateway</body></html>",
        b"<html><body>login</body></html>",
        b"<soapenv:Envelope xmlns:soapenv='http://schemas.xmlsoap.org/soap/envelope/'/>",
        b"<soapenv:Envelope xmlns:soapenv='http://schemas.xmlsoap.org/soap/envelope/'>"
        b"<soapenv:Body><r/></soapenv:Body></soapenv:Envelope>",
        b"<soapenv:Envelope xmlns:soapenv='http://schemas.xmlsoap.org/soap/envelope/'>"
        b"<soapenv:Body><r><result>done</result></r></soapenv:Body></soapenv:Envelope>",
        b"\x00 truncated <soapenv:Env",
    ],
)
def test_anything_else_is_malformed_never_success(raw: bytes) -> None:
    with pytest.raises(MalformedAnswer):
        parse_answer(raw)


def test_external_entities_are_not_resolved() -> None:
    raw = b"""<?xml version="1.0"?>
<!DOCTYPE e [<!ENTITY leak SYSTEM "file:///etc/hostname">]>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>
<r><result>success</result><echo>&leak;</echo></r></soapenv:Body></soapenv:Envelope>"""
    answer = parse_answer(raw)
    assert isinstance(answer, QdocAnswer)
    assert answer.first("echo") == ""


def test_amounts_go_as_the_planner_rounded_them_never_cut_to_fewer_places() -> None:
    # KWD has 3 decimals: the planner's 10.125 is the amount, the profile's 2 places only pad.
    spec = invoice_spec(
        currency="KWD",
        amount=Decimal("22.625"),
        tax_amount=Decimal("2.500"),
        matching=[],
        gl_lines=[GlLine(gl_code="6800", amount=Decimal("10.125"), description="Freight")],
    )
    doc = bcinvoice(spec, vat=[VatLine(Decimal("20.125"), Decimal("2.500"))], options=OPTIONS)
    assert value(doc, "q:tCInvoice/q:CInvoiceOriginalCreditTC") == "22.625"
    assert value(doc, "q:tCInvoiceVat/q:CInvoiceVatVatBaseCreditTC") == "20.125"
    assert value(doc, "q:tPostingLine/q:PostingLineAmountTC") == "10.125"
    jpy = invoice_spec(currency="JPY", amount=Decimal(1235), tax_amount=Decimal(0), matching=[])
    shown = bcinvoice(jpy, options=OPTIONS)
    assert value(shown, "q:tCInvoice/q:CInvoiceOriginalCreditTC") == "1235.00"
