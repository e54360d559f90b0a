"""QAD sandbox: PO headers and lines, receipts, and supplier invoices with the three-way match."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from ml_connector.sandbox.qad import QadSandbox, QadTenant


@pytest.fixture
def tenant(sandbox: QadSandbox) -> QadTenant:
    return sandbox.tenant("acme")


@pytest.fixture
async def qad(qad: httpx.AsyncClient) -> httpx.AsyncClient:
    """The shared logged-in client, with a business relation and supplier to order from."""
    await submit(
        qad,
        "businessRelationV2s",
        "businessRelationV2s",
        {"businessRelationCode": "BR-ACME", "name": "Acme Fasteners", "dataOperation": "C"},
    )
    await submit(
        qad,
        "supplierV2s",
        "supplierV2s",
        {
            "sharedSetCode": "10USA",
            "supplierCode": "S0001",
            "businessRelationCode": "BR-ACME",
            "currencyCode": "USD",
            "creditTermsCode": "N30",
            "invoiceStatusCode": "AP-INITIAL",
            "dataOperation": "C",
        },
    )
    return qad


async def submit(
    qad: httpx.AsyncClient,
    path: str,
    key: str,
    record: dict[str, Any],
    params: dict[str, str] | None = None,
) -> dict[str, Any]:
    answer = await qad.post(
        f"/api/erp/{path}", json={"supplementaryMessages": [], key: [record]}, params=params
    )
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def ok(body: dict[str, Any]) -> bool:
    return bool(body["submitResult"]["success"])


def first(body: dict[str, Any], key: str) -> dict[str, Any]:
    record: dict[str, Any] = body["data"][key][0]
    return record


def messages(body: dict[str, Any]) -> list[str]:
    return [e["message"] for e in body["submitResult"]["errors"]]


async def create_po(qad: httpx.AsyncClient, number: str = "PO-1", **changes: Any) -> dict[str, Any]:
    body = await submit(
        qad,
        "purchaseOrderHeaders",
        "purchaseOrderHeaders",
        {
            "domainCode": "10USA",
            "purchaseOrderNumber": number,
            "supplierCode": "S0001",
            "currencyCode": "USD",
            "shipToSite": "10-100",
            "orderDate": "2026-03-01",
            "remarks": "Cin7 PO-1",
            "orderStatus": "O",
            "dataOperation": "C",
            "concurrencyHash": "",
            **changes,
        },
    )
    return body


async def draft_line(
    qad: httpx.AsyncClient, po: str, item: str, quantity: float, cost: float | None = None
) -> dict[str, Any]:
    """initialize → fieldChangeV2 (site, item, quantity, cost), as QAD's UI does."""
    init = await qad.get(
        "/api/erp/purchaseOrderLinesGrid",
        params={"initialize": "true", "domainCode": "10USA", "purchaseOrderNumber": po},
    )
    line: dict[str, Any] = init.json()["data"]["purchaseOrderLines"][0]
    values: dict[str, Any] = {
        "siteCode": line["siteCode"],
        "itemCode": item,
        "quantityOrdered": quantity,
    }
    if cost is not None:
        values["purchaseCost"] = cost
    for field in ("siteCode", "itemCode", "quantityOrdered", "purchaseCost"):
        if field in values:
            line[field] = values[field]
        body = await submit(
            qad,
            "purchaseOrderLines/fieldChangeV2",
            "purchaseOrderLines",
            line,
            {"fieldName": field},
        )
        assert ok(body), messages(body)
        line = first(body, "purchaseOrderLines")
    return line


async def add_line(
    qad: httpx.AsyncClient, po: str, item: str, quantity: float, cost: float | None = None
) -> dict[str, Any]:
    line = await draft_line(qad, po, item, quantity, cost)
    body = await submit(qad, "purchaseOrderLinesGrid", "purchaseOrderLines", line)
    assert ok(body), messages(body)
    return first(body, "purchaseOrderLines")


