"""Lifecycle rules and writes of the Cin7 sandbox, over the real API paths and `/_sandbox/`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime

import httpx
import pytest

from ml_connector.errors import RecordRejected
from ml_connector.sandbox.cin7 import Cin7Sandbox, Cin7SandboxError, create_cin7_sandbox

INVOICE_FIRST = "'Invoice First' approach option set. Please authorise Invoice before StockReceived"
STOCK_FIRST = "'Stock First' approach option set. Please authorise StockReceived before Invoice"
DATE_REQUIRED = "'Date' is required for 'Lines' line"
DEPRECATED = (
    "This endpoint is deprecated and does not support Advanced Purchase and Service Purchase. "
    "Please use AdvancedPurchase endpoint"
)


@pytest.fixture
def sandbox() -> Cin7Sandbox:
    return create_cin7_sandbox(seed=21, suppliers=8, purchases=40, rate_limit=100_000)


@pytest.fixture
async def api(sandbox: Cin7Sandbox) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=sandbox.app),
        base_url="http://cin7.test/ExternalApi/v2/",
        headers=sandbox.headers,
    ) as client:
        yield client


@pytest.fixture
async def control(sandbox: Cin7Sandbox) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=sandbox.app), base_url="http://cin7.test/_sandbox/"
    ) as client:
        yield client


def refused(response: httpx.Response, message: str) -> None:
    assert response.status_code == 400, response.text
    assert response.json() == [{"ErrorCode": 400, "Exception": message}]


async def new_header(api: httpx.AsyncClient, sandbox: Cin7Sandbox, approach: str) -> dict:
    supplier = sandbox.state.suppliers[0]
    response = await api.post(
        "purchase",
        json={
            "SupplierID": supplier.id,
            "Approach": approach,
            "Location": "Main Warehouse",
            "Order": {"Lines": [{"SKU": "WID-100", "Quantity": 99}]},  # ignored, as live
        },
    )
    assert response.status_code == 200, response.text
    doc = response.json()
    assert doc["Status"] == "ORDERING"
    assert doc["Order"]["Status"] == "NOT AVAILABLE"
    assert doc["Order"]["Lines"] == []
    assert doc["OrderNumber"] == "PO-00041"
    return doc


async def authorise_order(api: httpx.AsyncClient, task: str, quantity: int = 10) -> None:
    response = await api.post(
        "purchase/order",
        json={
            "TaskID": task,
            "Status": "AUTHORISED",
            "Lines": [{"SKU": "WID-100", "Quantity": quantity, "Price": 12.5}],
            "AdditionalCharges": [{"Description": "Freight", "Price": 30, "Quantity": 1}],
        },
    )
    assert response.status_code == 200, response.text
    assert response.json()["Status"] == "AUTHORISED"


async def test_invoice_first_purchase_through_the_api(
    api: httpx.AsyncClient, sandbox: Cin7Sandbox
) -> None:
    doc = await new_header(api, sandbox, "INVOICE")
    task = doc["ID"]
    line = {"SKU": "WID-100", "Quantity": 6, "Date": "2026-11-02T00:00:00Z"}
    refused(
        await api.post("purchase/stock", json={"TaskID": task, "Lines": [line]}),
        "Order should be authorised before StockReceived",
    )
    await authorise_order(api, task)
    again = await api.post("purchase/order", json={"TaskID": task, "Status": "DRAFT"})
    assert again.status_code == 400
    refused(
        await api.post("purchase/stock", json={"TaskID": task, "Status": "DRAFT", "Lines": [line]}),
        INVOICE_FIRST,
    )
    invoice = await api.post(
        "purchase/invoice",
        json={
            "TaskID": task,
            "Status": "AUTHORISED",
            "InvoiceNumber": "HF-1001",
            "InvoiceDate": "2026-11-01T00:00:00",
            "Lines": [{"SKU": "WID-100", "Quantity": 10, "Price": 12.5}],
        },
    )
    assert invoice.status_code == 200, invoice.text
    assert invoice.json()["Status"] == "AUTHORISED"
    assert invoice.json()["Total"] == 125 * 1.0825
    held = (await api.get("purchase", params={"ID": task})).json()
    assert held["Status"] == "INVOICED"
    assert held["StockReceived"]["Status"] == "NOT AVAILABLE"
    refused(
        await api.post(
            "purchase/stock", json={"TaskID": task, "Lines": [{"SKU": "WID-100", "Quantity": 6}]}
        ),
        DATE_REQUIRED,
    )
    refused(
        await api.post(
            "purchase/stock", json={"TaskID": task, "Status": "AUTHORISED", "Lines": [line]}
        ),
        "Product WID-100 has quantity invoiced 10.0000 which is different from quantity "
        "received 6.0000. Quantity received should exactly match the quantity invoiced.",
    )
    draft = await api.post(
        "purchase/stock", json={"TaskID": task, "Status": "DRAFT", "Lines": [line]}
    )
    assert draft.status_code == 200
    assert draft.json()["Status"] == "DRAFT"
    duplicate = await api.post("purchase/stock", json={"TaskID": task, "Lines": [line]})
    assert duplicate.status_code == 400
    assert "Cannot add duplicate value in stock received lines" in duplicate.json()[0]["Exception"]
    rest = {"SKU": "WID-100", "Quantity": 4, "Date": "2026-11-05T00:00:00"}
    done = await api.post(
        "purchase/stock", json={"TaskID": task, "Status": "AUTHORISED", "Lines": [rest]}
    )
    assert done.status_code == 200, done.text
    final = (await api.get("purchase", params={"ID": task})).json()
    assert final["Status"] == "COMPLETED"
    dates = [x["Date"] for x in final["StockReceived"]["Lines"]]
    assert dates == ["2026-11-02T00:00:00", "2026-11-05T00:00:00"]
    assert all(x["Received"] for x in final["StockReceived"]["Lines"])


async def test_stock_first_purchase_refuses_the_invoice_before_stock(
    api: httpx.AsyncClient, sandbox: Cin7Sandbox
) -> None:
    doc = await new_header(api, sandbox, "STOCK")
    task = doc["ID"]
    await authorise_order(api, task)
    invoice = {
        "TaskID": task,
        "Status": "AUTHORISED",
        "InvoiceNumber": "X-9",
        "Lines": [{"SKU": "WID-100", "Quantity": 10}],
    }
    refused(await api.post("purchase/invoice", json=invoice), STOCK_FIRST)
    stock = await api.post(
        "purchase/stock",
        json={
            "TaskID": task,
            "Status": "AUTHORISED",
            "Lines": [{"SKU": "WID-100", "Quantity": 6, "Date": "2026-11-02"}],
        },
    )
    assert stock.status_code == 200
    refused(
        await api.post("purchase/invoice", json=invoice),
        "Product WID-100 has quantity invoiced 10.0000 which is different from quantity "
        "received 6.0000. Quantity received should exactly match the quantity invoiced.",
    )
    invoice["Lines"] = [{"SKU": "WID-100", "Quantity": 6}]
    ok = await api.post("purchase/invoice", json=invoice)
    assert ok.status_code == 200, ok.text
    row = (await api.get("purchaseList", params={"Search": doc["OrderNumber"]})).json()
    assert row["PurchaseList"][0]["Status"] == "COMPLETED"


async def test_mismatch_message_prints_four_decimals(sandbox: Cin7Sandbox) -> None:
    state = sandbox.state
    created = state.create_purchase(
        "STOCK", [{"sku": "HSE-HYD-12", "quantity": "12.5", "price": "8.4"}]
    )
    state.receive(created["ID"], [{"sku": "HSE-HYD-12", "quantity": "10.25"}])
    with pytest.raises(Cin7SandboxError) as caught:
        state.invoice(created["ID"], "INV-1", [{"sku": "HSE-HYD-12", "quantity": "12.5"}])
    assert isinstance(caught.value, RecordRejected)
    assert caught.value.status == 400
    assert caught.value.message == (
        "Product HSE-HYD-12 has quantity invoiced 12.5000 which is different from quantity "
        "received 10.2500. Quantity received should exactly match the quantity invoiced."
    )


async def test_advanced_purchase_rules_and_putaway(
    api: httpx.AsyncClient, control: httpx.AsyncClient
) -> None:
    created = await control.post(
        "purchases",
        json={
            "approach": "STOCK",
            "advanced": True,
            "lines": [{"sku": "BRG-6204", "quantity": 40}, {"sku": "BRG-6205", "quantity": 20}],
        },
    )
    assert created.status_code == 200, created.text
    pid = created.json()["ID"]
    assert created.json()["Type"] == "Advanced Purchase"
    refused(await control.post(f"purchases/{pid}/invoice", json={}), STOCK_FIRST)
    refused(await api.get("purchase", params={"ID": pid}), DEPRECATED)
    refused(await api.post("purchase/stock", json={"TaskID": pid, "Lines": []}), DEPRECATED)
    partial = await control.post(
        f"purchases/{pid}/receive",
        json={"lines": [{"sku": "BRG-6204", "quantity": 25}], "date": "2026-11-03"},
    )
    assert partial.status_code == 200
    doc = partial.json()
    assert doc["CombinedReceivingStatus"] == "PARTIALLY RECEIVED"
    assert [b["Status"] for b in doc["PutAway"]] == ["AUTHORISED"]
    assert [b["Status"] for b in doc["StockReceived"]] == ["DRAFT"]
    assert doc["PutAway"][0]["Lines"][0]["Date"] == "2026-11-03T00:00:00"
    invoiced = (await control.post(f"purchases/{pid}/invoice", json={})).json()
    assert invoiced["Status"] == "PARTIALLY INVOICED"
    assert invoiced["Invoice"][0]["TaskID"] == doc["PutAway"][0]["TaskID"]
    assert [x["Quantity"] for x in invoiced["Invoice"][0]["Lines"]] == [25]
    rest = (await control.post(f"purchases/{pid}/receive", json={})).json()
    assert rest["CombinedReceivingStatus"] == "FULLY RECEIVED"
    assert len(rest["PutAway"]) == 2
    assert {x["SKU"]: x["Quantity"] for b in rest["PutAway"][1:] for x in b["Lines"]} == {
        "BRG-6204": 15,
        "BRG-6205": 20,
    }
    final = (await control.post(f"purchases/{pid}/invoice", json={"invoice_number": "B-2"})).json()
    assert final["Status"] == "COMPLETED"
    assert [i["InvoiceNumber"] for i in final["Invoice"]][1] == "B-2"
    nothing = await control.post(f"purchases/{pid}/receive", json={})
    assert nothing.status_code == 400


async def test_sandbox_verbs_answer_cin7_errors(control: httpx.AsyncClient) -> None:
    created = (
        await control.post(
            "purchases", json={"approach": "INVOICE", "lines": [{"sku": "NUT-M8", "quantity": 5}]}
        )
    ).json()
    pid = created["ID"]
    assert created["Status"] == "ORDERED"
    assert created["Approach"] == "INVOICE"
    refused(await control.post(f"purchases/{pid}/receive", json={}), INVOICE_FIRST)
    held = (await control.post(f"purchases/{pid}/invoice", json={"invoice_number": "N-1"})).json()
    assert held["Status"] == "INVOICED"
    assert held["Invoice"]["InvoiceNumber"] == "N-1"
    received = (await control.post(f"purchases/{pid}/receive", json={})).json()
    assert received["Status"] == "COMPLETED"
    unknown = await control.post("purchases/00000000-0000-0000-0000-000000000001/void")
    assert unknown.status_code == 404
    bad_sku = await control.post(
        "purchases", json={"approach": "STOCK", "lines": [{"sku": "NOPE", "quantity": 1}]}
    )
    refused(bad_sku, "Product with SKU 'NOPE' not found")
    bad_approach = await control.post(
        "purchases", json={"approach": "LATER", "lines": [{"sku": "NUT-M8", "quantity": 1}]}
    )
    assert bad_approach.status_code == 400


async def test_void_and_edit(control: httpx.AsyncClient, sandbox: Cin7Sandbox) -> None:
    pid = sandbox.state.create_purchase("STOCK", [{"sku": "WSH-M8", "quantity": 3}])["ID"]
    edited = (
        await control.post(
            f"purchases/{pid}/edit",
            json={"lines": [{"sku": "WSH-M8", "quantity": 5}, {"sku": "NUT-M8", "quantity": 2}]},
        )
    ).json()
    assert {x["SKU"]: x["Quantity"] for x in edited["Order"]["Lines"]} == {"WSH-M8": 5, "NUT-M8": 2}
    twice = await control.post(
        f"purchases/{pid}/edit",
        json={"lines": [{"sku": "WSH-M8", "quantity": 5}, {"sku": "WSH-M8", "quantity": 2}]},
    )
    assert twice.status_code == 400
    voided = (await control.post(f"purchases/{pid}/void")).json()
    assert voided["Status"] == "VOIDED"
    assert voided["Order"]["Status"] == "VOIDED"
    assert (await control.post(f"purchases/{pid}/void")).status_code == 400
    assert (await control.post(f"purchases/{pid}/receive", json={})).status_code == 400


async def test_every_mutation_bumps_last_updated_date(sandbox: Cin7Sandbox) -> None:
    state = sandbox.state
    before = max(p.updated for p in state.purchases)
    pid = state.create_purchase("STOCK", [{"sku": "BOX-S", "quantity": 100}])["ID"]
    stamps = [state.detail(pid)["LastUpdatedDate"]]
    stamps.append(state.receive(pid, [{"sku": "BOX-S", "quantity": 100}])["LastUpdatedDate"])
    stamps.append(state.invoice(pid)["LastUpdatedDate"])
    stamps.append(state.pay(pid, "10")["LastUpdatedDate"])
    stamps.append(state.credit(pid, [{"sku": "BOX-S", "quantity": 5}])["LastUpdatedDate"])
    moments = [datetime.fromisoformat(s) for s in stamps]
    assert moments[0] > before
    assert moments == sorted(moments)
    assert len(set(moments)) == len(moments)
    doc = state.detail(pid)
    assert doc["Status"] == "CREDITED"
    assert doc["CreditNote"]["Unstock"]["Lines"][0]["CardID"] in {
        x["CardID"] for x in doc["StockReceived"]["Lines"]
    }


async def test_touch_gives_many_purchases_one_identical_stamp(
    api: httpx.AsyncClient, control: httpx.AsyncClient, sandbox: Cin7Sandbox
) -> None:
    before = max(p.updated for p in sandbox.state.purchases)
    response = await control.post("touch", json={"count": 25})
    assert response.json() == {"touched": 25}
    rows = (await api.get("purchaseList", params={"Limit": "1000"})).json()["PurchaseList"]
    touched = {r["LastUpdatedDate"] for r in rows[:25]}
    assert len(touched) == 1
    stamp = touched.pop()
    assert datetime.fromisoformat(stamp) > before
    assert all(r["LastUpdatedDate"] != stamp for r in rows[25:])
    since = (await api.get("purchaseList", params={"UpdatedSince": before.isoformat()})).json()
    assert since["Total"] == 25
    later = sandbox.state.void(rows[30]["ID"])["LastUpdatedDate"]
    assert datetime.fromisoformat(later) > datetime.fromisoformat(stamp)
    assert sandbox.state.touch(10_000) == 40


async def test_account_writes_are_refused_and_the_chart_is_unchanged(
    api: httpx.AsyncClient,
) -> None:
    before = (await api.get("ref/account", params={"Limit": "1000"})).json()
    account = {"Code": "999", "Name": "Created by mistake", "Type": "EXPENSE", "Status": "ACTIVE"}
    for method in ("POST", "PUT", "DELETE"):
        response = await api.request(
            method,
            "ref/account",
            params={"Code": "800"} if method == "DELETE" else None,
            json=None if method == "DELETE" else account,
        )
        assert response.status_code == 405
        [error] = response.json()
        assert error["ErrorCode"] == 405
        assert "refuses every write to the chart of accounts" in error["Exception"]
    after = (await api.get("ref/account", params={"Limit": "1000"})).json()
    assert after == before


async def test_supplier_create_and_update(api: httpx.AsyncClient) -> None:
    created = await api.post(
        "supplier",
        json={
            "Name": "Zephyr Gaskets LLC",
            "Currency": "EUR",
            "PaymentTerm": "60 days",
            "TaxRule": "Imports 5%",
            "AccountPayable": "800",
            "Contacts": [{"Name": "Ana Lima", "Email": "ana@zephyr.example"}],
        },
    )
    assert created.status_code == 200, created.text
    body = created.json()
    assert list(body) == ["Total", "Page", "SupplierList"]
    assert body["Total"] == 1
    supplier = body["SupplierList"][0]
    contact_id = supplier["Contacts"][0]["ID"]
    updated = await api.put(
        "supplier",
        json={
            "ID": supplier["ID"],
            "Status": "Deprecated",
            "Contacts": [{"ID": contact_id, "Phone": "+49 30 1234"}, {"Name": "Second"}],
        },
    )
    assert updated.status_code == 200
    saved = updated.json()["SupplierList"][0]
    assert saved["Status"] == "Deprecated"
    assert saved["Contacts"][0] == {**supplier["Contacts"][0], "Phone": "+49 30 1234"}
    assert [c["Name"] for c in saved["Contacts"]] == ["Ana Lima", "Second"]
    modified = datetime.fromisoformat(saved["LastModifiedOn"])
    assert modified > datetime.fromisoformat(supplier["LastModifiedOn"])
    since = (
        await api.get(
            "supplier",
            params={"ModifiedSince": supplier["LastModifiedOn"], "IncludeDeprecated": "true"},
        )
    ).json()
    assert [s["ID"] for s in since["SupplierList"]] == [supplier["ID"]]
    hidden = (await api.get("supplier", params={"Name": "Zephyr"})).json()
    assert hidden["Total"] == 0
    bad = await api.post("supplier", json={"Name": "No Currency Ltd"})
    assert bad.status_code == 400
    assert bad.json()[0]["Exception"] == "'Currency' is required"


async def test_malformed_body_answers_500_as_documented(api: httpx.AsyncClient) -> None:
    response = await api.post(
        "purchase", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 500
    assert response.json() == [{"ErrorCode": 500, "Exception": "Body could not be parsed"}]
