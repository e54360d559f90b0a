"""The Cin7 sandbox's seeded data: deterministic, realistic, consistent with the rules."""

from __future__ import annotations

from collections import Counter
from decimal import ROUND_HALF_UP, Decimal

import httpx
import pytest

from ml_connector.sandbox.catalog import cin7_catalog
from ml_connector.sandbox.cin7 import Cin7Sandbox, create_cin7_sandbox


@pytest.fixture(scope="module")
def sandbox() -> Cin7Sandbox:
    return create_cin7_sandbox(seed=7, suppliers=40, purchases=600)


def d(value: object) -> Decimal:
    return Decimal(str(value))


def q4(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)


def details(sandbox: Cin7Sandbox) -> list[dict]:
    state = sandbox.state
    return [state.advanced_doc(p) for p in state.purchases]


async def read_everything(sandbox: Cin7Sandbox) -> list:
    transport = httpx.ASGITransport(app=sandbox.app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://x/ExternalApi/v2/", headers=sandbox.headers
    ) as api:
        out = [
            (await api.get("supplier", params={"Limit": "1000", "IncludeDeprecated": "1"})).json()
        ]
        out.append((await api.get("purchaseList", params={"Limit": "1000"})).json())
        for row in out[-1]["PurchaseList"][:60]:
            path = "purchase" if row["Type"] == "Simple Purchase" else "advanced-purchase"
            out.append((await api.get(path, params={"ID": row["ID"]})).json())
    return out


async def test_same_seed_same_data_other_seed_other_data() -> None:
    one = create_cin7_sandbox(seed=99, suppliers=12, purchases=120, rate_limit=1000)
    two = create_cin7_sandbox(seed=99, suppliers=12, purchases=120, rate_limit=1000)
    other = create_cin7_sandbox(seed=100, suppliers=12, purchases=120, rate_limit=1000)
    assert one.account_id == two.account_id
    assert one.application_key == two.application_key
    assert one.account_id != other.account_id
    assert await read_everything(one) == await read_everything(two)
    assert await read_everything(one) != await read_everything(other)


def test_credentials_can_be_chosen() -> None:
    sandbox = create_cin7_sandbox(
        seed=1, suppliers=2, purchases=3, account_id="acc-1", application_key="key-1"
    )
    assert sandbox.headers == {"api-auth-accountid": "acc-1", "api-auth-applicationkey": "key-1"}
    assert "key-1" not in repr(sandbox)


def test_the_lifecycle_is_covered(sandbox: Cin7Sandbox) -> None:
    rows = [sandbox.state.row(p) for p in sandbox.state.purchases]
    statuses = Counter(r["Status"] for r in rows)
    for status in (
        "ORDERING",
        "ORDERED",
        "RECEIVING",
        "RECEIVED",
        "INVOICED",
        "COMPLETED",
        "VOIDED",
        "CREDITED",
        "PARTIALLY INVOICED",
    ):
        assert statuses[status] > 0, status
    assert statuses["COMPLETED"] > len(rows) / 3
    advanced = sum(r["Type"] == "Advanced Purchase" for r in rows) / len(rows)
    assert 0.15 < advanced < 0.35
    assert {r["SupplierCurrency"] for r in rows} >= {"USD", "EUR", "GBP", "CAD", "AUD"}
    assert Counter(r["SupplierCurrency"] for r in rows).most_common(1)[0][0] == "USD"
    receiving = Counter(r["CombinedReceivingStatus"] for r in rows)
    assert receiving["PARTIALLY RECEIVED"]
    assert receiving["FULLY RECEIVED"]
    assert Counter(r["CombinedPaymentStatus"] for r in rows)["PAID"] > 0
    assert any(r["CreditNoteNumber"] and r["UnstockStatus"] == "AUTHORISED" for r in rows)


def test_invoice_first_purchases_are_invoiced_before_receipt(sandbox: Cin7Sandbox) -> None:
    docs = [doc for doc in details(sandbox) if doc["Approach"] == "INVOICE"]
    held = [
        doc
        for doc in docs
        if any(i["Status"] in ("AUTHORISED", "PAID") for i in doc["Invoice"])
        and doc["CombinedReceivingStatus"] == "NOT RECEIVED"
    ]
    assert held, "some invoice-first purchases are invoiced but not yet received"
    for doc in docs:
        invoice_days = [i["InvoiceDate"] for i in doc["Invoice"] if i["Status"] != "VOIDED"]
        receipt_days = [
            x["Date"] for b in doc["PutAway"] + doc["StockReceived"] for x in b["Lines"]
        ]
        if invoice_days and receipt_days:
            assert min(invoice_days) <= min(receipt_days), doc["OrderNumber"]


def test_stock_first_purchases_are_received_before_the_invoice(sandbox: Cin7Sandbox) -> None:
    for doc in details(sandbox):
        if doc["Approach"] != "STOCK" or not doc["Invoice"]:
            continue
        receipts = [x["Date"] for b in doc["PutAway"] + doc["StockReceived"] for x in b["Lines"]]
        assert receipts
        assert min(receipts) <= min(i["InvoiceDate"] for i in doc["Invoice"])


