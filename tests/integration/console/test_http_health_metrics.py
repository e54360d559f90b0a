"""Health, readiness, metrics and the OpenAPI schema: public, and computed from the database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from console_helpers import PLANTED_KEY, PLANTED_PASSWORD, make_connection, sign_in_as
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr
from sqlalchemy import text

from ml_connector.store import SqlStore
from ml_connector.usecases import set_paused
from ml_connector.web import ConsoleConfig, create_app


async def _seed(store: SqlStore) -> int:
    """Connection acme: two syncs (one failed), a replay, records in several statuses."""
    added = await store.add_connection(make_connection("acme"))
    await store.add_connection(make_connection("quiet", schedule=None))
    cid = added.id
    assert cid is not None
    first = await store.start_run(cid, "sync", "scheduler")
    await store.finish_run(
        first.id,
        "succeeded",
        {"cin7_calls": 12, "qad_calls": 30, "cin7_rate_limited": 2, "qad_errors": 1},
    )
    second = await store.start_run(cid, "sync", "scheduler")
    await store.finish_run(second.id, "failed", {"cin7_calls": 3, "qad_calls": 1}, "qad: down")
    replay = await store.start_run(cid, "replay", "console:otto")
    await store.finish_run(replay.id, "succeeded", {"qad_calls": 4})
    for n, status in enumerate(["posted", "posted", "held", "blocked", "failed", "attention"]):
        await store.upsert_record(
            cid, "purchase", f"p{n}", reference=f"PO-{n:05}", status=status, reason=status
        )
    return cid


async def test_healthz_answers_without_sign_in(client: httpx.AsyncClient) -> None:
    answer = await client.get("/healthz")
    assert answer.status_code == 200
    assert answer.json() == {"status": "ok"}


async def test_readyz_says_ready_when_migrations_are_applied(
    client: httpx.AsyncClient,
) -> None:
    from ml_connector.store import head_revision

    answer = await client.get("/readyz")
    assert answer.status_code == 200
    assert answer.json() == {"status": "ready", "database": "ok", "revision": head_revision()}


async def test_readyz_is_503_when_the_schema_is_behind(
    client: httpx.AsyncClient, store: SqlStore
) -> None:
    async with store.engine.begin() as conn:
        await conn.execute(text("UPDATE alembic_version SET version_num = '0001'"))

    answer = await client.get("/readyz")

    assert answer.status_code == 503
    assert answer.json()["status"] == "not ready"
    assert "migrations not applied" in answer.json()["database"]


async def test_readyz_is_503_when_the_database_is_gone(passwords, tmp_path) -> None:
    from ml_connector.vault import Vault

    store = await SqlStore.open(f"sqlite+aiosqlite:///{tmp_path / 'gone.db'}", Vault.ephemeral())
    app = create_app(store, passwords=passwords)
    (tmp_path / "gone.db").unlink()
    (tmp_path / "gone.db").mkdir()  # a folder where the file was: nothing can open it
    await store.close()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        answer = await client.get("/readyz")
    assert answer.status_code == 503
    assert answer.json()["database"].startswith("unreachable")


async def test_openapi_is_public_and_describes_the_api(client: httpx.AsyncClient) -> None:
    answer = await client.get("/openapi.json")
    assert answer.status_code == 200
    paths = answer.json()["paths"]
    assert "/api/connections" in paths
    assert "/metrics" in paths
    assert "/readyz" in paths
    assert not any(p.startswith("/login") for p in paths)
    assert (await client.get("/docs")).status_code == 404  # Swagger UI would load a CDN


def _samples(body: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(body):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


async def test_metrics_are_computed_from_the_database_with_the_prefix(
    client: httpx.AsyncClient, store: SqlStore
) -> None:
    await _seed(store)

    answer = await client.get("/metrics")

    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    samples = _samples(answer.text)
    assert all(name.startswith("ml_connector_") for name, _ in samples)
    acme = (("connection", "acme"),)

    def value(name: str, **labels: str) -> float:
        return samples[(name, tuple(sorted({"connection": "acme", **labels}.items())))]

    assert value("ml_connector_records", status="posted") == 2
    assert value("ml_connector_records", status="held") == 1
    assert value("ml_connector_records", status="failed") == 1
    assert value("ml_connector_records", status="pending") == 0
    assert value("ml_connector_runs_total", kind="sync", outcome="succeeded") == 1
    assert value("ml_connector_runs_total", kind="sync", outcome="failed") == 1
    assert value("ml_connector_runs_total", kind="replay", outcome="succeeded") == 1
    assert samples[("ml_connector_cin7_calls_total", acme)] == 15
    assert samples[("ml_connector_cin7_rate_limit_waits_total", acme)] == 2
    assert samples[("ml_connector_qad_calls_total", acme)] == 35
    assert samples[("ml_connector_qad_errors_total", acme)] == 1
    assert samples[("ml_connector_cin7_calls_last_hour", acme)] == 15
    assert 0 <= samples[("ml_connector_oldest_hold_age_seconds", acme)] < 120
    assert 0 <= samples[("ml_connector_seconds_since_last_successful_sync", acme)] < 120
    assert samples[("ml_connector_connection_healthy", acme)] == 1
    quiet = (("connection", "quiet"),)
    assert samples[("ml_connector_cin7_calls_total", quiet)] == 0
    assert samples[("ml_connector_oldest_hold_age_seconds", quiet)] == 0
    assert ("ml_connector_seconds_since_last_successful_sync", quiet) not in samples


async def test_metrics_follow_work_done_by_another_process(
    client: httpx.AsyncClient, store: SqlStore, database_url: str
) -> None:
    """Another SqlStore (as `ml-connector run` opens) writes; the console's next scrape sees it."""
    from ml_connector.vault import Vault

    cid = await _seed(store)
    other = await SqlStore.open(database_url, Vault.ephemeral(), migrate=False)
    try:
        run = await other.start_run(cid, "sync", "worker")
        await other.finish_run(run.id, "succeeded", {"cin7_calls": 100})
    finally:
        await other.close()

    samples = _samples((await client.get("/metrics")).text)
    assert samples[("ml_connector_cin7_calls_total", (("connection", "acme"),))] == 115