async def receive(
    qad: httpx.AsyncClient, po: str, lines: list[tuple[int, float]], slip: str = "PS-1"
) -> dict[str, Any]:
    return await submit(
        qad,
        "purchaseOrderReceipts",
        "purchaseOrderReceipts",
        {
            "domainCode": "10USA",
            "purchaseOrderNumber": po,
            "effectiveDate": "2026-03-05",
            "packingSlip": slip,
            "lines": [{"purchaseOrderLine": n, "quantityReceived": q} for n, q in lines],
        },
    )


def invoice(
    po: str, matching: list[tuple[int, float, float]], amount: float, **changes: Any
) -> dict[str, Any]:
    return {
        "entityCode": "10USACO",
        "supplierCode": "S0001",
        "invoiceReference": "INV-100",
        "invoiceType": "Invoice",
        "invoiceDate": "2026-03-10",
        "postingDate": "2026-03-10",
        "currencyCode": "USD",
        "exchangeRate": 1,
        "amountTC": amount,
        "taxAmountTC": 0,
        "invoiceStatusCode": "AP-INITIAL",
        "daybookCode": "SUPINV",
        "purchaseOrders": [{"domainCode": "10USA", "purchaseOrderNumber": po}],
        "matching": [
            {"purchaseOrderNumber": po, "purchaseOrderLine": n, "quantity": q, "unitPrice": p}
            for n, q, p in matching
        ],
        "glLines": [],
        **changes,
    }


async def read_po(qad: httpx.AsyncClient, po: str) -> dict[str, Any]:
    answer = await qad.get(
        "/api/erp/purchaseOrderHeaders", params={"domainCode": "10USA", "purchaseOrderNumber": po}
    )
    return first(answer.json(), "purchaseOrderHeaders")


# ---- headers ----------------------------------------------------------------------------------


async def test_po_header_is_created_and_read_back(qad: httpx.AsyncClient) -> None:
    body = await create_po(qad)
    assert ok(body)
    header = await read_po(qad, "PO-1")
    assert header["supplierCode"] == "S0001"
    assert header["creditTermsCode"] == "N30"  # defaulted from the supplier
    assert header["remarks"] == "Cin7 PO-1"
    assert header["lines"] == []
    missing = await qad.get("/api/erp/purchaseOrderHeaders", params={"purchaseOrderNumber": "NOPE"})
    assert missing.json() == {"data": {"purchaseOrderHeaders": []}}


async def test_blank_po_number_is_auto_numbered(qad: httpx.AsyncClient) -> None:
    one = first(await create_po(qad, ""), "purchaseOrderHeaders")["purchaseOrderNumber"]
    two = first(await create_po(qad, ""), "purchaseOrderHeaders")["purchaseOrderNumber"]
    assert one == "PO000001"
    assert two == "PO000002"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"purchaseOrderNumber": "PO-123456"}, "purchaseOrderNumber"),
        ({"remarks": "r" * 41}, "remarks"),
        ({"supplierCode": "S9999"}, "supplierCode"),
        ({"currencyCode": "XYZ"}, "currencyCode"),
        ({"shipToSite": "99-999"}, "shipToSite"),
        ({"orderDate": "2026-13-45"}, "orderDate"),
        ({"domainCode": "20EU"}, "domainCode"),
    ],
)
async def test_po_header_validation(
    qad: httpx.AsyncClient, tenant: QadTenant, changes: dict[str, Any], field: str
) -> None:
    body = await create_po(qad, **changes)
    assert not ok(body)
    assert body["submitResult"]["errorSeverity"] == 1
    assert [e["fieldName"] for e in body["submitResult"]["errors"]] == [field]
    assert tenant.purchase_orders == {}


async def test_duplicate_po_number_already_exists(qad: httpx.AsyncClient) -> None:
    await create_po(qad)
    again = await create_po(qad)
    assert not ok(again)
    assert again["submitResult"]["errors"][0]["code"] == "2040"
    assert "already exists" in messages(again)[0]


