"""The console's changes over HTTP: fix a mapping from the queue and replay, holds, reconcile,
connections; each refused to the wrong role."""

from __future__ import annotations

import csv
import io

import httpx
from console_helpers import sign_in_as
from console_world import ConsoleWorld


async def _record(client: httpx.AsyncClient, reference: str) -> dict:
    found = await client.get("/api/connections/acme/records", params={"reference": reference})
    [record] = [r for r in found.json()["records"] if r["reference"] == reference]
    return record


async def test_a_blocked_purchase_is_fixed_from_the_queue_and_replayed(
    synced_client: httpx.AsyncClient, synced: ConsoleWorld
) -> None:
    synced.world.tenant.add_item(
        "MTR075", "Electric Motor 0.75kW", unit_cost="289", gl_account="630"
    )
    token = await sign_in_as(synced_client, "otto")
    page = await synced_client.get("/connections/acme/errors")
    assert '<option value="MTR075">' in page.text  # the tenant's own item list
    group = next(
        g
        for g in (await synced_client.get("/api/connections/acme/errors")).json()["groups"]
        if g["title"] == "Missing item MTR-0.75KW"
    )

    answer = await synced_client.post(
        "/connections/acme/errors/map",
        data={
            "csrf_token": token,
            "group": group["key"],
            "kind": "item",
            "cin7_value": "MTR-0.75KW",
            "qad_value": "MTR075",
            "replay": "1",
        },
    )

    assert answer.status_code == 303
    shown = await synced_client.get(answer.headers["location"])
    assert "Mapped item MTR-0.75KW to MTR075. Replayed 1: 1 posted. Audit head " in shown.text
    assert (await _record(synced_client, synced.blocked))["status"] == "posted"
    assert synced.world.po_for(synced.blocked)
    detail = await synced_client.get(
        f"/api/connections/acme/records/{(await _record(synced_client, synced.blocked))['id']}"
    )
    assert any(
        e["event"] == "replayed" and e["actor"] == "console:otto" for e in detail.json()["trail"]
    )


async def test_replay_through_the_api_reports_each_outcome(
    synced_client: httpx.AsyncClient, synced: ConsoleWorld
) -> None:
    token = await sign_in_as(synced_client, "otto")
    answer = await synced_client.post(
        "/api/connections/acme/replay",
        json={"references": [synced.failed]},
        headers={"X-CSRF-Token": token},
    )
    assert answer.status_code == 200, answer.text
    doc = answer.json()
    assert doc["replayed"] == 1
    count, link = doc["audit_head"].split(":")
    assert int(count) > 0
    assert len(link) == 64
    assert doc["outcomes"][0]["reference"] == synced.failed
    assert doc["outcomes"][0]["status"] == "failed"  # CAD is still mapped to ZZZ


async def test_the_queue_form_replays_the_ticked_records_or_the_whole_group(
    synced_client: httpx.AsyncClient, synced: ConsoleWorld
) -> None:
    token = await sign_in_as(synced_client, "otto")
    failed = await _record(synced_client, synced.failed)

    def group_of(queue: dict) -> dict:
        return next(
            g for g in queue["groups"] if synced.failed in {r["reference"] for r in g["records"]}
        )

    group = group_of((await synced_client.get("/api/connections/acme/errors")).json())
    one = await synced_client.post(
        "/connections/acme/errors/act",
        data={"csrf_token": token, "action": "replay-selected", "record_id": str(failed["id"])},
    )
    shown = await synced_client.get(one.headers["location"])
    assert "Replayed 1: 1 failed. Audit head " in shown.text  # CAD is still mapped to ZZZ

    headers = {"X-CSRF-Token": token}
    fixed = await synced_client.put(
        "/api/connections/acme/mappings",
        json={"kind": "currency", "cin7_value": "CAD", "qad_value": "CAD"},
        headers=headers,
    )
    assert fixed.status_code == 200, fixed.text
    group = group_of((await synced_client.get("/api/connections/acme/errors")).json())
    whole = await synced_client.post(
        "/connections/acme/errors/act",
        data={"csrf_token": token, "action": "replay-group", "group": group["key"]},
    )
    shown = await synced_client.get(whole.headers["location"])

    assert f"Replayed {len(group['records'])}: " in shown.text
    assert (await _record(synced_client, synced.failed))["status"] == "posted"
    runs = (await synced_client.get("/api/connections/acme/runs")).json()["runs"]
    assert [(r["kind"], r["actor"]) for r in runs[:2]] == [("replay", "console:otto")] * 2
    gone = await synced_client.post(
        "/connections/acme/errors/act",
        data={"csrf_token": token, "action": "replay-group", "group": group["key"]},
    )
    shown = await synced_client.get(gone.headers["location"])
    assert "no longer in the error queue" in shown.text
    assert "flash error" in shown.text


