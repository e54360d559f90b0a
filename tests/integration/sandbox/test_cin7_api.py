"""The Cin7 sandbox's read API over raw HTTP: auth, paging, ordering, filters, shapes, formats."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import httpx
import pytest

from ml_connector.sandbox.cin7 import Cin7Sandbox, create_cin7_sandbox

GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
UPPER_GUID = re.compile(r"^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$")
TRIMMED_STAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{0,2}[1-9])?$")
MIDNIGHT = re.compile(r"^\d{4}-\d{2}-\d{2}T00:00:00$")
DEPRECATED = (
    "This endpoint is deprecated and does not support Advanced Purchase and Service Purchase. "
    "Please use AdvancedPurchase endpoint"
)


@pytest.fixture(scope="module")
def sandbox() -> Cin7Sandbox:
    return create_cin7_sandbox(seed=11, suppliers=30, purchases=250, rate_limit=100_000)


@pytest.fixture
async def api(sandbox: Cin7Sandbox) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=sandbox.app),
        base_url="http://cin7.test/ExternalApi/v2/",
        headers=sandbox.headers,
    ) as client:
        yield client


async def all_rows(api: httpx.AsyncClient, **params: str) -> list[dict]:
    response = await api.get("purchaseList", params={"Limit": "1000", **params})
    assert response.status_code == 200
    body = response.json()
    assert body["Total"] == len(body["PurchaseList"])
    return body["PurchaseList"]


def stamp_of(text: str) -> datetime:
    return datetime.fromisoformat(text)


async def test_both_auth_headers_are_required(sandbox: Cin7Sandbox) -> None:
    transport = httpx.ASGITransport(app=sandbox.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://cin7.test") as client:
        cases = [
            {},
            {"api-auth-accountid": sandbox.account_id},
            {"api-auth-applicationkey": sandbox.application_key},
            {"api-auth-accountid": sandbox.account_id, "api-auth-applicationkey": "wrong"},
            {"api-auth-accountid": "wrong", "api-auth-applicationkey": sandbox.application_key},
        ]
        for headers in cases:
            response = await client.get("/ExternalApi/v2/me", headers=headers)
            assert response.status_code == 403
            assert response.json() == [
                {"ErrorCode": 403, "Exception": "Method authentication failed"}
            ]
        ok = await client.get("/ExternalApi/v2/me", headers=sandbox.headers)
        assert ok.status_code == 200
        assert ok.json()["Company"]


async def test_paths_are_case_insensitive(sandbox: Cin7Sandbox) -> None:
    transport = httpx.ASGITransport(app=sandbox.app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://cin7.test", headers=sandbox.headers
    ) as client:
        for path in (
            "/ExternalApi/v2/purchaseList",
            "/externalapi/v2/purchaselist",
            "/EXTERNALAPI/V2/PURCHASELIST/",
        ):
            response = await client.get(path, params={"limit": "3"})
            assert response.status_code == 200
            assert len(response.json()["PurchaseList"]) == 3
        missing = await client.get("/ExternalApi/v2/Purchases")
        assert missing.status_code == 404
        assert missing.json()[0]["ErrorCode"] == 404


async def test_paging_total_and_empty_page_past_the_end(api: httpx.AsyncClient) -> None:
    first = (await api.get("purchaseList", params={"Page": "1", "Limit": "100"})).json()
    assert list(first) == ["Total", "Page", "PurchaseList"]
    assert first["Total"] == 250
    assert first["Page"] == 1
    assert len(first["PurchaseList"]) == 100
    third = (await api.get("purchaseList", params={"page": "3", "limit": "100"})).json()
    assert third["Page"] == 3
    assert len(third["PurchaseList"]) == 50
    past = (await api.get("purchaseList", params={"Page": "4", "Limit": "100"})).json()
    assert past == {"Total": 250, "Page": 4, "PurchaseList": []}
    default = (await api.get("purchaseList")).json()
    assert len(default["PurchaseList"]) == 100


async def test_limit_is_clamped_to_one_and_a_thousand(api: httpx.AsyncClient) -> None:
    zero = (await api.get("purchaseList", params={"Limit": "0"})).json()
    assert len(zero["PurchaseList"]) == 1
    big = create_cin7_sandbox(seed=3, suppliers=5, purchases=1200, rate_limit=1000)
    transport = httpx.ASGITransport(app=big.app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://x/ExternalApi/v2/", headers=big.headers
    ) as client:
        body = (await client.get("purchaseList", params={"Limit": "5000"})).json()
        assert body["Total"] == 1200
        assert len(body["PurchaseList"]) == 1000


async def test_every_page_holds_each_purchase_once_in_order_number_order(
    api: httpx.AsyncClient,
) -> None:
    seen = []
    for number in range(1, 5):
        page = (await api.get("purchaseList", params={"Page": str(number), "Limit": "70"})).json()
        seen += [row["OrderNumber"] for row in page["PurchaseList"]]
    assert seen == [f"PO-{n:05d}" for n in range(1, 251)]
    moments = [stamp_of(row["LastUpdatedDate"]) for row in await all_rows(api)]
    assert moments != sorted(moments), "the list is by OrderNumber, not by LastUpdatedDate"


async def test_updated_since_is_strictly_after_in_any_client_format(
    api: httpx.AsyncClient,
) -> None:
    rows = await all_rows(api)
    pivot = sorted(rows, key=lambda r: stamp_of(r["LastUpdatedDate"]))[len(rows) // 2]
    text = pivot["LastUpdatedDate"]
    moment = stamp_of(text)
    expected = {r["ID"] for r in rows if stamp_of(r["LastUpdatedDate"]) > moment}
    seven = moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond:06d}0"
    for variant in (text, text + "Z", seven, seven + "Z", moment.isoformat() + "+00:00"):
        got = {r["ID"] for r in await all_rows(api, UpdatedSince=variant)}
        assert got == expected, variant
        assert pivot["ID"] not in got
    just_before = (moment - timedelta(milliseconds=1)).isoformat(timespec="milliseconds")
    assert pivot["ID"] in {r["ID"] for r in await all_rows(api, updatedsince=just_before)}
    bad = await api.get("purchaseList", params={"UpdatedSince": "yesterday"})
    assert bad.status_code == 400


async def test_status_filters_take_one_value_and_the_misspelt_one_is_ignored(
    api: httpx.AsyncClient,
) -> None:
    rows = await all_rows(api)
    not_available = [r for r in rows if r["StockReceivedStatus"] == "NOT AVAILABLE"]
    assert 0 < len(not_available) < len(rows)
    filtered = await all_rows(api, StockReceivedStatus="NOT AVAILABLE")
    assert [r["ID"] for r in filtered] == [r["ID"] for r in not_available]
    ignored = await all_rows(api, RestockReceivedStatus="NOT AVAILABLE")
    assert len(ignored) == len(rows)
    completed = await all_rows(api, Status="COMPLETED")
    assert completed
    assert all(r["Status"] == "COMPLETED" for r in completed)
    assert await all_rows(api, Status="COMPLETED,INVOICED") == []
    both = await all_rows(api, Status="COMPLETED", Type="Advanced Purchase")
    assert len(both) == len(completed), "Type is not a filter: ignored"
    invoiced = await all_rows(api, InvoiceStatus="AUTHORISED", OrderStatus="AUTHORISED")
    assert all(r["InvoiceStatus"] == "AUTHORISED" for r in invoiced)


async def test_search_matches_substrings_and_unknown_params_are_ignored(
    api: httpx.AsyncClient,
) -> None:
    rows = await all_rows(api)
    supplier = rows[0]["Supplier"]
    found = await all_rows(api, Search=supplier.split()[0].lower())
    assert rows[0]["ID"] in {r["ID"] for r in found}
    assert all(
        supplier.split()[0].lower()
        in (
            r["Supplier"]
            + r["OrderNumber"]
            + r["Status"]
            + r["InvoiceNumber"]
            + r["CreditNoteNumber"]
        ).lower()
        for r in found
    )
    assert [r["ID"] for r in await all_rows(api, Search="PO-00042")] == [rows[41]["ID"]]
    assert len(await all_rows(api, Bogus="1", IncludeEverything="yes")) == len(rows)


async def test_supplier_list_hides_deprecated_and_honours_modified_since(
    api: httpx.AsyncClient, sandbox: Cin7Sandbox
) -> None:
    active = (await api.get("supplier", params={"Limit": "1000"})).json()
    every = (
        await api.get("supplier", params={"Limit": "1000", "IncludeDeprecated": "true"})
    ).json()
    assert list(active) == ["Total", "Page", "SupplierList"]
    assert all(s["Status"] == "Active" for s in active["SupplierList"])
    assert every["Total"] == 30 > active["Total"]
    # trimmed fractions do not sort as strings (".1Z" > ".101Z"): compare instants
    stamps = sorted((s["LastModifiedOn"] for s in every["SupplierList"]), key=stamp_of)
    pivot = stamps[len(stamps) // 2]
    since = (
        await api.get(
            "supplier",
            params={"Limit": "1000", "IncludeDeprecated": "true", "ModifiedSince": pivot},
        )
    ).json()["SupplierList"]
    assert {s["LastModifiedOn"] for s in since} == {
        s for s in stamps if stamp_of(s) > stamp_of(pivot)
    }
    named = (
        await api.get("supplier", params={"Name": every["SupplierList"][0]["Name"][:4]})
    ).json()
    assert named["SupplierList"]
    assert all(
        s["Name"].startswith(every["SupplierList"][0]["Name"][:4]) for s in named["SupplierList"]
    )


async def test_supplier_shape(api: httpx.AsyncClient) -> None:
    body = (await api.get("supplier", params={"Limit": "1000"})).json()
    for s in body["SupplierList"]:
        assert GUID.match(s["ID"])
        assert s["AccountPayable"] == "800"
        assert s["Currency"] in {"USD", "EUR", "GBP", "CAD", "AUD"}
        assert s["PaymentTerm"] in {
            "30 days",
            "60 days",
            "7 days",
            "2%10 Net30",
            "20th of next month",
        }
        assert s["TaxRule"] in {"Tax Exempt", "Purchase Tax 8.25%", "Imports 5%"}
        assert s["LastModifiedOn"].endswith("Z")
        assert all(GUID.match(a["ID"]) for a in s["Addresses"])
        assert all(GUID.match(c["ID"]) for c in s["Contacts"])
        assert "AdditionalAttribute10" in s
    assert any(s["Addresses"] for s in body["SupplierList"])
    assert any(s["Contacts"] for s in body["SupplierList"])


async def test_reference_lists_use_the_documented_keys(api: httpx.AsyncClient) -> None:
    keys = {
        "ref/account": "AccountsList",
        "product": "Products",
        "ref/tax": "TaxRuleList",
        "ref/location": "LocationList",
        "ref/paymentterm": "PaymentTermList",
    }
    for path, key in keys.items():
        body = (await api.get(path, params={"Limit": "1000"})).json()
        assert list(body) == ["Total", "Page", key], path
        assert body["Total"] == len(body[key]) > 0
    accounts = (await api.get("ref/account", params={"Limit": "1000"})).json()["AccountsList"]
    assert {a["Code"] for a in accounts} >= {"800", "425", "630", "_109_"}
    assert next(a for a in accounts if a["Code"] == "800")["DisplayName"] == "800: Accounts Payable"
    one = (await api.get("ref/account", params={"Code": "425"})).json()
    assert [a["Name"] for a in one["AccountsList"]] == ["Freight & Courier"]


async def test_products_filters_and_modified_since(api: httpx.AsyncClient) -> None:
    body = (await api.get("product", params={"Limit": "1000"})).json()["Products"]
    assert {"MTR-0.75KW", "CST-CAL-1", "WID-100"} <= {p["SKU"] for p in body}
    stamps = sorted((p["LastModifiedOn"] for p in body), key=stamp_of)
    pivot = stamps[10]
    since = (await api.get("product", params={"Limit": "1000", "ModifiedSince": pivot})).json()
    assert since["Total"] == len([s for s in stamps if stamp_of(s) > stamp_of(pivot)])
    sku = (await api.get("product", params={"Sku": "BRK", "Limit": "100"})).json()["Products"]
    assert {p["SKU"] for p in sku} == {"BRK-20", "BRK-40"}
    with_suppliers = (
        await api.get("product", params={"Sku": "WID-100", "IncludeSuppliers": "true"})
    ).json()["Products"][0]
    assert isinstance(with_suppliers["Suppliers"], list)


async def test_upper_case_guids_in_bins_and_tax_components_only(api: httpx.AsyncClient) -> None:
    locations = (await api.get("ref/location")).json()["LocationList"]
    main = next(loc for loc in locations if loc["Name"] == "Main Warehouse")
    assert GUID.match(main["ID"])
    assert main["ParentID"] is None
    assert [b["Name"] for b in main["Bins"]] == ["A-01", "A-02", "B-01"]
    assert all(UPPER_GUID.match(b["ID"]) for b in main["Bins"])
    bin_rows = [loc for loc in locations if loc["ParentID"] == main["ID"]]
    assert {row["ID"] for row in bin_rows} == {b["ID"] for b in main["Bins"]}
    assert all(row["AddressLine1"] == "" for row in bin_rows)
    taxes = (await api.get("ref/tax")).json()["TaxRuleList"]
    for rule in taxes:
        assert GUID.match(rule["ID"])
        assert all(UPPER_GUID.match(c["ID"]) for c in rule["Components"])
    imports = next(r for r in taxes if r["Name"] == "Imports 5%")
    assert imports["TaxPercent"] == 5
    assert imports["Components"][0]["Percent"] == "5.0000000000"


async def test_formats_as_seen_live(api: httpx.AsyncClient, sandbox: Cin7Sandbox) -> None:
    rows = await all_rows(api)
    stamps = [r["LastUpdatedDate"] for r in rows]
    assert all(TRIMMED_STAMP.match(s) for s in stamps), "no Z, trailing zeros trimmed"
    assert any(re.search(r"\.\d{1,2}$", s) for s in stamps), "some fractions are trimmed"
    for row in rows:
        assert GUID.match(row["ID"])
        assert GUID.match(row["SupplierID"])
        for field in ("OrderDate", "InvoiceDate", "InvoiceDueDate", "RequiredBy"):
            assert row[field] is None or MIDNIGHT.match(row[field])
        assert isinstance(row["InvoiceAmount"], int | float)
    simple = next(r for r in rows if r["Type"] == "Simple Purchase" and r["Status"] == "COMPLETED")
    doc = (await api.get("purchase", params={"ID": simple["ID"]})).json()
    assert TRIMMED_STAMP.match(doc["LastUpdatedDate"])
    assert doc["LastUpdatedDate"] == simple["LastUpdatedDate"]
    for line in doc["StockReceived"]["Lines"]:
        assert MIDNIGHT.match(line["Date"])
        assert GUID.match(line["CardID"])
    for line in doc["Order"]["Lines"]:
        assert isinstance(line["Quantity"], int | float)
        assert isinstance(line["Total"], int | float)


async def test_simple_purchase_has_object_sub_documents(
    api: httpx.AsyncClient, sandbox: Cin7Sandbox
) -> None:
    rows = await all_rows(api, Status="COMPLETED")
    simple = next(r for r in rows if r["Type"] == "Simple Purchase")
    doc = (await api.get("purchase", params={"ID": simple["ID"]})).json()
    for key in ("Order", "StockReceived", "Invoice", "CreditNote", "ManualJournals"):
        assert isinstance(doc[key], dict), key
    assert isinstance(doc["CreditNote"]["Unstock"], dict)
    assert doc["Invoice"]["Status"] in ("AUTHORISED", "PAID")
    assert doc["Invoice"]["InvoiceNumber"]
    assert "PutAway" not in doc
    dims = {
        "ProductLength",
        "ProductWidth",
        "ProductHeight",
        "ProductWeight",
        "WeightUnits",
        "DimensionsUnits",
        "ProductCustomField1",
        "ProductCustomField10",
    }
    lines = doc["Order"]["Lines"] + doc["StockReceived"]["Lines"] + doc["Invoice"]["Lines"]
    assert lines
    assert all(dims <= set(line) for line in lines if line.get("ProductID"))
    for charge in doc["Invoice"]["AdditionalCharges"]:
        assert charge["Account"] == "425"
        assert "ProductID" not in charge


async def test_advanced_purchase_has_task_block_arrays_and_purchase_refuses_it(
    api: httpx.AsyncClient,
) -> None:
    rows = await all_rows(api, Status="COMPLETED")
    advanced = next(r for r in rows if r["Type"] == "Advanced Purchase")
    refused = await api.get("purchase", params={"ID": advanced["ID"]})
    assert refused.status_code == 400
    assert refused.json() == [{"ErrorCode": 400, "Exception": DEPRECATED}]
    doc = (await api.get("advanced-purchase", params={"ID": advanced["ID"]})).json()
    assert doc["Type"] == "Advanced Purchase"
    assert doc["CombinedReceivingStatus"] == "FULLY RECEIVED"
    assert isinstance(doc["Order"], dict)
    for key in ("StockReceived", "PutAway", "Invoice", "CreditNote", "ManualJournals"):
        assert isinstance(doc[key], list), key
    assert doc["PutAway"]
    assert all(b["Status"] == "AUTHORISED" for b in doc["PutAway"])
    for block in doc["PutAway"] + doc["Invoice"]:
        assert GUID.match(block["TaskID"])
        assert isinstance(block["InvoicingAndReceivingNumber"], int)
    put_lines = [line for b in doc["PutAway"] for line in b["Lines"]]
    assert all(line["LocationID"] for line in put_lines)
    sr_lines = [line for b in doc["StockReceived"] for line in b["Lines"]]
    assert all(line["Location"] is None for line in sr_lines)
    task = doc["PutAway"][0]["TaskID"]
    wrong = await api.get("advanced-purchase", params={"ID": task})
    assert wrong.status_code == 400
    assert wrong.json()[0]["Exception"] == "Purchase Task with specified ID not found"


async def test_advanced_endpoint_answers_a_simple_purchase_with_arrays(
    api: httpx.AsyncClient,
) -> None:
    rows = await all_rows(api, Status="COMPLETED")
    simple = next(r for r in rows if r["Type"] == "Simple Purchase")
    doc = (await api.get("advanced-purchase", params={"ID": simple["ID"]})).json()
    assert doc["Type"] == "Simple Purchase"
    assert isinstance(doc["StockReceived"], list)
    assert len(doc["StockReceived"]) == 1
    assert doc["StockReceived"][0]["TaskID"] == simple["ID"]
    assert doc["PutAway"] == []
    assert isinstance(doc["Invoice"], list)
    assert len(doc["Invoice"]) == 1


async def test_methods_not_served_answer_405(api: httpx.AsyncClient) -> None:
    response = await api.delete("purchaseList")
    assert response.status_code == 405
    assert response.json()[0]["ErrorCode"] == 405
    no_id = await api.get("purchase")
    assert no_id.status_code == 400