async def test_header_update_and_stale_hash(qad: httpx.AsyncClient) -> None:
    await create_po(qad)
    header = await read_po(qad, "PO-1")
    header.pop("lines")
    updated = await submit(
        qad,
        "purchaseOrderHeaders",
        "purchaseOrderHeaders",
        header | {"remarks": "changed", "dataOperation": "U"},
    )
    assert ok(updated)
    stale = await submit(
        qad,
        "purchaseOrderHeaders",
        "purchaseOrderHeaders",
        header | {"remarks": "lost", "dataOperation": "U"},
    )
    assert not ok(stale)
    assert messages(stale) == ["Record has been changed by another user"]
    assert (await read_po(qad, "PO-1"))["remarks"] == "changed"


# ---- lines ------------------------------------------------------------------------------------


async def test_line_flow_defaults_from_the_item(qad: httpx.AsyncClient, tenant: QadTenant) -> None:
    await create_po(qad)
    init = await qad.get(
        "/api/erp/purchaseOrderLinesGrid",
        params={"initialize": "true", "domainCode": "10USA", "purchaseOrderNumber": "PO-1"},
    )
    blank = init.json()["data"]["purchaseOrderLines"][0]
    assert blank["purchaseOrderLine"] == 1
    assert blank["siteCode"] == "10-100"

    line = await draft_line(qad, "PO-1", "WID-100", 10)
    assert line["description"] == "Widget 100mm"
    assert line["unitOfMeasure"] == "EA"
    assert line["glAccount"] == "630"
    assert line["purchaseCost"] == 12.5  # the item's cost, as the cost was still 0
    assert tenant.purchase_order("10USA", "PO-1").lines == {}  # field change saves nothing

    saved = first(
        await submit(qad, "purchaseOrderLinesGrid", "purchaseOrderLines", line),
        "purchaseOrderLines",
    )
    assert saved["purchaseOrderLine"] == 1
    second = await add_line(qad, "PO-1", "BOX-M", 50, 1.1)
    assert second["purchaseOrderLine"] == 2
    assert second["purchaseCost"] == 1.1
    assert second["glAccount"] == "6320"
    header = await read_po(qad, "PO-1")
    assert [(ln["itemCode"], ln["quantityOrdered"]) for ln in header["lines"]] == [
        ("WID-100", 10),
        ("BOX-M", 50),
    ]
    state_lines = tenant.state()["purchaseOrders"][0]["lines"]
    assert state_lines[0] == {
        "line": 1,
        "itemCode": "WID-100",
        "quantityOrdered": 10,
        "quantityReceived": 0,
        "quantityInvoiced": 0,
        "purchaseCost": 12.5,
        "glAccount": "630",
    }


async def test_field_change_on_an_unknown_item_fails_on_item_code(qad: httpx.AsyncClient) -> None:
    await create_po(qad)
    body = await submit(
        qad,
        "purchaseOrderLines/fieldChangeV2",
        "purchaseOrderLines",
        {"domainCode": "10USA", "purchaseOrderNumber": "PO-1", "itemCode": "CBL-050"},
        {"fieldName": "itemCode"},
    )
    assert not ok(body)
    assert body["submitResult"]["errors"][0]["fieldName"] == "itemCode"


async def test_a_commit_without_defaulting_is_refused(qad: httpx.AsyncClient) -> None:
    await create_po(qad)
    body = await submit(
        qad,
        "purchaseOrderLinesGrid",
        "purchaseOrderLines",
        {
            "domainCode": "10USA",
            "purchaseOrderNumber": "PO-1",
            "purchaseOrderLine": 1,
            "siteCode": "10-100",
            "itemCode": "WID-100",
            "quantityOrdered": 5,
            "purchaseCost": 12.5,
            "dataOperation": "C",
        },
    )
    assert not ok(body)
    assert {e["fieldName"] for e in body["submitResult"]["errors"]} == {
        "unitOfMeasure",
        "glAccount",
    }