async def test_a_viewer_may_not_replay_map_or_add(
    synced_client: httpx.AsyncClient, synced: ConsoleWorld
) -> None:
    token = await sign_in_as(synced_client, "vera")
    headers = {"X-CSRF-Token": token}
    for method, path, body in [
        ("POST", "/api/connections/acme/replay", {"references": [synced.failed]}),
        (
            "PUT",
            "/api/connections/acme/mappings",
            {"kind": "item", "cin7_value": "A", "qad_value": "B"},
        ),
        ("POST", "/api/connections/acme/test", {}),
    ]:
        answer = await synced_client.request(method, path, json=body, headers=headers)
        assert answer.status_code == 403, path
    form = await synced_client.post(
        "/connections/acme/errors/act",
        data={"csrf_token": token, "action": "replay-selected", "record_id": "1"},
    )
    assert form.status_code == 403
    runs = (await synced_client.get("/api/connections/acme/runs")).json()["runs"]
    assert all(r["kind"] == "sync" for r in runs)  # nothing was replayed


async def test_an_operator_may_not_add_a_connection(synced_client: httpx.AsyncClient) -> None:
    token = await sign_in_as(synced_client, "otto")
    answer = await synced_client.post(
        "/connections",
        data={"csrf_token": token, "name": "x", "cin7_account_id": "a"},
    )
    assert answer.status_code in (403, 422)
    api = await synced_client.post(
        "/api/connections", json={"name": "x"}, headers={"X-CSRF-Token": token}
    )
    assert api.status_code in (403, 422)
    assert "x" not in {
        c["name"] for c in (await synced_client.get("/api/connections")).json()["connections"]
    }


