"""QAD sandbox: QXtend Inbound (QdocWebService) sharing state with REST, S6's receipt quirks.

QDocs are written out by hand here, not by the client's codec, so that the sandbox is checked
against QXtend's shapes and not against our own reading of them.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from lxml import etree

from ml_connector.sandbox.qad import QadSandbox, QadTenant

SERVICE = "/qxi/services/QdocWebService"
ENVELOPE = """<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"
  xmlns:qcom="urn:schemas-qad-com:xml-services:common"
  xmlns:qdoc="urn:schemas-qad-com:xml-services" xmlns:wsa="http://www.w3.org/2005/08/addressing">
 <soapenv:Header>
  <wsa:Action/><wsa:To>urn:services-qad-com:QADERP</wsa:To>
  <wsa:ReferenceParameters>
   <qcom:suppressResponseDetail>{suppress}</qcom:suppressResponseDetail>
  </wsa:ReferenceParameters>
 </soapenv:Header>
 <soapenv:Body>
  <qdoc:{name}>
   <qcom:dsSessionContext>{context}</qcom:dsSessionContext>
   {body}
  </qdoc:{name}>
 </soapenv:Body>
</soapenv:Envelope>"""


def envelope(
    name: str, body: str, tenant: QadTenant, *, suppress: bool = True, **context: str
) -> str:
    values = {"domain": tenant.domain, "username": tenant.username, "password": tenant.password}
    values.update(context)
    rows = "".join(
        "<qcom:ttContext><qcom:propertyQualifier>QAD</qcom:propertyQualifier>"
        f"<qcom:propertyName>{k}</qcom:propertyName>"
        f"<qcom:propertyValue>{v}</qcom:propertyValue></qcom:ttContext>"
        for k, v in values.items()
        if v is not None
    )
    return ENVELOPE.format(
        name=name, context=rows, body=body, suppress="true" if suppress else "false"
    )


class Answer:
    def __init__(self, response: httpx.Response) -> None:
        self.status = response.status_code
        self.root = etree.fromstring(response.content)

    def texts(self, name: str) -> list[str]:
        return [
            (e.text or "").strip()
            for e in self.root.iter()
            if isinstance(e.tag, str) and etree.QName(e).localname == name
        ]

    @property
    def result(self) -> str:
        return self.texts("result")[0]

    @property
    def messages(self) -> list[str]:
        return self.texts("tt_msg_desc")


async def send(
    qad: httpx.AsyncClient, name: str, body: str, tenant: QadTenant, **options: Any
) -> Answer:
    response = await qad.post(
        SERVICE,
        content=envelope(name, body, tenant, **options),
        headers={"Content-Type": "text/xml; charset=utf-8", "SOAPAction": ""},
    )
    return Answer(response)


def po_qdoc(number: str, *lines: str, operation: str = "A", extra: str = "") -> str:
    return f"""<qdoc:dsPurchaseOrder><qdoc:purchaseOrder>
      <qdoc:operation>{operation}</qdoc:operation><qdoc:poNbr>{number}</qdoc:poNbr>
      <qdoc:poVend>S0001</qdoc:poVend><qdoc:poShip>10-100</qdoc:poShip>
      <qdoc:poOrdDate>2026-03-02</qdoc:poOrdDate><qdoc:poCurr>USD</qdoc:poCurr>
      <qdoc:poRmks>Tom &amp; Jerry</qdoc:poRmks>{extra}{"".join(lines)}
    </qdoc:purchaseOrder></qdoc:dsPurchaseOrder>"""


def line(number: int, item: str, quantity: str, cost: str = "", operation: str = "A") -> str:
    price = f"<qdoc:podPurCost>{cost}</qdoc:podPurCost>" if cost else ""
    return f"""<qdoc:lineDetail><qdoc:operation>{operation}</qdoc:operation>
      <qdoc:line>{number}</qdoc:line><qdoc:podSite>10-100</qdoc:podSite>
      <qdoc:podPart>{item}</qdoc:podPart><qdoc:podQtyOrd>{quantity}</qdoc:podQtyOrd>{price}
      <qdoc:yn>true</qdoc:yn><qdoc:yn1>true</qdoc:yn1></qdoc:lineDetail>"""


def receipt_qdoc(number: str, slip: str, *lines: tuple[int, str]) -> str:
    details = "".join(
        f"""<qdoc:lineDetail><qdoc:line>{n}</qdoc:line><qdoc:lotserialQty>{q}</qdoc:lotserialQty>
        <qdoc:site>10-100</qdoc:site><qdoc:location></qdoc:location>
        <qdoc:multiEntry>false</qdoc:multiEntry></qdoc:lineDetail>"""
        for n, q in lines
    )
    return f"""<qdoc:dsPurchaseOrderReceive><qdoc:purchaseOrderReceive>
      <qdoc:ordernum>{number}</qdoc:ordernum><qdoc:effDate>2026-03-10</qdoc:effDate>
      <qdoc:psNbr>{slip}</qdoc:psNbr><qdoc:fillAll>false</qdoc:fillAll>
      <qdoc:yn>true</qdoc:yn><qdoc:yn1>true</qdoc:yn1>{details}
    </qdoc:purchaseOrderReceive></qdoc:dsPurchaseOrderReceive>"""


@pytest.fixture
def tenant(sandbox: QadSandbox) -> QadTenant:
    return sandbox.tenant("acme")


@pytest.fixture
async def qad(qad: httpx.AsyncClient) -> httpx.AsyncClient:
    """The logged-in REST client with a supplier S0001 to order from."""
    for path, record in (
        ("businessRelationV2s", {"businessRelationCode": "BR-ACME", "name": "Acme"}),
        (
            "supplierV2s",
            {
                "supplierCode": "S0001",
                "businessRelationCode": "BR-ACME",
                "currencyCode": "USD",
                "creditTermsCode": "N30",
                "invoiceStatusCode": "AP-INITIAL",
            },
        ),
    ):
        answer = await qad.post(f"/api/erp/{path}", json={path: [record]})
        assert answer.json()["submitResult"]["success"], answer.text
    return qad


async def rest_po(qad: httpx.AsyncClient, number: str) -> dict[str, Any]:
    body = (
        await qad.get("/api/erp/purchaseOrderHeaders", params={"purchaseOrderNumber": number})
    ).json()
    found: list[dict[str, Any]] = body["data"]["purchaseOrderHeaders"]
    assert len(found) == 1, body
    return found[0]


async def received(qad: httpx.AsyncClient, number: str) -> list[int]:
    return [line["quantityReceived"] for line in (await rest_po(qad, number))["lines"]]


# ---- the service --------------------------------------------------------------------------------


async def test_the_wsdl_names_the_service_address_and_the_three_qdocs(
    qad: httpx.AsyncClient, tenant: QadTenant
) -> None:
    answer = await qad.get(SERVICE, params={"wsdl": ""})
    assert answer.status_code == 200
    root = etree.fromstring(answer.content)
    ns = {"w": "http://schemas.xmlsoap.org/wsdl/", "s": "http://schemas.xmlsoap.org/wsdl/soap/"}
    assert [o.get("name") for o in root.findall("w:portType/w:operation", ns)] == [
        "maintainPurchaseOrder",
        "receivePurchaseOrder",
        "bcinvoice",
    ]
    address = root.find("w:service/w:port/s:address", ns)
    assert address is not None
    assert address.get("location") == f"{qad.base_url}{SERVICE}".replace("//qxi", "/qxi")
    assert tenant.stats()["by_path"][f"GET {SERVICE}?wsdl"] == 1


async def test_a_tenant_without_qxtend_answers_404(
    qad: httpx.AsyncClient, tenant: QadTenant
) -> None:
    tenant.qxtend_exposed = False
    assert (await qad.get(SERVICE, params={"wsdl": ""})).status_code == 404
    posted = await qad.post(SERVICE, content=envelope("bcinvoice", "", tenant))
    assert posted.status_code == 404


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("<html>not soap</html>", "not a SOAP 1.1 envelope"),
        ("<<<", "not well-formed"),
        ("", "No API shipSalesOrder is registered for receiver QADERP"),
    ],
)
async def test_envelope_problems_are_client_faults(
    qad: httpx.AsyncClient, content: str, reason: str, tenant: QadTenant
) -> None:
    content = content or envelope("shipSalesOrder", "", tenant)
    answer = Answer(await qad.post(SERVICE, content=content))
    assert answer.status == 500
    assert answer.texts("faultcode") == ["soapenv:Client"]
    assert reason in answer.texts("faultstring")[0]


async def test_refused_credentials_are_a_fault_and_a_reader_gets_an_error(
    qad: httpx.AsyncClient, tenant: QadTenant
) -> None:
    wrong = await send(qad, "receivePurchaseOrder", "", tenant, password="nope")
    assert wrong.status == 500
    assert "Authentication failed" in wrong.texts("faultstring")[0]
    viewer = await send(qad, "receivePurchaseOrder", "", tenant, username="viewer")
    assert (viewer.status, viewer.result) == (200, "error")
    assert "does not have access" in viewer.messages[0]


async def test_qdoc_calls_are_counted_as_calls_and_writes_by_qdoc_name(
    qad: httpx.AsyncClient, tenant: QadTenant
) -> None:
    before = tenant.stats()
    await send(qad, "maintainPurchaseOrder", po_qdoc("Q1", line(1, "WID-100", "5")), tenant)
    stats = tenant.stats()
    assert stats["calls"] == before["calls"] + 1
    assert stats["writes"] == before["writes"] + 1
    assert stats["by_path"][f"POST {SERVICE} maintainPurchaseOrder"] == 1


async def test_gateway_faults_apply_to_qdocs(qad: httpx.AsyncClient, tenant: QadTenant) -> None:
    tenant.set_faults(error_rate=1)
    answer = Answer(await qad.post(SERVICE, content=envelope("bcinvoice", "", tenant)))
    assert (answer.status, answer.texts("faultcode")) == (500, ["soapenv:Server"])
    tenant.set_faults(error_rate=0, lost_response_rate=1)
    lost = await qad.post(
        SERVICE,
        content=envelope("maintainPurchaseOrder", po_qdoc("Q9", line(1, "WID-100", "5")), tenant),
    )
    assert lost.status_code == 502
    assert (await rest_po(qad, "Q9"))["supplierCode"] == "S0001"  # done, answer lost


# ---- maintainPurchaseOrder ----------------------------------------------------------------------


async def test_a_po_added_by_qdoc_is_read_over_rest_with_the_uis_defaults(
    qad: httpx.AsyncClient, tenant: QadTenant
) -> None:
    answer = await send(
        qad,
        "maintainPurchaseOrder",
        po_qdoc("Q1", line(1, "WID-100", "10", "12.5"), line(2, "BRK-20", "4")),
        tenant,
        suppress=False,
    )
    assert (answer.result, answer.messages) == ("success", [])
    assert answer.texts("poNbr") == ["Q1"]
    po = await rest_po(qad, "Q1")
    assert (po["supplierCode"], po["remarks"], po["orderStatus"]) == ("S0001", "Tom & Jerry", "O")
    by_line = {ln["purchaseOrderLine"]: ln for ln in po["lines"]}
    assert by_line[1]["purchaseCost"] == 12.5
    assert by_line[2]["purchaseCost"] == tenant.items["BRK-20"].unit_cost  # defaulted
    assert by_line[2]["glAccount"] == tenant.items["BRK-20"].gl_account
    assert by_line[2]["unitOfMeasure"] == tenant.items["BRK-20"].uom


async def test_add_on_an_existing_po_is_an_error_and_modify_changes_and_adds_lines(
    qad: httpx.AsyncClient, tenant: QadTenant
) -> None:
    await send(qad, "maintainPurchaseOrder", po_qdoc("Q2", line(1, "WID-100", "10")), tenant)
    again = await send(qad, "maintainPurchaseOrder", po_qdoc("Q2"), tenant)
    assert again.result == "error"
    assert "already exists" in again.messages[0]
    changed = await send(
        qad,
        "maintainPurchaseOrder",
        po_qdoc(
            "Q2",
            line(1, "WID-100", "12", operation="M"),
            line(2, "NUT-M8", "3", operation="A"),
            operation="M",
        ),
        tenant,
    )
    assert changed.result == "success", changed.messages
    po = await rest_po(qad, "Q2")
    assert [(ln["itemCode"], ln["quantityOrdered"]) for ln in po["lines"]] == [
        ("WID-100", 12),
        ("NUT-M8", 3),
    ]
    closing = po_qdoc("Q2", operation="M", extra="<qdoc:poStat>C</qdoc:poStat>")
    assert (await send(qad, "maintainPurchaseOrder", closing, tenant)).result == "success"
    assert (await rest_po(qad, "Q2"))["orderStatus"] == "C"


async def test_modify_on_a_missing_po_is_an_error(
    qad: httpx.AsyncClient, tenant: QadTenant
) -> None:
    answer = await send(qad, "maintainPurchaseOrder", po_qdoc("NOPE", operation="M"), tenant)
    assert answer.result == "error"
    assert "does not exist" in answer.messages[0]
    assert tenant.purchase_order(tenant.domain, "NOPE") is None


@pytest.mark.parametrize(("scope", "kept"), [("true", False), ("false", True)])
async def test_scope_transaction_rolls_the_whole_qdoc_back(
    qad: httpx.AsyncClient, tenant: QadTenant, scope: str, kept: bool
) -> None:
    answer = await send(
        qad,
        "maintainPurchaseOrder",
        po_qdoc("Q3", line(1, "WID-100", "10"), line(2, "NO-SUCH-ITEM", "1")),
        tenant,
        scopeTransaction=scope,
    )
    assert answer.result == "error"
    assert any("Item NO-SUCH-ITEM does not exist" in m for m in answer.messages)
    assert (tenant.purchase_order(tenant.domain, "Q3") is not None) is kept


# ---- receivePurchaseOrder -----------------------------------------------------------------------


async def make_po(qad: httpx.AsyncClient, tenant: QadTenant, number: str = "Q5") -> None:
    answer = await send(
        qad,
        "maintainPurchaseOrder",
        po_qdoc(number, line(1, "WID-100", "10", "12.5"), line(2, "BRK-20", "4", "1.75")),
        tenant,
    )
    assert answer.result == "success", answer.messages


async def test_a_flat_receipt_posts_and_answers_no_receiver_number(
    qad: httpx.AsyncClient, tenant: QadTenant
) -> None:
    await make_po(qad, tenant)
    answer = await send(
        qad,
        "receivePurchaseOrder",
        receipt_qdoc("Q5", "PS-1", (1, "6"), (2, "4")),
        tenant,
        suppress=False,
    )
    assert answer.result == "success"
    assert answer.texts("ordernum") == ["Q5"]
    assert answer.texts("line") == ["1", "2"]
    assert answer.texts("receiverNumber") == []
    assert await received(qad, "Q5") == [6, 4]
    rest = (
        await qad.get(
            "/api/erp/purchaseOrderReceipts",
            params={"purchaseOrderNumber": "Q5", "packingSlip": "PS-1"},
        )
    ).json()["data"]["purchaseOrderReceipts"]
    assert [r["receiverNumber"] for r in rest] == ["RC000001"]


async def test_the_receiver_number_is_echoed_only_when_the_fault_is_lowered(
    qad: httpx.AsyncClient, tenant: QadTenant
) -> None:
    await make_po(qad, tenant)
    tenant.set_faults(qdoc_no_receiver_rate=0)
    quiet = await send(qad, "receivePurchaseOrder", receipt_qdoc("Q5", "PS-1", (1, "1")), tenant)
    assert quiet.texts("receiverNumber") == []  # response detail suppressed
    detailed = await send(
        qad, "receivePurchaseOrder", receipt_qdoc("Q5", "PS-2", (1, "1")), tenant, suppress=False
    )
    assert detailed.texts("receiverNumber") == ["RC000002"]


async def test_s6s_nested_structure_answers_success_and_posts_nothing(
    qad: httpx.AsyncClient, tenant: QadTenant
) -> None:
    await make_po(qad, tenant)
    nested = """<qdoc:dsPurchaseOrderReceive><qdoc:purchaseOrderReceive>
      <qdoc:ordernum>Q5</qdoc:ordernum><qdoc:effDate>2026-03-10</qdoc:effDate>
      <qdoc:psNbr>PS-9</qdoc:psNbr>
      <qdoc:lineDetail><qdoc:operation>A</qdoc:operation><qdoc:line>1</qdoc:line>
        <qdoc:multiEntry>true</qdoc:multiEntry>
        <qdoc:receiptDetail><qdoc:lotserialQty>6</qdoc:lotserialQty></qdoc:receiptDetail>
      </qdoc:lineDetail>
    </qdoc:purchaseOrderReceive></qdoc:dsPurchaseOrderReceive>"""
    answer = await send(qad, "receivePurchaseOrder", nested, tenant)
    assert (answer.result, answer.messages) == ("success", [])
    assert await received(qad, "Q5") == [0, 0]
    assert tenant.receivers == {}
    assert tenant.stats()["faults"] == {}  # QAD's own behaviour, not an injected fault


async def test_a_refused_receipt_is_an_error_naming_the_line(
    qad: httpx.AsyncClient, tenant: QadTenant
) -> None:
    await make_po(qad, tenant)
    answer = await send(qad, "receivePurchaseOrder", receipt_qdoc("Q5", "PS-1", (1, "99")), tenant)
    assert answer.result == "error"
    assert "over the 10 ordered" in answer.messages[0]
    assert await received(qad, "Q5") == [0, 0]


async def test_receipt_quirks_as_faults(qad: httpx.AsyncClient, tenant: QadTenant) -> None:
    await make_po(qad, tenant)
    set_silent = await qad.post("/_sandbox/faults", json={"qdoc_silent_receipt_rate": 1})
    assert set_silent.json()["qdoc_silent_receipt_rate"] == 1
    silent = await send(qad, "receivePurchaseOrder", receipt_qdoc("Q5", "PS-1", (1, "2")), tenant)
    assert silent.result == "success"
    assert await received(qad, "Q5") == [0, 0]
    await qad.post(
        "/_sandbox/faults", json={"qdoc_silent_receipt_rate": 0, "qdoc_posted_error_rate": 1}
    )
    failed = await send(qad, "receivePurchaseOrder", receipt_qdoc("Q5", "PS-2", (1, "2")), tenant)
    assert failed.result == "error"
    assert "cost update failed" in failed.messages[-1]
    assert await received(qad, "Q5") == [2, 0]
    stats = (await qad.get("/_sandbox/stats")).json()
    assert stats["faults"] == {"qdoc_posted_error": 1, "qdoc_silent_receipt": 1}


async def test_a_rest_receipt_and_a_qdoc_receipt_add_up(
    qad: httpx.AsyncClient, tenant: QadTenant
) -> None:
    await make_po(qad, tenant)
    rest = await qad.post(
        "/api/erp/purchaseOrderReceipts",
        json={
            "purchaseOrderReceipts": [
                {
                    "purchaseOrderNumber": "Q5",
                    "packingSlip": "PS-R",
                    "lines": [{"purchaseOrderLine": 1, "quantityReceived": 3}],
                }
            ]
        },
    )
    assert rest.json()["submitResult"]["success"]
    await send(qad, "receivePurchaseOrder", receipt_qdoc("Q5", "PS-Q", (1, "4")), tenant)
    assert await received(qad, "Q5") == [7, 0]


# ---- bcinvoice ----------------------------------------------------------------------------------


def invoice_qdoc(
    reference: str,
    amount: str,
    *,
    taxable: bool = True,
    with_vat: bool | None = None,
    vat: str = "1.00",
    matching: tuple[tuple[int, str, str], ...] = ((1, "6", "12.5"),),
    activity: str = "Create",
) -> str:
    vat_rows = (
        f"""<qdoc:tCInvoiceVat><qdoc:CInvoiceVatVatBaseCreditTC>75</qdoc:CInvoiceVatVatBaseCreditTC>
        <qdoc:CInvoiceVatVatCreditTC>{vat}</qdoc:CInvoiceVatVatCreditTC>
        <qdoc:tc_ParentRowid>1</qdoc:tc_ParentRowid></qdoc:tCInvoiceVat>"""
        if (taxable if with_vat is None else with_vat)
        else ""
    )
    matches = "".join(
        f"""<qdoc:tAPMatchingLn><qdoc:APMatchingLnPoNbr>Q5</qdoc:APMatchingLnPoNbr>
        <qdoc:APMatchingLnPoLine>{n}</qdoc:APMatchingLnPoLine>
        <qdoc:APMatchingLnMatchQty>{q}</qdoc:APMatchingLnMatchQty>
        <qdoc:APMatchingLnMatchUnitPrice>{p}</qdoc:APMatchingLnMatchUnitPrice></qdoc:tAPMatchingLn>"""
        for n, q, p in matching
    )
    return f"""<qdoc:BCInvoice>
      <qdoc:tContextInfo><qdoc:tcCompanyCode>10USACO</qdoc:tcCompanyCode>
       <qdoc:tcCBFVersion>9.2</qdoc:tcCBFVersion><qdoc:tcActivityCode>{activity}</qdoc:tcActivityCode>
       <qdoc:tlPartialUpdate>false</qdoc:tlPartialUpdate></qdoc:tContextInfo>
      <qdoc:tCInvoice><qdoc:CInvoiceType>INVOICE</qdoc:CInvoiceType>
       <qdoc:CInvoiceDate>2026-03-20</qdoc:CInvoiceDate>
       <qdoc:CInvoiceReference>{reference}</qdoc:CInvoiceReference>
       <qdoc:CInvoiceOriginalCreditTC>{amount}</qdoc:CInvoiceOriginalCreditTC>
       <qdoc:CInvoiceIsTaxable>{"true" if taxable else "false"}</qdoc:CInvoiceIsTaxable>
       <qdoc:tcCreditorCode>S0001</qdoc:tcCreditorCode><qdoc:tcJournalCode>SUPINV</qdoc:tcJournalCode>
       <qdoc:tcCurrencyCode>USD</qdoc:tcCurrencyCode><qdoc:tcReasonCode>AP-INITIAL</qdoc:tcReasonCode>
       <qdoc:CInvoiceVoucher>0</qdoc:CInvoiceVoucher><qdoc:tc_Rowid>1</qdoc:tc_Rowid>
      </qdoc:tCInvoice>{vat_rows}
      <qdoc:tCInvoicePO><qdoc:CInvoicePOPoDomain>10USA</qdoc:CInvoicePOPoDomain>
       <qdoc:CInvoicePOPoNbr>Q5</qdoc:CInvoicePOPoNbr></qdoc:tCInvoicePO>{matches}
    </qdoc:BCInvoice>"""


FIN = {"entity": "10USACO", "action": "Save", "version": "ERP3_1"}


async def received_po(qad: httpx.AsyncClient, tenant: QadTenant) -> None:
    await make_po(qad, tenant)
    answer = await send(qad, "receivePurchaseOrder", receipt_qdoc("Q5", "PS-1", (1, "6")), tenant)
    assert answer.result == "success"


async def test_a_taxable_invoice_matched_by_qdoc_is_found_over_rest(
    qad: httpx.AsyncClient, tenant: QadTenant
) -> None:
    await received_po(qad, tenant)
    answer = await send(
        qad, "bcinvoice", invoice_qdoc("INV-1", "76.00"), tenant, suppress=False, **FIN
    )
    assert (answer.result, answer.messages) == ("success", [])
    assert answer.texts("CInvoiceVoucher") == ["1"]
    found = (
        await qad.get(
            "/api/erp/supplierInvoices",
            params={"supplierCode": "S0001", "invoiceReference": "INV-1"},
        )
    ).json()["data"]["supplierInvoices"]
    assert [(f["voucher"], f["amountTC"], f["taxAmountTC"]) for f in found] == [(1, 76, 1)]
    assert (await rest_po(qad, "Q5"))["lines"][0]["quantityInvoiced"] == 6


async def test_a_duplicate_reference_is_only_a_warning(
    qad: httpx.AsyncClient, tenant: QadTenant
) -> None:
    await received_po(qad, tenant)
    first = await send(
        qad,
        "bcinvoice",
        invoice_qdoc("INV-2", "38.50", matching=((1, "3", "12.5"),)),
        tenant,
        **FIN,
    )
    assert first.result == "success"
    second = await send(
        qad,
        "bcinvoice",
        invoice_qdoc("INV-2", "38.50", matching=((1, "3", "12.5"),)),
        tenant,
        **FIN,
    )
    assert second.result == "warning"
    assert second.messages == ["The reference already exists on another invoice for this supplier"]
    assert len(tenant.invoices) == 2


@pytest.mark.parametrize(
    ("body", "context", "reason"),
    [
        (invoice_qdoc("I", "76.00", taxable=False, with_vat=True), FIN, "not taxable"),
        (invoice_qdoc("I", "75.00", with_vat=False), FIN, "needs its tax lines"),
        (invoice_qdoc("I", "76.00"), {**FIN, "action": ""}, "need action Save"),
        (invoice_qdoc("I", "76.00"), {**FIN, "entity": "99XX"}, "Entity 99XX does not exist"),
        (invoice_qdoc("I", "76.00", activity="Modify"), FIN, "tcActivityCode Create"),
        (invoice_qdoc("I", "99.00"), FIN, "does not equal the matched amount"),
        (invoice_qdoc("I", "101.00", matching=((1, "8", "12.5"),)), FIN, "received and not yet"),
    ],
)
async def test_refused_invoices_post_nothing(
    qad: httpx.AsyncClient,
    tenant: QadTenant,
    body: str,
    context: dict[str, str],
    reason: str,
) -> None:
    await received_po(qad, tenant)
    answer = await send(qad, "bcinvoice", body, tenant, **context)
    assert answer.result == "error"
    assert any(reason in m for m in answer.messages), answer.messages
    assert tenant.invoices == {}
