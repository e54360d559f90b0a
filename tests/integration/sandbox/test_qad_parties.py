"""QAD sandbox: business relations, suppliers, items and GL accounts over REST."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from ml_connector.sandbox.qad import QadSandbox


async def submit(
    qad: httpx.AsyncClient, path: str, key: str, record: dict[str, Any]
) -> dict[str, Any]:
    answer = await qad.post(f"/api/erp/{path}", json={"supplementaryMessages": [], key: [record]})
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def relation(code: str = "BR-ACME", **changes: Any) -> dict[str, Any]:
    return {
        "businessRelationCode": code,
        "name": "Acme Fasteners Ltd",
        "addressStreet1": "1 Main St",
        "city": "Springfield",
        "state": "IL",
        "zip": "62701",
        "country": "US",
        "email": "ap@acme.test",
        "phone": "555-0100",
        "isActive": True,
        "dataOperation": "C",
        "concurrencyHash": "",
        **changes,
    }


def supplier(code: str = "S0001", **changes: Any) -> dict[str, Any]:
    return {
        "sharedSetCode": "10USA",
        "supplierCode": code,
        "businessRelationCode": "BR-ACME",
        "name": "Acme Fasteners",
        "isActive": True,
        "currencyCode": "USD",
        "creditTermsCode": "N30",
        "invoiceStatusCode": "AP-INITIAL",
        "taxClass": "PT825",
        "dataOperation": "C",
        "concurrencyHash": "",
        **changes,
    }


def errors(body: dict[str, Any]) -> list[tuple[str, str]]:
    return [(e["fieldName"], e["message"]) for e in body["submitResult"]["errors"]]


async def test_business_relation_then_supplier_are_created_and_read_back(
    qad: httpx.AsyncClient, sandbox: QadSandbox
) -> None:
    created = await submit(qad, "businessRelationV2s", "businessRelationV2s", relation())
    assert created["submitResult"] == {"success": True, "errorSeverity": 0, "errors": []}
    saved = await submit(qad, "supplierV2s", "supplierV2s", supplier())
    assert saved["submitResult"]["success"] is True
    record = saved["data"]["supplierV2s"][0]
    assert record["supplierCode"] == "S0001"
    assert record["concurrencyHash"]

    read = await qad.get(
        "/api/erp/supplierV2s",
        params={"domainCode": "", "sharedSetCode": "10USA", "supplierCode": "S0001"},
    )
    assert read.json()["data"]["supplierV2s"][0]["currencyCode"] == "USD"
    missing = await qad.get("/api/erp/supplierV2s", params={"supplierCode": "NOPE"})
    assert missing.json() == {"data": {"supplierV2s": []}}
    assert sandbox.tenant("acme").state()["suppliers"] == [
        {"supplierCode": "S0001", "name": "Acme Fasteners", "currencyCode": "USD"}
    ]


async def test_business_relation_code_longer_than_20_is_refused(qad: httpx.AsyncClient) -> None:
    body = await submit(qad, "businessRelationV2s", "businessRelationV2s", relation("B" * 21))
    assert body["submitResult"]["success"] is False
    assert body["submitResult"]["errorSeverity"] == 1
    assert errors(body)[0][0] == "businessRelationCode"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"businessRelationCode": "NO-SUCH-BR"}, "businessRelationCode"),
        ({"currencyCode": "XYZ"}, "currencyCode"),
        ({"creditTermsCode": "N999"}, "creditTermsCode"),
        ({"invoiceStatusCode": "AP-BOGUS"}, "invoiceStatusCode"),
        ({"taxClass": "NOTAX"}, "taxClass"),
        ({"supplierCode": "TOOLONG99"}, "supplierCode"),
        ({"currencyCode": ""}, "currencyCode"),
    ],
)
async def test_supplier_validation_refuses_in_http_200(
    qad: httpx.AsyncClient, sandbox: QadSandbox, changes: dict[str, Any], field: str
) -> None:
    await submit(qad, "businessRelationV2s", "businessRelationV2s", relation())
    body = await submit(qad, "supplierV2s", "supplierV2s", supplier(**changes))
    result = body["submitResult"]
    assert result["success"] is False
    assert result["errorSeverity"] == 1
    assert [e["fieldName"] for e in result["errors"]] == [field]
    assert all(e["severity"] == 1 for e in result["errors"])
    assert sandbox.tenant("acme").suppliers == {}


async def test_duplicate_supplier_answers_already_exists(qad: httpx.AsyncClient) -> None:
    await submit(qad, "businessRelationV2s", "businessRelationV2s", relation())
    await submit(qad, "supplierV2s", "supplierV2s", supplier())
    again = await submit(qad, "supplierV2s", "supplierV2s", supplier(name="Other"))
    result = again["submitResult"]
    assert result["success"] is False
    assert result["errors"][0]["code"] == "2040"
    assert "already exists" in result["errors"][0]["message"]
    dup_relation = await submit(qad, "businessRelationV2s", "businessRelationV2s", relation())
    assert "already exists" in dup_relation["submitResult"]["errors"][0]["message"]


async def test_supplier_update_recomputes_the_hash_and_refuses_a_stale_one(
    qad: httpx.AsyncClient,
) -> None:
    await submit(qad, "businessRelationV2s", "businessRelationV2s", relation())
    created = (await submit(qad, "supplierV2s", "supplierV2s", supplier()))["data"]["supplierV2s"][
        0
    ]
    first_hash = created["concurrencyHash"]
    updated = await submit(
        qad, "supplierV2s", "supplierV2s", created | {"name": "Acme Renamed", "dataOperation": "U"}
    )
    assert updated["submitResult"]["success"] is True
    new = updated["data"]["supplierV2s"][0]
    assert new["name"] == "Acme Renamed"
    assert new["concurrencyHash"] != first_hash
    stale = await submit(
        qad, "supplierV2s", "supplierV2s", created | {"name": "Lost Update", "dataOperation": "U"}
    )
    assert stale["submitResult"]["success"] is False
    assert (
        stale["submitResult"]["errors"][0]["message"] == "Record has been changed by another user"
    )
    read = await qad.get("/api/erp/supplierV2s", params={"supplierCode": "S0001"})
    assert read.json()["data"]["supplierV2s"][0]["name"] == "Acme Renamed"


async def test_update_of_a_missing_supplier_is_refused(qad: httpx.AsyncClient) -> None:
    body = await submit(qad, "supplierV2s", "supplierV2s", supplier(dataOperation="U"))
    assert body["submitResult"]["success"] is False


async def test_items_read_and_create(qad: httpx.AsyncClient, sandbox: QadSandbox) -> None:
    read = await qad.get("/api/erp/items", params={"domainCode": "10USA", "itemCode": "CBL050"})
    item = read.json()["data"]["items"][0]
    assert item["unitOfMeasure"] == "PA"
    assert item["glAccount"] == "630"
    assert (await qad.get("/api/erp/items", params={"itemCode": "CBL-050"})).json() == {
        "data": {"items": []}
    }
    new = {
        "domainCode": "10USA",
        "itemCode": "MTR-0.75KW",
        "description": "Electric Motor 0.75kW",
        "unitOfMeasure": "EA",
        "productLine": "ELEC",
        "glAccount": "630",
        "unitCost": 289,
        "itemStatus": "ACTIVE",
        "dataOperation": "C",
    }
    created = await submit(qad, "items", "items", new)
    assert created["submitResult"]["success"] is True
    assert "MTR-0.75KW" in sandbox.tenant("acme").items
    again = await submit(qad, "items", "items", new)
    assert again["submitResult"]["errors"][0]["code"] == "2040"
    bad = await submit(qad, "items", "items", new | {"itemCode": "X1", "glAccount": "9999"})
    assert bad["submitResult"]["success"] is False
    assert bad["submitResult"]["errors"][0]["fieldName"] == "glAccount"


async def test_gl_accounts_carry_their_analysis_requirements(qad: httpx.AsyncClient) -> None:
    everything = (await qad.get("/api/erp/glAccounts")).json()["data"]["glAccounts"]
    codes = {a["glCode"] for a in everything}
    assert {"630", "4250", "6320", "473", "720"} <= codes
    assert not {"425", "461", "090"} & codes
    repairs = (await qad.get("/api/erp/glAccounts", params={"glCode": "473"})).json()
    assert repairs["data"]["glAccounts"] == [
        {
            "glCode": "473",
            "description": "Repairs and Maintenance",
            "glType": "EXPENSE",
            "requiresSubAccount": False,
            "requiresCostCentre": True,
            "isActive": True,
        }
    ]
    plant = (await qad.get("/api/erp/glAccounts", params={"glCode": "720"})).json()
    assert plant["data"]["glAccounts"][0]["requiresSubAccount"] is True


async def test_malformed_write_bodies_are_400(qad: httpx.AsyncClient) -> None:
    not_json = await qad.post("/api/erp/supplierV2s", content=b"{nope")
    assert not_json.status_code == 400
    wrong_key = await qad.post("/api/erp/supplierV2s", json={"suppliers": []})
    assert wrong_key.status_code == 400
    assert wrong_key.json()["errors"][0]["code"] == "400"


async def test_unknown_route_is_404_and_wrong_method_500(qad: httpx.AsyncClient) -> None:
    assert (await qad.get("/api/erp/nothingHere")).status_code == 404
    wrong = await qad.get("/api/erp/purchaseOrderLines/fieldChangeV2")
    assert wrong.status_code == 500
    assert wrong.json()["errors"][0]["code"] == "500"