async def test_the_oldest_hold_age_grows_with_time(store: SqlStore, passwords) -> None:
    await _seed(store)
    later = datetime.now(UTC) + timedelta(hours=3)
    app = create_app(store, passwords=passwords, clock=lambda: later)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as client:
        samples = _samples((await client.get("/metrics")).text)
    age = samples[("ml_connector_oldest_hold_age_seconds", (("connection", "acme"),))]
    assert 3 * 3600 - 120 < age < 3 * 3600 + 120


@pytest.mark.parametrize(
    ("header", "status"),
    [
        (None, 401),
        ("Bearer wrong", 401),
        ("Basic s3cret-metrics", 401),
        ("Bearer s3cret-metrics", 200),
    ],
)
async def test_a_metrics_token_is_required_when_configured(
    store: SqlStore, passwords, header: str | None, status: int
) -> None:
    config = ConsoleConfig(metrics_token=SecretStr("s3cret-metrics"))
    app = create_app(store, config, passwords=passwords)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as client:
        answer = await client.get("/metrics", headers={"Authorization": header} if header else {})
    assert answer.status_code == status
    assert "s3cret-metrics" not in answer.text


async def test_api_connections_lists_the_overview_fields_and_no_secret(
    client: httpx.AsyncClient, store: SqlStore, people: dict[str, str]
) -> None:
    await _seed(store)
    await sign_in_as(client, "vera")

    answer = await client.get("/api/connections")

    assert answer.status_code == 200
    assert PLANTED_KEY not in answer.text
    assert PLANTED_PASSWORD not in answer.text
    docs = {c["name"]: c for c in answer.json()["connections"]}
    acme = docs["acme"]
    assert acme["health"] == "failing"
    assert acme["health_message"] == "qad: down"
    assert acme["last_run"]["kind"] == "replay"
    assert acme["counts"] == {
        "pending": 0,
        "held": 1,
        "blocked": 1,
        "failed": 1,
        "attention": 1,
        "needs_attention": 3,
        "by_status": acme["counts"]["by_status"],
    }
    assert acme["cin7_calls_last_hour"] == 15
    assert acme["cin7_budget_per_hour"] == 3600
    assert acme["oldest_hold_since"] is not None
    assert acme["next_run_at"] is not None
    assert acme["last_success_at"] is not None
    assert docs["quiet"]["health"] == "new"
    assert docs["quiet"]["next_run_note"] == "no schedule"


