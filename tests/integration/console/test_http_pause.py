"""Pausing and resuming a connection's schedule from the console: operators may (with the
session's CSRF token), viewers may not; each change is in the connection's trail under the
console user's name."""

from __future__ import annotations

import httpx
from console_helpers import make_connection, sign_in_as

from ml_connector.store import SqlStore
from ml_connector.vocab import CONNECTION_TRAIL


async def test_an_operator_pauses_and_resumes_from_the_settings_page(
    client: httpx.AsyncClient, store: SqlStore, people: dict[str, str]
) -> None:
    added = await store.add_connection(make_connection("acme"))
    assert added.id is not None
    token = await sign_in_as(client, "otto")
    settings = (await client.get("/connections/acme/settings")).text
    assert 'action="/connections/acme/pause"' in settings
    forged = await client.post("/connections/acme/pause", data={"csrf_token": "forged"})
    assert forged.status_code == 403
    assert (await store.get_connection("acme")).sync.paused is False

    paused = await client.post("/connections/acme/pause", data={"csrf_token": token})
    assert paused.status_code == 303
    shown = (await client.get(paused.headers["location"])).text
    assert "Paused acme" in shown
    assert "badge-paused" in shown
    assert 'action="/connections/acme/resume"' in shown

    again = await client.post("/api/connections/acme/pause", headers={"X-CSRF-Token": token})
    assert again.json()["changed"] is False
    resumed = await client.post("/api/connections/acme/resume", headers={"X-CSRF-Token": token})
    assert resumed.status_code == 200
    assert (resumed.json()["paused"], resumed.json()["changed"]) == (False, True)
    assert resumed.json()["connection"]["paused"] is False

    metric = 'ml_connector_connection_paused{connection="acme"}'
    assert f"{metric} 0.0" in (await client.get("/metrics")).text
    await client.post("/api/connections/acme/pause", headers={"X-CSRF-Token": token})
    assert f"{metric} 1.0" in (await client.get("/metrics")).text
    await client.post("/api/connections/acme/resume", headers={"X-CSRF-Token": token})

    trail = await store.trail(added.id, CONNECTION_TRAIL)
    assert [(e.event, e.actor) for e in trail] == [
        ("paused", "console:otto"),
        ("resumed", "console:otto"),
        ("paused", "console:otto"),
        ("resumed", "console:otto"),
    ]


async def test_a_viewer_may_not_pause_and_a_form_needs_its_csrf_token(
    client: httpx.AsyncClient, store: SqlStore, people: dict[str, str]
) -> None:
    await store.add_connection(make_connection("acme"))
    token = await sign_in_as(client, "vera")
    assert "/connections/acme/pause" not in (await client.get("/connections/acme/settings")).text
    refused = await client.post("/api/connections/acme/pause", headers={"X-CSRF-Token": token})
    assert refused.status_code == 403
    form = await client.post("/connections/acme/pause", data={"csrf_token": token})
    assert form.status_code == 403
    assert (await store.get_connection("acme")).sync.paused is False


async def test_an_admin_adds_and_edits_a_cron_schedule_in_a_zone_but_not_the_pause(
    client: httpx.AsyncClient, store: SqlStore, people: dict[str, str]
) -> None:
    token = await sign_in_as(client, "ada")
    base = {
        "csrf_token": token,
        "cin7_account_id": "acc-north",
        "cin7_application_key": "north-key",
        "qad_url": "https://north.qad.example/clouderp",
        "qad_client_id": "cid",
        "qad_username": "int",
        "qad_password": "north-pass",
        "qad_domain": "10USA",
        "qad_entity": "10USACO",
    }
    added = await client.post(
        "/connections",
        data={**base, "name": "north", "schedule": "*/15 6-20 * * 1-5", "timezone": "Asia/Tokyo"},
    )
    assert added.headers["location"] == "/connections/north/settings"
    shown = (await client.get("/api/connections/north/settings")).json()
    assert (shown["schedule"], shown["timezone"]) == ("*/15 6-20 * * 1-5", "Asia/Tokyo")

    refused = await client.post(
        "/connections", data={**base, "name": "south", "timezone": "Asia/Atlantis"}
    )
    page = (await client.get(refused.headers["location"])).text
    assert "time zone &#39;Asia/Atlantis&#39; unknown" in page
    assert await store.find_connection("south") is None

    headers = {"X-CSRF-Token": token}
    edited = await client.patch(
        "/api/connections/north", json={"timezone": "Europe/Berlin"}, headers=headers
    )
    assert edited.json()["changed"] == ["timezone"]
    bad = await client.patch(
        "/api/connections/north", json={"schedule": "0 25 * * *"}, headers=headers
    )
    assert bad.status_code == 400
    assert "--schedule: schedule '0 25 * * *' not understood" in bad.text
    no_pause = await client.patch("/api/connections/north", json={"paused": True}, headers=headers)
    assert no_pause.status_code == 400
    assert "connection pause|resume north" in no_pause.text
    assert (await store.get_connection("north")).sync.paused is False