async def test_analysis_codes_must_fit_the_gl_account(
    qad: httpx.AsyncClient, tenant: QadTenant
) -> None:
    tenant.add_item("SVC-REP", "Repair service", gl_account="473", unit_cost=150)
    await create_po(qad)
    line = await draft_line(qad, "PO-1", "SVC-REP", 1)
    refused = await submit(qad, "purchaseOrderLinesGrid", "purchaseOrderLines", line)
    assert not ok(refused)
    assert "requires a cost centre" in messages(refused)[0]
    assert tenant.purchase_order("10USA", "PO-1").lines == {}

    extra = await submit(
        qad,
        "purchaseOrderLinesGrid",
        "purchaseOrderLines",
        line | {"costCentre": "CC100", "subAccount": "1000"},
    )
    assert not ok(extra)
    assert "does not accept a sub-account" in messages(extra)[0]

    fitting = await submit(
        qad, "purchaseOrderLinesGrid", "purchaseOrderLines", line | {"costCentre": "CC100"}
    )
    assert ok(fitting)
    assert first(fitting, "purchaseOrderLines")["costCentre"] == "CC100"


async def test_line_update_and_limits(qad: httpx.AsyncClient) -> None:
    await create_po(qad)
    line = await add_line(qad, "PO-1", "WID-100", 10)
    assert ok(await receive(qad, "PO-1", [(1, 6)]))
    line = (await read_po(qad, "PO-1"))["lines"][0]
    raised = await submit(
        qad,
        "purchaseOrderLinesGrid",
        "purchaseOrderLines",
        line | {"quantityOrdered": 12, "dataOperation": "U"},
    )
    assert ok(raised)
    assert first(raised, "purchaseOrderLines")["quantityOrdered"] == 12
    fresh = first(raised, "purchaseOrderLines")
    too_low = await submit(
        qad,
        "purchaseOrderLinesGrid",
        "purchaseOrderLines",
        fresh | {"quantityOrdered": 5, "dataOperation": "U"},
    )
    assert not ok(too_low)
    assert "below the quantity received 6" in messages(too_low)[0]
    stale = await submit(
        qad,
        "purchaseOrderLinesGrid",
        "purchaseOrderLines",
        line | {"purchaseCost": 11, "dataOperation": "U"},
    )
    assert messages(stale) == ["Record has been changed by another user"]
    duplicate = await submit(
        qad, "purchaseOrderLinesGrid", "purchaseOrderLines", fresh | {"dataOperation": "C"}
    )
    assert duplicate["submitResult"]["errors"][0]["code"] == "2040"


async def test_closing_a_po_closes_its_lines_and_stops_receipts(qad: httpx.AsyncClient) -> None:
    await create_po(qad)
    await add_line(qad, "PO-1", "WID-100", 10)
    header = await read_po(qad, "PO-1")
    header.pop("lines")
    closed = await submit(
        qad,
        "purchaseOrderHeaders",
        "purchaseOrderHeaders",
        header | {"orderStatus": "C", "dataOperation": "U"},
    )
    assert ok(closed)
    after = await read_po(qad, "PO-1")
    assert after["orderStatus"] == "C"
    assert after["lines"][0]["lineStatus"] == "C"
    refused = await receive(qad, "PO-1", [(1, 1)])
    assert not ok(refused)
    assert "closed" in messages(refused)[0]


# ---- receipts ---------------------------------------------------------------------------------


