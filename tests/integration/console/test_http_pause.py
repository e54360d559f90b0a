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

    trail = await store.trail(added.id, CONNECTION_TRAIL)
    assert [(e.event, e.actor) for e in trail] == [
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
