"""Product types and Service purchases in the Cin7 sandbox, as Cin7 has them (reference §5.5,
§5.7, §6.1): Service and Non Inventory products are ordered and invoiced but never received; a
Service purchase holds additional charges only, is invoice first and has no receiving."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from ml_connector.sandbox.cin7 import Cin7Sandbox, create_cin7_sandbox

DEPRECATED = (
    "This endpoint is deprecated and does not support Advanced Purchase and Service Purchase. "
    "Please use AdvancedPurchase endpoint"
)


@pytest.fixture
def sandbox() -> Cin7Sandbox:
    return create_cin7_sandbox(seed=21, suppliers=8, purchases=0, rate_limit=100_000)


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


async def test_products_have_their_types(api: httpx.AsyncClient) -> None:
    body = (await api.get("product", params={"Limit": 1000})).json()["Products"]
    types = {p["SKU"]: p["Type"] for p in body}
    accounts = {p["SKU"]: (p["InventoryAccount"], p["ExpenseAccount"]) for p in body}

    assert (types["WID-100"], types["CST-CAL-1"], types["SAF-KIT-1"]) == (
        "Stock",
        "Service",
        "Non Inventory",
    )
    assert accounts["CST-CAL-1"] == (None, "429")
    assert accounts["WID-100"] == ("630", None)


async def test_a_service_line_is_invoiced_with_its_account_and_never_received(
    control: httpx.AsyncClient,
) -> None:
    created = await control.post(
        "purchases",
        json={
            "approach": "STOCK",
            "lines": [{"sku": "WID-100", "quantity": 10}, {"sku": "CST-CAL-1", "quantity": 1}],
        },
    )
    pid = created.json()["ID"]
    order = created.json()["Order"]["Lines"]
    refused = await control.post(
        f"purchases/{pid}/receive", json={"lines": [{"sku": "CST-CAL-1", "quantity": 1}]}
    )
    received = await control.post(f"purchases/{pid}/receive", json={})
    invoiced = await control.post(f"purchases/{pid}/invoice", json={"invoice_number": "S-1"})

    assert [line["NonInventory"] for line in order] == [False, True]
    assert refused.status_code == 400
    assert refused.json()[0]["Exception"] == (
        "Product 'CST-CAL-1' is a Service product and cannot be received"
    )
    assert [x["SKU"] for x in received.json()["StockReceived"]["Lines"]] == ["WID-100"]
    doc = invoiced.json()
    assert doc["Status"] == "COMPLETED"
    assert [(x["SKU"], x["Account"], x["NonInventory"]) for x in doc["Invoice"]["Lines"]] == [
        ("WID-100", "630", False),
        ("CST-CAL-1", "429", True),
    ]


async def test_a_service_purchase_is_charges_only_invoice_first_and_never_received(
    api: httpx.AsyncClient, control: httpx.AsyncClient
) -> None:
    with_lines = await control.post(
        "purchases", json={"service": True, "lines": [{"sku": "WID-100", "quantity": 1}]}
    )
    created = await control.post(
        "purchases",
        json={
            "service": True,
            "charges": [{"description": "Calibration visit", "price": 480, "account": "429"}],
        },
    )
    pid = created.json()["ID"]
    receive = await control.post(f"purchases/{pid}/receive", json={})
    invoiced = await control.post(f"purchases/{pid}/invoice", json={"invoice_number": "SVC-9"})
    simple = await api.get("purchase", params={"ID": pid})
    rows = (await api.get("purchaseList", params={"Limit": 1000})).json()["PurchaseList"]

    assert with_lines.json()[0]["Exception"] == (
        "Service Purchase can only contain additional charges"
    )
    assert receive.json()[0]["Exception"] == "Service Purchase has no stock to receive"
    doc = invoiced.json()
    assert (doc["Type"], doc["IsServiceOnly"], doc["Approach"]) == (
        "Service Purchase",
        True,
        "INVOICE",
    )
    assert (doc["Order"]["Lines"], doc["StockReceived"], doc["PutAway"]) == ([], [], [])
    [invoice] = doc["Invoice"]
    assert invoice["Lines"] == []
    assert [(c["Description"], c["Account"]) for c in invoice["AdditionalCharges"]] == [
        ("Calibration visit", "429")
    ]
    assert (doc["Status"], doc["CombinedReceivingStatus"]) == ("INVOICED", "NOT AVAILABLE")
    assert simple.status_code == 400
    assert simple.json()[0]["Exception"] == DEPRECATED
    [row] = [r for r in rows if r["ID"] == pid]
    assert (row["Type"], row["IsServiceOnly"], row["InvoiceNumber"]) == (
        "Service Purchase",
        True,
        "SVC-9",
    )
