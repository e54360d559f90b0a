"""The console's reads over HTTP on a synced connection: records, a record, runs, the queue."""

from __future__ import annotations

import re

import httpx
from console_helpers import sign_in_as
from console_world import ConsoleWorld


async def _record_id(client: httpx.AsyncClient, reference: str) -> int:
    found = await client.get("/api/connections/acme/records", params={"reference": reference})
    [record] = [r for r in found.json()["records"] if r["reference"] == reference]
    return int(record["id"])


async def test_records_are_filtered_by_status_supplier_reference_invoice_and_date(
    everywhere_client: httpx.AsyncClient, synced_everywhere: ConsoleWorld
) -> None:
    client, synced = everywhere_client, synced_everywhere
    await sign_in_as(client, "vera")

    async def refs(**params: object) -> set[str]:
        answer = await client.get("/api/connections/acme/records", params=params)
        assert answer.status_code == 200, answer.text
        return {r["reference"] for r in answer.json()["records"]}

    everything = await refs()
    assert {synced.posted, synced.held, synced.blocked, synced.failed} <= everything
    assert await refs(status="held") == {synced.held}
    assert await refs(status=["blocked", "failed"]) == {synced.blocked, synced.failed}
    assert await refs(invoice="BW-INV") == {synced.held}
    assert await refs(invoice="NO-SUCH") == set()
    assert await refs(reference=synced.failed.lower()) == {synced.failed}
    assert synced.failed in await refs(supplier="redwood")  # part of the supplier's name
    assert synced.posted not in await refs(supplier="redwood")
    assert synced.failed in await refs(supplier="db77b923-df00-4dfa-93e2-22b8e69d2f3b")
    assert await refs(**{"from": "2001-01-01", "to": "2001-01-02"}) == set()
    assert everything == await refs(**{"from": "2001-01-01"})
    bad = await client.get("/api/connections/acme/records", params={"status": "bogus"})
    assert bad.status_code == 400
    assert "unknown status" in bad.json()["detail"]
    assert (await client.get("/api/connections/nope/records")).status_code == 400
    overview = {c["name"]: c for c in (await client.get("/api/connections")).json()["connections"]}
    assert overview["acme"]["counts"]["held"] == 1
    assert overview["acme"]["counts"]["needs_attention"] == 2
    assert overview["acme"]["oldest_hold_since"] is not None


async def test_the_records_page_searches_and_links_each_record(
    synced_client: httpx.AsyncClient, synced: ConsoleWorld
) -> None:
    await sign_in_as(synced_client, "vera")
    page = await synced_client.get(
        "/connections/acme/records", params={"status": "held", "invoice": "BW-INV-2"}
    )
    assert page.status_code == 200
    assert f'data-reference="{synced.held}"' in page.text
    assert f'data-reference="{synced.posted}"' not in page.text
    assert "Beacon Wire" in page.text  # the supplier's name, not its id


async def test_a_record_page_shows_versions_diff_qad_documents_and_an_intact_trail(
    synced_client: httpx.AsyncClient, synced: ConsoleWorld
) -> None:
    await sign_in_as(synced_client, "vera")
    record_id = await _record_id(synced_client, synced.posted)

    doc = (await synced_client.get(f"/api/connections/acme/records/{record_id}")).json()
    assert [v["version"] for v in doc["versions"]] == [1, 2]
    assert doc["compared"] == [1, 2]
    changed = {c["path"]: c for c in doc["changes"]}
    assert any(c["before"] == 10 and c["after"] == 15 for c in changed.values()), changed
    kinds = {d["kind"] for d in doc["qad_documents"]}
    assert "create_po" in kinds
    assert all(d["state"] == "posted" for d in doc["qad_documents"])
    # The three USD purchases share one supplier: whichever pass reaches it first creates it, so
    # exactly one of their records carries the supplier document (purchases updated in the same
    # instant come in no fixed order).
    carriers = []
    for reference in (synced.posted, synced.held, synced.blocked):
        other = await _record_id(synced_client, reference)
        got = (await synced_client.get(f"/api/connections/acme/records/{other}")).json()
        if any(d["kind"] == "supplier" for d in got["qad_documents"]):
            carriers.append(reference)
    assert len(carriers) == 1, carriers
    assert doc["trail_intact"] is True
    assert [e["seq"] for e in doc["trail"]] == list(range(1, len(doc["trail"]) + 1))

    page = await synced_client.get(f"/connections/acme/records/{record_id}")
    assert page.status_code == 200
    assert "Changes from version 1 to 2" in page.text
    assert "purchase order" in page.text
    assert 'id="verify"' in page.text
    assert "badge-intact" in page.text


