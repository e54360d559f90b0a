"""Planted bad input in the Cin7 sandbox: rows, details and detail errors, then the correction."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from ml_connector.sandbox.cin7 import Cin7Sandbox, Cin7SandboxError, create_cin7_sandbox
from ml_connector.sandbox.cin7.tamper import Op, Tampering

API = "/ExternalApi/v2"


@pytest.fixture
def sandbox() -> Cin7Sandbox:
    return create_cin7_sandbox(seed=4, suppliers=5, purchases=0, rate_limit=100_000)


@pytest.fixture
async def http(sandbox: Cin7Sandbox) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=sandbox.app),
        base_url="http://cin7.test",
        headers=sandbox.headers,
    ) as client:
        yield client


def _purchase(sandbox: Cin7Sandbox) -> str:
    doc = sandbox.state.create_purchase("STOCK", [{"sku": "WID-100", "quantity": 10}])
    return str(doc["ID"])


async def _row(http: httpx.AsyncClient, purchase_id: str) -> dict[str, object]:
    rows = (await http.get(f"{API}/purchaseList")).json()["PurchaseList"]
    [row] = [r for r in rows if r["ID"] == purchase_id]
    return dict(row)


def test_ops_follow_json_pointers_into_objects_and_arrays() -> None:
    doc = {"Order": {"Lines": [{"Quantity": 1}, {"Quantity": 2}]}, "a/b": 0}
    assert Op.parse({"op": "replace", "path": "/Order/Lines/1/Quantity", "value": -5}).apply(
        doc
    ) == {"Order": {"Lines": [{"Quantity": 1}, {"Quantity": -5}]}, "a/b": 0}
    appended = Op.parse({"op": "add", "path": "/Order/Lines/-", "value": {"Quantity": 3}})
    assert appended.apply(doc)["Order"]["Lines"][-1] == {"Quantity": 3}
    assert "a/b" not in Op.parse({"op": "remove", "path": "/a~1b"}).apply(doc)
    assert Op.parse({"op": "replace", "path": "", "value": [1]}).apply(doc) == [1]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "nothing to tamper"),
        ({"rows": []}, "unknown tamper field"),
        ({"row": [{"op": "move", "path": "/ID"}]}, "should be one of"),
        ({"row": [{"op": "replace", "path": "ID", "value": 1}]}, "JSON pointer"),
        ({"row": [{"op": "replace", "path": "/ID"}]}, "needs a value"),
        ({"detail_error": {"status": 200}}, "4xx or 5xx"),
    ],
)
def test_a_malformed_tampering_is_refused(body: dict[str, object], message: str) -> None:
    with pytest.raises(Cin7SandboxError, match=message):
        Tampering.parse(body)


async def test_a_planted_row_is_served_in_the_list_with_a_new_stamp(
    sandbox: Cin7Sandbox, http: httpx.AsyncClient
) -> None:
    pid = _purchase(sandbox)
    before = await _row(http, pid)
    answer = await http.post(
        f"/_sandbox/purchases/{pid}/tamper",
        json={"row": [{"op": "replace", "path": "/OrderDate", "value": "19/12/2025"}]},
    )
    assert answer.status_code == 200, answer.text
    after = await _row(http, pid)
    assert after["OrderDate"] == "19/12/2025"
    assert str(after["LastUpdatedDate"]) > str(before["LastUpdatedDate"])
    since = {"UpdatedSince": str(before["LastUpdatedDate"])}
    listed = (await http.get(f"{API}/purchaseList", params=since)).json()["PurchaseList"]
    assert [r["ID"] for r in listed] == [pid]
    truth = (await http.get(f"/_sandbox/purchases/{pid}")).json()
    assert truth["OrderDate"] != "19/12/2025", "the sandbox's own view stays the truth"
    planted = (await http.get("/_sandbox/tampered")).json()
    assert planted[pid]["row"] == [{"op": "replace", "path": "/OrderDate", "value": "19/12/2025"}]


async def test_a_planted_detail_shows_later_changes_through(
    sandbox: Cin7Sandbox, http: httpx.AsyncClient
) -> None:
    pid = _purchase(sandbox)
    sandbox.state.tamper(
        pid, {"detail": [{"op": "replace", "path": "/Order/Lines/0/Price", "value": -3}]}
    )
    sandbox.state.receive(pid)
    detail = (await http.get(f"{API}/purchase", params={"ID": pid})).json()
    assert detail["Order"]["Lines"][0]["Price"] == -3
    assert detail["StockReceived"]["Status"] == "AUTHORISED"
    sandbox.state.convert(pid)
    advanced = (await http.get(f"{API}/advanced-purchase", params={"ID": pid})).json()
    assert advanced["Order"]["Lines"][0]["Price"] == -3


async def test_a_planted_detail_error_answers_as_cin7_then_untamper_heals_it(
    sandbox: Cin7Sandbox, http: httpx.AsyncClient
) -> None:
    pid = _purchase(sandbox)
    await http.post(
        f"/_sandbox/purchases/{pid}/tamper",
        json={"detail_error": {"status": 400, "message": "Purchase with specified ID not found"}},
    )
    refused = await http.get(f"{API}/purchase", params={"ID": pid})
    assert refused.status_code == 400
    assert refused.json() == [
        {"ErrorCode": 400, "Exception": "Purchase with specified ID not found"}
    ]
    stamp = (await _row(http, pid))["LastUpdatedDate"]
    healed = await http.post(f"/_sandbox/purchases/{pid}/untamper")
    assert healed.status_code == 200
    assert (await http.get(f"{API}/purchase", params={"ID": pid})).status_code == 200
    assert str((await _row(http, pid))["LastUpdatedDate"]) > str(stamp)
    again = await http.post(f"/_sandbox/purchases/{pid}/untamper")
    assert again.status_code == 404
    assert (await http.get("/_sandbox/tampered")).json() == {}


async def test_a_path_that_does_not_exist_is_refused_when_served(
    sandbox: Cin7Sandbox, http: httpx.AsyncClient
) -> None:
    pid = _purchase(sandbox)
    sandbox.state.tamper(pid, {"detail": [{"op": "remove", "path": "/Order/Lines/7"}]})
    answer = await http.get(f"{API}/purchase", params={"ID": pid})
    assert answer.status_code == 400
    assert "no array element 7" in answer.json()[0]["Exception"]