async def test_an_admin_adds_a_connection_whose_secrets_are_never_shown(
    synced_client: httpx.AsyncClient,
) -> None:
    token = await sign_in_as(synced_client, "ada")
    answer = await synced_client.post(
        "/connections",
        data={
            "csrf_token": token,
            "name": "north",
            "cin7_account_id": "acc-north",
            "cin7_application_key": "north-key-SECRET-1",
            "qad_url": "https://north.qad.example/clouderp",
            "qad_client_id": "cid",
            "qad_username": "int",
            "qad_password": "north-pass-SECRET-2",
            "qad_domain": "10USA",
            "qad_entity": "10USACO",
            "schedule": "every 30m",
        },
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == "/connections/north/settings"
    settings = await synced_client.get("/connections/north/settings")
    assert "stored, encrypted" in settings.text
    api = await synced_client.get("/api/connections/north/settings")
    assert api.json()["qad_password"] == "stored, encrypted"
    for text in (settings.text, api.text, (await synced_client.get("/connections")).text):
        assert "SECRET" not in text

    refused = await synced_client.post(
        "/connections",
        data={
            "csrf_token": token,
            "name": "south",
            "cin7_account_id": "a",
            "cin7_application_key": "k-SECRET",
            "qad_url": "http://10.0.0.5/clouderp",
            "qad_client_id": "c",
            "qad_username": "u",
            "qad_password": "p-SECRET",
            "qad_domain": "d",
            "qad_entity": "e",
        },
    )
    shown = await synced_client.get(refused.headers["location"])
    assert "flash error" in shown.text
    assert "SECRET" not in shown.text


async def test_holds_show_invoice_supplier_amount_and_what_is_missing_until_received(
    synced_client: httpx.AsyncClient, synced: ConsoleWorld
) -> None:
    await sign_in_as(synced_client, "vera")
    doc = (await synced_client.get("/api/connections/acme/holds")).json()
    [hold] = doc["holds"]
    assert hold["reference"] == synced.held
    assert hold["invoice_numbers"] == ["BW-INV-2"]
    assert hold["supplier"].startswith("Beacon Wire")
    assert hold["held"]
    assert any("NUT-M8: invoiced 12, received in QAD 0" in w for w in hold["waiting_for"])
    assert hold["age_s"] >= 0
    page = await synced_client.get("/connections/acme/holds")
    row = page.text.split(f'data-reference="{synced.held}"')[1].split("</tr>")[0]
    assert "BW-INV-2" in row
    assert "Beacon Wire" in row
    for currency, amount in hold["held"].items():
        assert f"{amount} {currency}" in row
    assert "NUT-M8: invoiced 12, received in QAD 0" in row

    synced.world.cin7.state.receive(synced.held_id)
    await synced.world.sync()

    assert (await synced_client.get("/api/connections/acme/holds")).json()["holds"] == []
    assert (await _record(synced_client, synced.held))["status"] == "posted"


async def test_reconcile_per_month_and_as_csv(
    synced_client: httpx.AsyncClient, synced: ConsoleWorld
) -> None:
    await sign_in_as(synced_client, "vera")
    doc = (await synced_client.get("/api/connections/acme/reconcile")).json()
    assert doc["lines"]
    month = (await _record(synced_client, synced.held))["month"]
    by_month = (
        await synced_client.get("/api/connections/acme/reconcile", params={"month": month})
    ).json()
    assert by_month["month"] == month
    assert (
        await synced_client.get("/api/connections/acme/reconcile", params={"month": "12/2026"})
    ).status_code == 400

    download = await synced_client.get("/connections/acme/reconcile.csv", params={"month": month})
    assert download.status_code == 200
    assert download.headers["content-type"].startswith("text/csv")
    assert f"reconcile-acme-{month}.csv" in download.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(download.text)))
    assert rows[0][:3] == ["supplier_id", "supplier", "currency"]
    assert any(row[0] == "TOTAL" for row in rows)
    page = await synced_client.get("/connections/acme/reconcile", params={"month": month})
    assert 'id="reconcile"' in page.text


async def test_mappings_are_listed_set_and_removed(
    synced_client: httpx.AsyncClient,
) -> None:
    token = await sign_in_as(synced_client, "otto")
    headers = {"X-CSRF-Token": token}
    put = await synced_client.put(
        "/api/connections/acme/mappings",
        json={"kind": "item", "cin7_value": "NEW-SKU", "qad_value": "Q1"},
        headers=headers,
    )
    assert put.status_code == 200, put.text
    listed = (await synced_client.get("/api/connections/acme/mappings?kind=item")).json()
    assert {"NEW-SKU": "Q1"}.items() <= {
        m["cin7_value"]: m["qad_value"] for m in listed["mappings"]
    }.items()
    form = await synced_client.post(
        "/connections/acme/mappings",
        data={"csrf_token": token, "action": "remove", "kind": "item", "cin7_value": "NEW-SKU"},
    )
    assert form.status_code == 303
    listed = (await synced_client.get("/api/connections/acme/mappings?kind=item")).json()
    assert "NEW-SKU" not in {m["cin7_value"] for m in listed["mappings"]}
    page = (await synced_client.get("/connections/acme/mappings")).text
    assert "Removed the item mapping of NEW-SKU." in page
    assert "<td>NEW-SKU</td>" not in page


