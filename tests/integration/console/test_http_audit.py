"""The console's audit page: the chain head to keep elsewhere (as `ml-connector audit head`
prints it) and, on request, a check of every link, optionally against a head kept elsewhere."""

from __future__ import annotations

import re

import httpx
from console_helpers import sign_in_as
from console_world import ConsoleWorld
from sqlalchemy import text


async def test_a_viewer_sees_the_chain_head_the_store_holds(
    synced_client: httpx.AsyncClient, synced: ConsoleWorld
) -> None:
    await sign_in_as(synced_client, "vera")
    stored = await synced.store.head(synced.world.cid)

    doc = (await synced_client.get("/api/connections/acme/audit/head")).json()
    page = await synced_client.get("/connections/acme/audit")

    assert doc == {
        "connection": "acme",
        "head": str(stored),
        "count": stored.count,
        "link": stored.link,
    }
    assert stored.count > 0
    assert re.fullmatch(r"[0-9a-f]{64}", stored.link)
    assert page.status_code == 200
    assert f'<code id="head">{stored}</code>' in page.text
    assert 'href="/connections/acme/audit" aria-current="page"' in page.text
    assert 'id="chain-check"' not in page.text  # the whole chain is checked only on request
    records = await synced_client.get("/connections/acme/records")
    assert 'href="/connections/acme/audit"' in records.text  # every connection page links it


async def test_the_chain_checks_out_alone_and_against_its_own_head(
    synced_client: httpx.AsyncClient, synced: ConsoleWorld
) -> None:
    await sign_in_as(synced_client, "vera")
    head = (await synced_client.get("/api/connections/acme/audit/head")).json()["head"]

    plain = await synced_client.get("/connections/acme/audit", params={"verify": "1"})
    against = await synced_client.get(
        "/connections/acme/audit", params={"verify": "1", "expect": head}
    )
    api = await synced_client.get("/api/connections/acme/audit/verify", params={"expect": head})

    assert 'id="chain-check"' in plain.text
    assert "badge-intact" in plain.text
    assert "head kept elsewhere" not in plain.text.split('id="chain-check"')[1]
    assert "badge-intact" in against.text
    assert "reaches the head kept elsewhere" in against.text
    assert api.json() == {
        "connection": "acme",
        "intact": True,
        "head": head,
        "expected_head": head,
        "broken": [],
    }


async def test_a_tampered_event_shows_as_a_break_on_the_page_and_in_the_api(
    synced_client: httpx.AsyncClient, synced: ConsoleWorld
) -> None:
    await sign_in_as(synced_client, "vera")
    kept = (await synced_client.get("/api/connections/acme/audit/head")).json()["head"]
    async with synced.store.engine.begin() as conn:
        await conn.execute(
            text("UPDATE audit_events SET actor = 'mallory' WHERE record_key = :key AND seq = 1"),
            {"key": f"purchase:{synced.held}"},
        )

    api = (
        await synced_client.get("/api/connections/acme/audit/verify", params={"expect": kept})
    ).json()
    page = await synced_client.get(
        "/connections/acme/audit", params={"verify": "1", "expect": kept}
    )

    assert api["intact"] is False
    assert "link-mismatch" in {b["kind"] for b in api["broken"]}
    assert any(b["record"] == f"purchase:{synced.held}" for b in api["broken"])
    assert "badge-broken" in page.text
    assert 'id="breaks"' in page.text
    assert "link-mismatch" in page.text


async def test_a_head_that_does_not_read_is_refused_and_an_unknown_connection_too(
    synced_client: httpx.AsyncClient,
) -> None:
    await sign_in_as(synced_client, "vera")

    bad = await synced_client.get(
        "/api/connections/acme/audit/verify", params={"expect": "twelve:abc"}
    )
    page = await synced_client.get(
        "/connections/acme/audit", params={"verify": "1", "expect": "twelve:abc"}
    )
    unknown = await synced_client.get("/api/connections/nobody/audit/head")

    assert bad.status_code == 400
    assert page.status_code == 400
    assert "Not accepted" in page.text
    assert unknown.status_code == 400