async def test_the_overview_page_shows_every_connection(
    client: httpx.AsyncClient, store: SqlStore, people: dict[str, str]
) -> None:
    await _seed(store)
    await sign_in_as(client, "vera")

    page = await client.get("/")

    assert page.status_code == 200
    assert 'data-connection="acme"' in page.text
    assert 'data-connection="quiet"' in page.text
    assert "failing" in page.text
    assert "15 / 3600" in page.text
    assert PLANTED_KEY not in page.text


async def test_a_synced_connection_reports_qad_errors_and_calls_from_its_runs(
    synced_client: httpx.AsyncClient, synced
) -> None:
    """The engine stores what the metrics sum: a QAD refusal (the ZZZ currency) is an error."""
    samples = _samples((await synced_client.get("/metrics")).text)
    acme = (("connection", "acme"),)
    assert samples[("ml_connector_qad_errors_total", acme)] >= 1
    assert samples[("ml_connector_qad_calls_total", acme)] > 0
    assert samples[("ml_connector_cin7_calls_total", acme)] > 0
    assert samples[("ml_connector_cin7_rate_limit_waits_total", acme)] == 0
    runs = await synced.store.list_runs(synced.world.cid)
    assert (
        sum(r.counters["qad_errors"] for r in runs)
        == samples[("ml_connector_qad_errors_total", acme)]
    )


async def test_a_paused_connection_shows_paused_and_a_cron_one_its_next_fire(
    client: httpx.AsyncClient, store: SqlStore, people: dict[str, str]
) -> None:
    berlin = {"schedule": "0 9 * * *", "timezone": "Europe/Berlin"}
    await store.add_connection(make_connection("acme", **berlin))
    await store.add_connection(make_connection("held", **berlin))
    await set_paused(store, "held", True, actor="console-test")
    await sign_in_as(client, "vera")

    docs = {c["name"]: c for c in (await client.get("/api/connections")).json()["connections"]}
    assert (docs["held"]["paused"], docs["held"]["next_run_at"]) == (True, None)
    assert docs["held"]["next_run_note"] == "paused"
    due = datetime.fromisoformat(docs["acme"]["next_run_at"])
    assert docs["acme"]["paused"] is False
    assert (due.astimezone(ZoneInfo("Europe/Berlin")).hour, due.minute) == (9, 0)
    assert timedelta(0) < due - datetime.now(UTC) <= timedelta(days=1)
    assert due.utcoffset() == timedelta(0)  # next_run_at stays UTC for the scripts reading it
    local = datetime.fromisoformat(docs["acme"]["next_run_local"])
    assert local == due
    assert (local.hour, local.minute) == (9, 0)
    assert local.utcoffset() == ZoneInfo("Europe/Berlin").utcoffset(local.replace(tzinfo=None))

    overview = (await client.get("/")).text
    acme_row = overview.split('data-connection="acme"')[1].split("</tr>")[0]
    abbreviation = "CEST" if local.utcoffset() == timedelta(hours=2) else "CET"
    assert f"{local:%Y-%m-%d} 09:00:00 {abbreviation} (UTC+0" in acme_row
    held_row = overview.split('data-connection="held"')[1].split("</tr>")[0]
    assert 'class="badge badge-paused"' in held_row
    assert "badge-paused" not in overview.split('data-connection="acme"')[1].split("</tr>")[0]
    settings = (await client.get("/connections/held/settings")).text
    assert "Europe/Berlin" in settings
    assert "badge-paused" in settings
