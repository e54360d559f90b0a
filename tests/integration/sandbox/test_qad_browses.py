"""QAD sandbox: `api/qracore/browses` paging, filters and row keys."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from ml_connector.sandbox.catalog import qad_catalog
from ml_connector.sandbox.qad import QadSandbox

GL = "urn:browse:bebrowse:com.qad.erp.financials.glAccounts"
ITEMS = "mfg:gp340"


async def browse(
    qad: httpx.AsyncClient, browse_id: str, *filters: str, **params: Any
) -> dict[str, Any]:
    query: list[tuple[str, str]] = [("browseId", browse_id)]
    query += [(k, str(v)) for k, v in params.items()]
    query += [("filter", f) for f in filters]
    answer = await qad.get("/api/qracore/browses", params=query)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


async def test_pages_through_items_with_has_more_params_as_a_string(qad: httpx.AsyncClient) -> None:
    expected = sorted(i.code for i in qad_catalog().items)
    seen: list[str] = []
    page = 1
    while True:
        body = await browse(
            qad, ITEMS, page=page, pageSize=10, pageAction="first" if page == 1 else "next"
        )
        more = body["auxillaryData"]["HasMoreParams"]
        assert more in ("true", "false")
        seen += [row["pt_mstr.pt_part"] for row in body["data"]]
        if more == "false":
            break
        assert len(body["data"]) == 10
        page += 1
    assert seen == expected
    assert page == (len(expected) + 9) // 10


async def test_item_rows_have_the_dotted_keys(qad: httpx.AsyncClient) -> None:
    body = await browse(qad, ITEMS, "pt_mstr.pt_part,eq,WID-100,literal")
    assert body["data"] == [
        {
            "pt_mstr.pt_part": "WID-100",
            "pt_mstr.pt_desc1": "Widget 100mm",
            "pt_mstr.pt_um": "EA",
            "pt_mstr.pt_prod_line": "FAST",
            "pt_mstr.pt_status": "ACTIVE",
        }
    ]
    same = await browse(
        qad, "urn:browse:bebrowse:com.qad.erp.base.items", "pt_mstr.pt_part,eq,WID-100,literal"
    )
    assert same["data"] == body["data"]


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("gl.glCode,sw,63,literal", ["630", "631", "6320"]),
        ("gl.glCode,ew,20,literal", ["6320", "720", "820"]),
        ("gl.description,cn,inventory,literal", ["630", "631", "6320"]),
        ("gl.requiresCostCentre,eq,true,literal", ["473"]),
        ("gl.glCode,rg,400,literal,430,literal", ["404", "4250", "429"]),
    ],
)
async def test_gl_account_filters(
    qad: httpx.AsyncClient, condition: str, expected: list[str]
) -> None:
    body = await browse(qad, GL, condition, pageSize=500)
    assert sorted(r["gl.glCode"] for r in body["data"]) == sorted(expected)


async def test_numeric_comparison_and_several_filters(qad: httpx.AsyncClient) -> None:
    terms = await browse(
        qad, "urn:browse:bebrowse:com.qad.erp.base.creditTerms", "creditTerm.dueDays,ge,30,literal"
    )
    assert sorted(r["creditTerm.creditTermsCode"] for r in terms["data"]) == [
        "2-10N30",
        "EOM20",
        "N30",
        "N60",
    ]
    both = await browse(
        qad,
        "urn:browse:bebrowse:com.qad.erp.base.creditTerms",
        "creditTerm.dueDays,ge,30,literal",
        "creditTerm.creditTermsCode,sw,N,literal",
    )
    assert sorted(r["creditTerm.creditTermsCode"] for r in both["data"]) == ["N30", "N60"]


async def test_unknown_filter_field_matches_nothing(qad: httpx.AsyncClient) -> None:
    body = await browse(qad, GL, "gl.noSuchField,eq,630,literal")
    assert body == {"data": [], "auxillaryData": {"HasMoreParams": "false"}}
    bad_op = await browse(qad, GL, "gl.glCode,zz,630,literal")
    assert bad_op["data"] == []


async def test_unknown_browse_is_404(qad: httpx.AsyncClient) -> None:
    answer = await qad.get("/api/qracore/browses", params={"browseId": "urn:browse:nothing"})
    assert answer.status_code == 404


async def test_reference_browses_carry_the_catalog(qad: httpx.AsyncClient) -> None:
    sites = await browse(qad, "urn:browse:bebrowse:com.qad.erp.base.sites")
    assert [r["site.siteCode"] for r in sites["data"]] == ["10-100", "10-200", "10-300"]
    currencies = await browse(qad, "urn:browse:bebrowse:com.qad.erp.base.currencies")
    assert {r["currency.currencyCode"] for r in currencies["data"]} == {
        "USD",
        "EUR",
        "GBP",
        "CAD",
        "AUD",
    }
    tax = await browse(qad, "urn:browse:bebrowse:com.qad.erp.financials.taxClasses")
    assert {r["tx.taxClass"]: r["tx.percent"] for r in tax["data"]} == {
        "EXEMPT": 0,
        "IMP5": 5,
        "PT825": 8.25,
    }
    gl = await browse(qad, GL, "gl.glCode,eq,720,literal")
    assert gl["data"] == [
        {
            "gl.glCode": "720",
            "gl.description": "Plant & Machinery",
            "gl.glType": "BALANCE",
            "gl.requiresSubAccount": True,
            "gl.requiresCostCentre": False,
            "gl.isActive": True,
        }
    ]


async def test_supplier_and_po_browses_follow_what_was_posted(
    qad: httpx.AsyncClient, sandbox: QadSandbox
) -> None:
    suppliers = "urn:browse:bebrowse:com.qad.erp.base.supplierV2s"
    assert (await browse(qad, suppliers))["data"] == []
    await qad.post(
        "/api/erp/businessRelationV2s",
        json={"businessRelationV2s": [{"businessRelationCode": "BR1", "name": "Bolt Co"}]},
    )
    await qad.post(
        "/api/erp/supplierV2s",
        json={
            "supplierV2s": [
                {
                    "supplierCode": "S1",
                    "businessRelationCode": "BR1",
                    "currencyCode": "EUR",
                    "creditTermsCode": "N60",
                    "invoiceStatusCode": "AP-INITIAL",
                }
            ]
        },
    )
    await qad.post(
        "/api/erp/purchaseOrderHeaders",
        json={
            "purchaseOrderHeaders": [
                {"purchaseOrderNumber": "P1", "supplierCode": "S1", "remarks": "r"}
            ]
        },
    )
    assert (await browse(qad, suppliers))["data"] == [
        {
            "supplierV2.supplierCode": "S1",
            "supplierV2.name": "Bolt Co",
            "supplierV2.currencyCode": "EUR",
            "supplierV2.isActive": True,
        }
    ]
    orders = await browse(qad, "urn:browse:bebrowse:com.qad.erp.purchasing.purchaseOrders")
    assert orders["data"] == [
        {
            "purchaseOrder.purchaseOrderNumber": "P1",
            "purchaseOrder.supplierCode": "S1",
            "purchaseOrder.orderStatus": "O",
            "purchaseOrder.remarks": "r",
        }
    ]


async def test_items_added_through_the_sandbox_show_in_the_browse(
    qad: httpx.AsyncClient, sandbox: QadSandbox
) -> None:
    sandbox.tenant("acme").add_item(
        "ZZ-NEW", "New thing", uom="EA", gl_account="630", unit_cost="3.5"
    )
    body = await browse(qad, ITEMS, "pt_mstr.pt_part,eq,zz-new,literal")
    assert [r["pt_mstr.pt_desc1"] for r in body["data"]] == ["New thing"]


async def test_receipt_history_and_invoice_browses_find_documents_by_key(
    qad: httpx.AsyncClient, sandbox: QadSandbox
) -> None:
    tenant = sandbox.tenant("acme")
    await qad.post(
        "/api/erp/businessRelationV2s",
        json={"businessRelationV2s": [{"businessRelationCode": "BR1", "name": "Bolt Co"}]},
    )
    await qad.post(
        "/api/erp/supplierV2s",
        json={
            "supplierV2s": [
                {
                    "supplierCode": "S1",
                    "businessRelationCode": "BR1",
                    "currencyCode": "USD",
                    "creditTermsCode": "N30",
                    "invoiceStatusCode": "AP-INITIAL",
                }
            ]
        },
    )
    await qad.post(
        "/api/erp/purchaseOrderHeaders",
        json={"purchaseOrderHeaders": [{"purchaseOrderNumber": "P1", "supplierCode": "S1"}]},
    )
    line = (
        await qad.get(
            "/api/erp/purchaseOrderLinesGrid",
            params={"initialize": "true", "purchaseOrderNumber": "P1"},
        )
    ).json()["data"]["purchaseOrderLines"][0]
    for field, value in (("itemCode", "WID-100"), ("quantityOrdered", 10)):
        line[field] = value
        line = (
            await qad.post(
                "/api/erp/purchaseOrderLines/fieldChangeV2",
                params={"fieldName": field},
                json={"purchaseOrderLines": [line]},
            )
        ).json()["data"]["purchaseOrderLines"][0]
    await qad.post("/api/erp/purchaseOrderLinesGrid", json={"purchaseOrderLines": [line]})
    for slip, quantity in (("PS-1", 4), ("PS-2", 6)):
        await qad.post(
            "/api/erp/purchaseOrderReceipts",
            json={
                "purchaseOrderReceipts": [
                    {
                        "purchaseOrderNumber": "P1",
                        "packingSlip": slip,
                        "effectiveDate": "2026-03-10",
                        "lines": [{"purchaseOrderLine": 1, "quantityReceived": quantity}],
                    }
                ]
            },
        )
    history = await browse(
        qad,
        "urn:browse:mfg:receiptHistory",
        "prh_hist.prh_nbr,eq,P1,literal",
        "prh_hist.prh_ps_nbr,eq,PS-2,literal",
    )
    assert history["data"] == [
        {
            "prh_hist.prh_receiver": "RC000002",
            "prh_hist.prh_nbr": "P1",
            "prh_hist.prh_line": 1,
            "prh_hist.prh_part": "WID-100",
            "prh_hist.prh_ps_nbr": "PS-2",
            "prh_hist.prh_rcvd": 6,
            "prh_hist.prh_rcp_date": "2026-03-10",
            "prh_hist.prh_site": tenant.default_site,
        }
    ]
    assert (await browse(qad, "urn:browse:mfg:receiptHistory", "prh_hist.prh_nbr,eq,P2,literal"))[
        "data"
    ] == []
    invoices = "urn:browse:bebrowse:com.qad.erp.financials.supplierInvoices"
    assert (await browse(qad, invoices, "supplierInvoice.supplierCode,eq,S1,literal"))["data"] == []
    await qad.post(
        "/api/erp/supplierInvoices",
        json={
            "supplierInvoices": [
                {
                    "supplierCode": "S1",
                    "invoiceReference": "INV-1",
                    "invoiceDate": "2026-03-20",
                    "amountTC": 125,
                    "purchaseOrders": [{"purchaseOrderNumber": "P1"}],
                    "matching": [
                        {
                            "purchaseOrderNumber": "P1",
                            "purchaseOrderLine": 1,
                            "quantity": 10,
                            "unitPrice": 12.5,
                        }
                    ],
                }
            ]
        },
    )
    found = await browse(
        qad,
        invoices,
        "supplierInvoice.supplierCode,eq,S1,literal",
        "supplierInvoice.invoiceReference,eq,INV-1,literal",
    )
    assert [
        (
            r["supplierInvoice.voucher"],
            r["supplierInvoice.amountTC"],
            r["supplierInvoice.postingYear"],
        )
        for r in found["data"]
    ] == [(1, 125, 2026)]
