"""The Cin7 sandbox's ledger: what QAD should hold, from the sandbox's own books."""

from __future__ import annotations

import httpx

from ml_connector.sandbox.cin7 import create_cin7_sandbox


async def test_the_ledger_follows_the_books_not_what_the_api_serves() -> None:
    sandbox = create_cin7_sandbox(seed=4, suppliers=5, purchases=0, rate_limit=100_000)
    state = sandbox.state
    simple = state.create_purchase(
        "STOCK", [{"sku": "WID-100", "quantity": 10}, {"sku": "BRK-20", "quantity": 4}]
    )
    state.receive(simple["ID"], [{"sku": "WID-100", "quantity": 6}], date="2026-03-02")
    advanced = state.create_purchase("STOCK", [{"sku": "NUT-M8", "quantity": 5}], advanced=True)
    state.receive(advanced["ID"])
    state.invoice(advanced["ID"], "ADV-1")
    state.credit(advanced["ID"], [{"sku": "NUT-M8", "quantity": 2}], "CR-ADV-1")
    state.tamper(simple["ID"], {"detail": [{"op": "replace", "path": "/ID", "value": "x"}]})

    transport = httpx.ASGITransport(app=sandbox.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://cin7.test") as http:
        ledger = (await http.get("/_sandbox/ledger")).json()

    first, second = ledger
    assert first["order_number"] == simple["OrderNumber"]
    assert first["ordered"] == {"BRK-20": "4", "WID-100": "10"}
    assert first["received"] == {"WID-100": "6"}
    assert [i["status"] for i in first["invoices"]] == ["DRAFT"]
    assert first["tampered"] is True
    assert second["type"] == "Advanced Purchase"
    assert second["received"] == {"NUT-M8": "3"}, "authorised unstock gives stock back"
    [invoice] = second["invoices"]
    assert (invoice["number"], invoice["status"]) == ("ADV-1", "AUTHORISED")
    assert invoice["quantities"] == {"NUT-M8": "5"}
    [note] = second["credit_notes"]
    assert note["number"] == "CR-ADV-1"
    assert note["unstocked"] == {"NUT-M8": "2"}
    assert second["tampered"] is False