async def test_a_tampered_trail_shows_a_broken_badge(
    synced_client: httpx.AsyncClient, synced: ConsoleWorld
) -> None:
    from sqlalchemy import text

    await sign_in_as(synced_client, "vera")
    record_id = await _record_id(synced_client, synced.held)
    async with synced.store.engine.begin() as conn:
        await conn.execute(
            text("UPDATE audit_events SET actor = 'mallory' WHERE record_key = :key AND seq = 1"),
            {"key": f"purchase:{synced.held}"},
        )

    doc = (await synced_client.get(f"/api/connections/acme/records/{record_id}")).json()
    assert doc["trail_intact"] is False
    assert doc["trail_problems"][0].startswith("link-mismatch at event 1")
    page = await synced_client.get(f"/connections/acme/records/{record_id}")
    assert "badge-broken" in page.text


async def test_runs_list_each_pass_with_counters_and_why_it_stopped(
    synced_client: httpx.AsyncClient,
) -> None:
    await sign_in_as(synced_client, "vera")
    doc = (await synced_client.get("/api/connections/acme/runs")).json()
    assert [r["kind"] for r in doc["runs"]] == ["sync", "sync"]
    newest = doc["runs"][0]
    assert newest["status"] == "succeeded"
    assert newest["stopped_because"] == "finished"
    assert newest["duration_s"] >= 0
    assert newest["counters"]["cin7_calls"] > 0
    page = await synced_client.get("/connections/acme/runs")
    assert page.status_code == 200
    newest_row = page.text.split('id="runs"')[1].split("<tbody>")[1].split("</tr>")[0]
    assert re.search(r'<td class="num">\d+\.\d s</td>', newest_row)  # the duration
    assert f'<td class="num">{newest["counters"]["cin7_calls"]}</td>' in newest_row
    assert "<td>finished</td>" in newest_row


async def test_the_error_queue_groups_by_missing_mapping_and_reason(
    synced_client: httpx.AsyncClient, synced: ConsoleWorld
) -> None:
    await sign_in_as(synced_client, "vera")
    doc = (await synced_client.get("/api/connections/acme/errors")).json()
    by_title = {g["title"]: g for g in doc["groups"]}
    mapping = by_title["Missing item MTR-0.75KW"]
    assert mapping["missing_mapping"] == {
        "kind": "item",
        "cin7_value": "MTR-0.75KW",
        "label": mapping["missing_mapping"]["label"],
    }
    assert [r["reference"] for r in mapping["records"]] == [synced.blocked]
    failed = next(g for g in doc["groups"] if g["status"] == "failed")
    assert [r["reference"] for r in failed["records"]] == [synced.failed]
    assert "ZZZ" in failed["title"]

    page = await synced_client.get("/connections/acme/errors")
    assert "Missing item MTR-0.75KW" in page.text
    assert "Resolve selected" not in page.text  # a viewer sees no action