async def test_testing_a_connection_records_its_health(
    synced_client: httpx.AsyncClient, synced: ConsoleWorld
) -> None:
    token = await sign_in_as(synced_client, "otto")
    good = await synced_client.post("/api/connections/acme/test", headers={"X-CSRF-Token": token})
    assert good.json()["ok"] is True
    bad = await synced_client.post("/connections/planted/test", data={"csrf_token": token})
    assert bad.status_code == 303
    shown = await synced_client.get(bad.headers["location"])
    assert "Connection test:" in shown.text
    overview = (await synced_client.get("/api/connections")).json()["connections"]
    assert {c["name"]: c["health"] for c in overview}["planted"] == "unhealthy"
    for secret in synced.secrets:
        assert secret not in shown.text


async def test_an_operator_checks_the_tenants_fit_and_a_viewer_may_not(
    synced_client: httpx.AsyncClient, synced: ConsoleWorld
) -> None:
    token = await sign_in_as(synced_client, "vera")
    refused = await synced_client.post("/api/connections/acme/fit", headers={"X-CSRF-Token": token})
    assert refused.status_code == 403
    await synced_client.post("/logout", data={"csrf_token": token})

    token = await sign_in_as(synced_client, "otto")
    doc = (
        await synced_client.post("/api/connections/acme/fit", headers={"X-CSRF-Token": token})
    ).json()
    names = {c["name"] for c in doc["capabilities"]}
    assert "qad token" in names
    assert doc["profile"]
    page = await synced_client.post("/connections/acme/fit", data={"csrf_token": token})
    assert page.status_code == 200
    assert 'id="fit"' in page.text
    assert "qad token" in page.text
    for secret in synced.secrets:
        assert secret not in page.text


async def test_an_admin_edits_settings_and_a_secret_without_losing_records(
    synced_client: httpx.AsyncClient, synced: ConsoleWorld
) -> None:
    token = await sign_in_as(synced_client, "otto")
    refused = await synced_client.post(
        "/connections/acme/settings", data={"csrf_token": token, "schedule": "every 5m"}
    )
    assert refused.status_code == 403
    await synced_client.post("/logout", data={"csrf_token": token})

    token = await sign_in_as(synced_client, "ada")
    page = await synced_client.get("/connections/acme/settings")
    assert 'id="edit-connection"' in page.text
    form = {
        "csrf_token": token,
        "cin7_account_id": synced.world.config.cin7.account_id,
        "cin7_base_url": synced.world.config.cin7.base_url,
        "qad_url": synced.world.config.qad.base_url,
        "qad_client_id": synced.world.config.qad.client_id,
        "qad_username": synced.world.config.qad.username,
        "qad_domain": synced.world.config.qad.domain,
        "qad_entity": synced.world.config.qad.entity,
        "schedule": "every 30m",
        "allow_local": "1",
        "qad_password": "a-wrong-PASSWORD-typed",
    }
    answer = await synced_client.post("/connections/acme/settings", data=form)
    assert answer.status_code == 303
    shown = await synced_client.get(answer.headers["location"])
    assert "Changed" in shown.text
    assert "qad_password" in shown.text
    assert "schedule" in shown.text
    assert "a-wrong-PASSWORD-typed" not in shown.text

    test = await synced_client.post("/api/connections/acme/test", headers={"X-CSRF-Token": token})
    assert test.json()["ok"] is False  # the new password is the one used
    records = (await synced_client.get("/api/connections/acme/records")).json()
    assert records["total"] >= 4  # nothing recorded was lost

    patched = await synced_client.patch(
        "/api/connections/acme",
        json={"qad_password": synced.world.config.qad.password.get_secret_value()},
        headers={"X-CSRF-Token": token},
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["changed"] == ["qad_password"]
    assert patched.json()["connection"]["qad_password"] == "stored, encrypted"
    again = await synced_client.post("/api/connections/acme/test", headers={"X-CSRF-Token": token})
    assert again.json()["ok"] is True
    bad = await synced_client.patch(
        "/api/connections/acme", json={"schedule": "whenever"}, headers={"X-CSRF-Token": token}
    )
    assert bad.status_code == 400