async def test_receipts_are_not_idempotent(qad: httpx.AsyncClient, tenant: QadTenant) -> None:
    await create_po(qad)
    await add_line(qad, "PO-1", "WID-100", 10)
    one = await receive(qad, "PO-1", [(1, 4)])
    two = await receive(qad, "PO-1", [(1, 4)])
    assert ok(one)
    assert ok(two)
    numbers = [first(b, "purchaseOrderReceipts")["receiverNumber"] for b in (one, two)]
    assert numbers == ["RC000001", "RC000002"]
    assert (await read_po(qad, "PO-1"))["lines"][0]["quantityReceived"] == 8
    by_slip = await qad.get(
        "/api/erp/purchaseOrderReceipts",
        params={"domainCode": "10USA", "purchaseOrderNumber": "PO-1", "packingSlip": "PS-1"},
    )
    receipts = by_slip.json()["data"]["purchaseOrderReceipts"]
    assert [r["receiverNumber"] for r in receipts] == numbers
    assert receipts[0]["lines"][0]["quantityReceived"] == 4
    assert receipts[0]["lines"][0]["itemCode"] == "WID-100"
    assert tenant.state()["receipts"][0] == {
        "receiverNumber": "RC000001",
        "purchaseOrderNumber": "PO-1",
        "packingSlip": "PS-1",
        "lines": [{"line": 1, "quantity": 4}],
    }
    other_slip = await qad.get(
        "/api/erp/purchaseOrderReceipts",
        params={"purchaseOrderNumber": "PO-1", "packingSlip": "PS-2"},
    )
    assert other_slip.json()["data"]["purchaseOrderReceipts"] == []


async def test_over_receipt_beyond_tolerance_is_refused(
    qad: httpx.AsyncClient, tenant: QadTenant
) -> None:
    await create_po(qad)
    await add_line(qad, "PO-1", "WID-100", 10)
    await add_line(qad, "PO-1", "BOX-M", 10)
    within = await receive(qad, "PO-1", [(1, 11)])  # 10 % tolerance
    assert ok(within)
    over = await receive(qad, "PO-1", [(1, 1), (2, 5)], slip="PS-2")
    assert not ok(over)
    assert "PO PO-1 line 1 (WID-100)" in messages(over)[0]
    lines = (await read_po(qad, "PO-1"))["lines"]
    assert [ln["quantityReceived"] for ln in lines] == [11, 0]  # nothing of the refused receipt
    assert len(tenant.receivers) == 1


async def test_negative_receipt_reverses(qad: httpx.AsyncClient) -> None:
    await create_po(qad)
    await add_line(qad, "PO-1", "WID-100", 10)
    await receive(qad, "PO-1", [(1, 6)])
    back = await receive(qad, "PO-1", [(1, -2)], slip="PS-1-REV")
    assert ok(back)
    assert (await read_po(qad, "PO-1"))["lines"][0]["quantityReceived"] == 4
    too_far = await receive(qad, "PO-1", [(1, -5)], slip="PS-1-REV2")
    assert not ok(too_far)


async def test_receipt_validation(qad: httpx.AsyncClient) -> None:
    await create_po(qad)
    await add_line(qad, "PO-1", "WID-100", 10)
    for lines, slip in (([(7, 1)], "PS-1"), ([(1, 0)], "PS-1"), ([(1, 1)], "S" * 21)):
        assert not ok(await receive(qad, "PO-1", lines, slip=slip))
    assert not ok(await receive(qad, "NOPE", [(1, 1)]))


async def test_silent_receipt_fault_answers_success_and_posts_nothing(
    qad: httpx.AsyncClient, tenant: QadTenant
) -> None:
    await create_po(qad)
    await add_line(qad, "PO-1", "WID-100", 10)
    tenant.set_faults(silent_receipt_rate=1.0)
    body = await receive(qad, "PO-1", [(1, 5)])
    assert ok(body)
    assert first(body, "purchaseOrderReceipts")["receiverNumber"].startswith("RC")
    assert (await read_po(qad, "PO-1"))["lines"][0]["quantityReceived"] == 0
    assert tenant.state()["receipts"] == []
    listed = await qad.get("/api/erp/purchaseOrderReceipts", params={"purchaseOrderNumber": "PO-1"})
    assert listed.json()["data"]["purchaseOrderReceipts"] == []


# ---- supplier invoices -------------------------------------------------------------------------