async def test_an_operator_resolves_with_a_note_kept_in_the_trail(
    synced_client: httpx.AsyncClient, synced: ConsoleWorld
) -> None:
    token = await sign_in_as(synced_client, "otto")
    record_id = await _record_id(synced_client, synced.failed)

    no_note = await synced_client.post(
        "/api/connections/acme/records/settle",
        json={"record_ids": [record_id], "action": "resolve", "note": " "},
        headers={"X-CSRF-Token": token},
    )
    assert no_note.status_code == 400
    answer = await synced_client.post(
        "/api/connections/acme/records/settle",
        json={"record_ids": [record_id], "action": "resolve", "note": "keyed in QAD by hand"},
        headers={"X-CSRF-Token": token},
    )

    assert answer.status_code == 200, answer.text
    assert [r["status"] for r in answer.json()["settled"]] == ["resolved"]
    doc = (await synced_client.get(f"/api/connections/acme/records/{record_id}")).json()
    # the status change itself is a trail event too (the keyed trail): the resolution precedes it
    last = next(e for e in reversed(doc["trail"]) if e["event"] != "status")
    assert doc["trail"][-1]["event"] == "status"
    assert (last["event"], last["actor"]) == ("resolved", "console:otto")
    assert last["data"]["note"] == "keyed in QAD by hand"
    assert last["data"]["previous_status"] == "failed"
    assert doc["trail_intact"]
    queue = (await synced_client.get("/api/connections/acme/errors")).json()
    assert synced.failed not in {r["reference"] for g in queue["groups"] for r in g["records"]}


async def test_the_queue_form_ignores_selected_records_and_says_so(
    synced_client: httpx.AsyncClient, synced: ConsoleWorld
) -> None:
    token = await sign_in_as(synced_client, "otto")
    record_id = await _record_id(synced_client, synced.blocked)

    answer = await synced_client.post(
        "/connections/acme/errors/act",
        data={
            "csrf_token": token,
            "action": "ignore",
            "note": "test purchase",
            "record_id": str(record_id),
        },
    )

    assert answer.status_code == 303
    shown = await synced_client.get(answer.headers["location"])
    assert "Ignored 1 record(s)." in shown.text
    doc = (await synced_client.get(f"/api/connections/acme/records/{record_id}")).json()
    assert doc["record"]["status"] == "ignored"


async def test_a_viewer_may_not_settle_records(
    synced_client: httpx.AsyncClient, synced: ConsoleWorld
) -> None:
    token = await sign_in_as(synced_client, "vera")
    record_id = await _record_id(synced_client, synced.failed)

    api = await synced_client.post(
        "/api/connections/acme/records/settle",
        json={"record_ids": [record_id], "action": "ignore", "note": "x"},
        headers={"X-CSRF-Token": token},
    )
    form = await synced_client.post(
        "/connections/acme/errors/act",
        data={"csrf_token": token, "action": "ignore", "note": "x", "record_id": str(record_id)},
    )

    assert api.status_code == 403
    assert form.status_code == 403
    assert "operator" in form.text
    doc = (await synced_client.get(f"/api/connections/acme/records/{record_id}")).json()
    assert doc["record"]["status"] == "failed"


async def test_no_page_or_answer_shows_a_secret(
    synced_client: httpx.AsyncClient, synced: ConsoleWorld
) -> None:
    await sign_in_as(synced_client, "ada")
    ids = [await _record_id(synced_client, r) for r in (synced.posted, synced.failed)]
    paths = [
        "/",
        "/api/connections",
        "/metrics",
        "/connections/acme/records",
        "/connections/acme/runs",
        "/connections/acme/errors",
        "/api/connections/acme/errors",
        "/api/connections/acme/runs",
        "/api/connections/acme/records",
        *(f"/connections/acme/records/{i}" for i in ids),
        *(f"/api/connections/acme/records/{i}" for i in ids),
        "/connections/planted/records",
        "/connections",
        "/connections/acme/holds",
        "/connections/acme/mappings",
        "/connections/acme/reconcile",
        "/connections/acme/reconcile.csv",
        "/connections/acme/audit?verify=1",
        "/connections/acme/settings",
        "/connections/planted/settings",
        "/api/connections/acme/holds",
        "/api/connections/acme/mappings",
        "/api/connections/acme/reconcile",
        "/api/connections/acme/audit/head",
        "/api/connections/acme/audit/verify",
        "/api/connections/acme/settings",
        "/api/connections/planted/settings",
    ]
    for path in paths:
        answer = await synced_client.get(path)
        assert answer.status_code == 200, path
        for secret in synced.secrets:
            assert secret not in answer.text, (path, secret)