def test_totals_add_up(sandbox: Cin7Sandbox) -> None:
    for doc in details(sandbox):
        order = doc["Order"]
        for line in order["Lines"]:
            expected = q4(d(line["Quantity"]) * d(line["Price"]) * (1 - d(line["Discount"]) / 100))
            assert d(line["Total"]) == expected, doc["OrderNumber"]
        blocks = [order, *doc["Invoice"]]
        for block in blocks:
            parts = block["Lines"] + block["AdditionalCharges"]
            assert d(block["TotalBeforeTax"]) == sum((d(x["Total"]) for x in parts), Decimal(0))
            assert d(block["Tax"]) == sum((d(x["Tax"]) for x in parts), Decimal(0))
            assert d(block["Total"]) == d(block["TotalBeforeTax"]) + d(block["Tax"])


def test_realistic_details(sandbox: Cin7Sandbox) -> None:
    docs = details(sandbox)
    lines = [x for doc in docs for x in doc["Order"]["Lines"]]
    assert any(x["Discount"] > 0 for x in lines)
    assert {"MTR-0.75KW", "CST-CAL-1", "SAF-KIT-1"} <= {x["SKU"] for x in lines}
    assert {x["SKU"] for x in lines if x["NonInventory"]} == {"CST-CAL-1", "SAF-KIT-1"}
    assert any(doc["Location"] == "Production Floor" for doc in docs)
    catalogue = {p.sku for p in cin7_catalog().products}
    assert {x["SKU"] for x in lines} <= catalogue
    goods = [doc for doc in docs if doc["Type"] != "Service Purchase"]
    charges = [c for doc in goods for i in doc["Invoice"] for c in i["AdditionalCharges"]]
    assert charges
    assert all(c["Account"] == "425" and c["Description"] == "Freight" for c in charges)
    services = [doc for doc in docs if doc["Type"] == "Service Purchase"]
    assert services, "Service purchases: charges only, invoice first"
    for doc in services:
        assert doc["IsServiceOnly"]
        assert doc["Approach"] == "INVOICE"
        assert (doc["Order"]["Lines"], doc["StockReceived"], doc["PutAway"]) == ([], [], [])
        assert doc["Order"]["AdditionalCharges"]
        charged = [c for i in doc["Invoice"] for c in i["AdditionalCharges"]]
        assert all(c["Account"] in {"429", "433", "485"} for c in charged)
    simple_split = [
        doc
        for doc in docs
        if doc["Type"] == "Simple Purchase"
        and doc["StockReceived"]
        and len({x["Date"] for x in doc["StockReceived"][0]["Lines"]}) > 1
    ]
    assert simple_split, "split deliveries: one Simple receipt with several dates"
    assert any(len(doc["PutAway"]) > 1 for doc in docs), "Advanced: several I&R groups"
    advanced_done = [
        doc for doc in docs if doc["Type"] == "Advanced Purchase" and doc["Status"] == "COMPLETED"
    ]
    assert any(b["Status"] == "DRAFT" for doc in advanced_done for b in doc["StockReceived"])
    assert all(b["Status"] == "AUTHORISED" for doc in advanced_done for b in doc["PutAway"])
    numbers = [doc["OrderNumber"] for doc in docs]
    assert numbers == sorted(numbers)
    assert numbers[0] == "PO-00001"


def test_a_past_bulk_touch_left_a_tie(sandbox: Cin7Sandbox) -> None:
    stamps = Counter(p.updated for p in sandbox.state.purchases)
    assert stamps.most_common(1)[0][1] >= 3


def test_dates_are_fixed_by_the_seed_not_today(sandbox: Cin7Sandbox) -> None:
    again = create_cin7_sandbox(seed=7, suppliers=40, purchases=600)
    assert again.state.epoch == sandbox.state.epoch
    assert all(p.updated <= sandbox.state.epoch for p in sandbox.state.purchases)
    assert max(p.order_date for p in sandbox.state.purchases) <= sandbox.state.epoch.date()


async def test_twenty_five_hundred_purchases_page_each_exactly_once() -> None:
    sandbox = create_cin7_sandbox(seed=8, suppliers=40, purchases=2500, rate_limit=100_000)
    transport = httpx.ASGITransport(app=sandbox.app)
    seen: list[str] = []
    async with httpx.AsyncClient(
        transport=transport, base_url="http://x/ExternalApi/v2/", headers=sandbox.headers
    ) as api:
        page = 1
        while True:
            body = (await api.get("purchaseList", params={"Page": page, "Limit": 1000})).json()
            assert body["Total"] == 2500
            seen += [row["ID"] for row in body["PurchaseList"]]
            if len(body["PurchaseList"]) < 1000:
                break
            page += 1
    assert len(seen) == len(set(seen)) == 2500
    assert page == 3