async def two_line_po(qad: httpx.AsyncClient) -> None:
    await create_po(qad)
    await add_line(qad, "PO-1", "WID-100", 10)  # 12.50
    await add_line(qad, "PO-1", "BOX-M", 20)  # 1.20


async def test_invoice_before_receipt_is_refused_naming_the_line(
    qad: httpx.AsyncClient, tenant: QadTenant
) -> None:
    await two_line_po(qad)
    await receive(qad, "PO-1", [(1, 10), (2, 6)])
    body = await submit(
        qad,
        "supplierInvoices",
        "supplierInvoices",
        invoice("PO-1", [(1, 10, 12.5), (2, 10, 1.2)], 137),
    )
    assert not ok(body)
    assert body["submitResult"]["errorSeverity"] == 1
    error = body["submitResult"]["errors"][0]
    assert error["fieldName"] == "matching"
    assert (
        error["message"] == "PO PO-1 line 2 (BOX-M): invoiced 10, received and not yet invoiced 6"
    )
    assert tenant.invoices == {}
    assert (await read_po(qad, "PO-1"))["lines"][0]["quantityInvoiced"] == 0


async def test_invoice_after_receipt_finishes_and_reads_back(
    qad: httpx.AsyncClient, tenant: QadTenant
) -> None:
    await two_line_po(qad)
    await receive(qad, "PO-1", [(1, 10), (2, 20)])
    body = await submit(
        qad,
        "supplierInvoices",
        "supplierInvoices",
        invoice(
            "PO-1",
            [(1, 10, 12.5), (2, 20, 1.2)],
            167.68,
            taxAmountTC=13.68,
            glLines=[{"glCode": "4250", "amountTC": 5.0, "description": "Freight"}],
        ),
    )
    assert ok(body), messages(body)
    saved = first(body, "supplierInvoices")
    assert saved["matchingStatus"] == "Finished"
    assert saved["postingYear"] == 2026
    assert saved["daybookCode"] == "SUPINV"
    assert isinstance(saved["voucher"], int)
    lines = (await read_po(qad, "PO-1"))["lines"]
    assert [ln["quantityInvoiced"] for ln in lines] == [10, 20]

    by_voucher = await qad.get(
        "/api/erp/supplierInvoices",
        params={
            "entityCode": "10USACO",
            "postingYear": "2026",
            "daybookCode": "SUPINV",
            "voucher": str(saved["voucher"]),
        },
    )
    found = by_voucher.json()["data"]["supplierInvoices"]
    assert [i["invoiceReference"] for i in found] == ["INV-100"]
    assert found[0]["amountTC"] == 167.68
    assert tenant.state()["supplierInvoices"] == [
        {
            "voucher": saved["voucher"],
            "supplierCode": "S0001",
            "invoiceReference": "INV-100",
            "type": "Invoice",
            "amountTC": 167.68,
            "currencyCode": "USD",
            "matchingStatus": "Finished",
            "purchaseOrders": ["PO-1"],
            "description": "",
        }
    ]


async def test_duplicate_reference_is_a_warning_and_a_second_invoice(
    qad: httpx.AsyncClient,
) -> None:
    await two_line_po(qad)
    await receive(qad, "PO-1", [(1, 10)])
    first_body = await submit(
        qad, "supplierInvoices", "supplierInvoices", invoice("PO-1", [(1, 5, 12.5)], 62.5)
    )
    second_body = await submit(
        qad, "supplierInvoices", "supplierInvoices", invoice("PO-1", [(1, 5, 12.5)], 62.5)
    )
    assert ok(first_body)
    assert ok(second_body)
    assert first_body["submitResult"]["errors"] == []
    warning = second_body["submitResult"]
    assert warning["errorSeverity"] == 0
    assert warning["errors"][0]["severity"] == 0
    assert warning["errors"][0]["message"] == (
        "The reference already exists on another invoice for this supplier"
    )
    vouchers = {first(b, "supplierInvoices")["voucher"] for b in (first_body, second_body)}
    assert len(vouchers) == 2
    search = await qad.get(
        "/api/erp/supplierInvoices",
        params={"entityCode": "10USACO", "supplierCode": "S0001", "invoiceReference": "INV-100"},
    )
    assert {i["voucher"] for i in search.json()["data"]["supplierInvoices"]} == vouchers
    none = await qad.get(
        "/api/erp/supplierInvoices", params={"supplierCode": "S0001", "invoiceReference": "INV-999"}
    )
    assert none.json()["data"]["supplierInvoices"] == []


async def test_amount_that_does_not_match_is_refused(
    qad: httpx.AsyncClient, tenant: QadTenant
) -> None:
    await two_line_po(qad)
    await receive(qad, "PO-1", [(1, 10)])
    body = await submit(
        qad, "supplierInvoices", "supplierInvoices", invoice("PO-1", [(1, 10, 12.5)], 130)
    )
    assert not ok(body)
    error = body["submitResult"]["errors"][0]
    assert error["fieldName"] == "amountTC"
    assert "does not equal the matched amount" in error["message"]
    assert tenant.invoices == {}


async def test_price_outside_tolerance_leaves_the_matching_ongoing(qad: httpx.AsyncClient) -> None:
    """An initial invoice (AP-INITIAL) priced beyond QAD's tolerance is saved, with a warning,
    and its receiver matching stays Ongoing: nothing is booked as invoiced until a person
    finishes it. Within the tolerance the matching is Finished."""
    await two_line_po(qad)
    await receive(qad, "PO-1", [(1, 10)])
    within = invoice("PO-1", [(1, 2, 13.0)], 26, invoiceReference="INV-A")  # 4 % over
    saved = await submit(qad, "supplierInvoices", "supplierInvoices", within)
    over = invoice("PO-1", [(1, 2, 13.5)], 27, invoiceReference="INV-B")  # 8 % over
    body = await submit(qad, "supplierInvoices", "supplierInvoices", over)
    po = await read_po(qad, "PO-1")

    assert first(saved, "supplierInvoices")["matchingStatus"] == "Finished"
    assert ok(body)
    invoice_b = first(body, "supplierInvoices")
    assert invoice_b["matchingStatus"] == "Ongoing"
    assert invoice_b["invoiceStatusCode"] == "AP-INITIAL"
    assert invoice_b["matching"][0]["glAccount"] == "630"
    [warning] = body["submitResult"]["errors"]
    assert warning["severity"] == 0
    assert warning["message"].startswith("PO PO-1 line 1 (WID-100): unit price 13.5")
    assert warning["message"].endswith("the matching stays Ongoing")
    assert [line["quantityInvoiced"] for line in po["lines"]][:1] == [2]


async def test_gl_lines_must_fit_their_accounts(qad: httpx.AsyncClient) -> None:
    await two_line_po(qad)
    for gl_line, fragment in (
        ({"glCode": "473", "amountTC": 10}, "requires a cost centre"),
        ({"glCode": "720", "amountTC": 10}, "requires a sub-account"),
        (
            {"glCode": "4250", "amountTC": 10, "costCentre": "CC100"},
            "does not accept a cost centre",
        ),
        ({"glCode": "9999", "amountTC": 10}, "does not exist"),
    ):
        body = await submit(
            qad, "supplierInvoices", "supplierInvoices", invoice("PO-1", [], 10, glLines=[gl_line])
        )
        assert not ok(body)
        assert fragment in messages(body)[0]
    fitting = invoice(
        "PO-1", [], 10, glLines=[{"glCode": "473", "amountTC": 10, "costCentre": "CC200"}]
    )
    assert ok(await submit(qad, "supplierInvoices", "supplierInvoices", fitting))


async def test_invoice_header_validation(qad: httpx.AsyncClient) -> None:
    await two_line_po(qad)
    for changes in (
        {"supplierCode": "S9999"},
        {"currencyCode": "XYZ"},
        {"daybookCode": "NOPE"},
        {"invoiceStatusCode": "AP-BOGUS"},
        {"purchaseOrders": [{"domainCode": "10USA", "purchaseOrderNumber": "PO-404"}]},
    ):
        body = await submit(
            qad, "supplierInvoices", "supplierInvoices", invoice("PO-1", [], 0, **changes)
        )
        assert not ok(body), changes


async def test_a_po_of_another_supplier_is_refused(qad: httpx.AsyncClient) -> None:
    await two_line_po(qad)
    await submit(
        qad,
        "supplierV2s",
        "supplierV2s",
        {
            "supplierCode": "S0002",
            "businessRelationCode": "BR-ACME",
            "currencyCode": "USD",
            "creditTermsCode": "N30",
            "invoiceStatusCode": "AP-INITIAL",
        },
    )
    body = await submit(
        qad, "supplierInvoices", "supplierInvoices", invoice("PO-1", [], 0, supplierCode="S0002")
    )
    assert not ok(body)
    assert "belongs to supplier S0001" in messages(body)[0]


async def test_matching_on_a_named_receiver_draws_on_that_receiver(qad: httpx.AsyncClient) -> None:
    await two_line_po(qad)
    first_rc = first(await receive(qad, "PO-1", [(1, 3)]), "purchaseOrderReceipts")[
        "receiverNumber"
    ]
    await receive(qad, "PO-1", [(1, 5)], slip="PS-2")
    record = invoice("PO-1", [(1, 4, 12.5)], 50)
    record["matching"][0]["receiverNumber"] = first_rc
    body = await submit(qad, "supplierInvoices", "supplierInvoices", record)
    assert not ok(body)
    assert f"on receiver {first_rc}, received and not yet invoiced 3" in messages(body)[0]
    record["matching"][0]["quantity"] = 3
    record["amountTC"] = 37.5
    assert ok(await submit(qad, "supplierInvoices", "supplierInvoices", record))


async def test_credit_note_gives_back_invoiced_quantity(qad: httpx.AsyncClient) -> None:
    await two_line_po(qad)
    await receive(qad, "PO-1", [(1, 10)])
    assert ok(
        await submit(
            qad, "supplierInvoices", "supplierInvoices", invoice("PO-1", [(1, 10, 12.5)], 125)
        )
    )
    credit = invoice("PO-1", [(1, 4, 12.5)], 50, invoiceType="CreditNote", invoiceReference="CN-1")
    assert ok(await submit(qad, "supplierInvoices", "supplierInvoices", credit))
    assert (await read_po(qad, "PO-1"))["lines"][0]["quantityInvoiced"] == 6
    again = await submit(
        qad, "supplierInvoices", "supplierInvoices", invoice("PO-1", [(1, 4, 12.5)], 50)
    )
    assert ok(again)


async def test_the_journal_lists_receipts_and_invoices_in_posting_order(
    qad: httpx.AsyncClient, sandbox: QadSandbox
) -> None:
    await two_line_po(qad)
    await receive(qad, "PO-1", [(1, 6)], slip="PS-1")
    await receive(qad, "PO-1", [(1, 4), (2, 20)], slip="PS-2")
    body = await submit(
        qad, "supplierInvoices", "supplierInvoices", invoice("PO-1", [(1, 10, 12.5)], 125)
    )
    assert ok(body), messages(body)
    journal = (await qad.get("/_sandbox/journal")).json()
    assert [entry["kind"] for entry in journal] == ["receipt", "receipt", "invoice"]
    assert journal[1]["lines"] == [{"line": 1, "quantity": 4}, {"line": 2, "quantity": 20}]
    assert journal[2]["invoiceReference"] == "INV-100"
    assert journal[2]["lines"] == [{"purchaseOrderNumber": "PO-1", "line": 1, "quantity": 10}]
    assert journal == sandbox.tenant("acme").journal
