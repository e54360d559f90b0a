"""QAD sandbox: `_sandbox/*` endpoints, stats, faults, tenants, context root and the CLI."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from ml_connector.cli import app as cli_app
from ml_connector.sandbox.qad import QadSandbox, QadTenant, create_qad_sandbox
from ml_connector.sandbox.qad import app as qad_app
from ml_connector.sandbox.qad import cli as qad_cli
from ml_connector.serve import ServerThread

ROOT = "http://qad.test"


@pytest.fixture
def sandbox() -> QadSandbox:
    return create_qad_sandbox(tenants=("acme", "globex"))


@pytest.fixture
async def http(sandbox: QadSandbox) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=sandbox.app)
    async with httpx.AsyncClient(transport=transport, base_url=ROOT) as client:
        yield client


async def login(http: httpx.AsyncClient, base: str, tenant: QadTenant) -> dict[str, str]:
    answer = await http.post(
        f"{base}/oauth/token",
        data={
            "client_id": tenant.client_id,
            "username": tenant.username,
            "password": tenant.password,
            "grant_type": "password",
        },
    )
    assert answer.status_code == 200
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


async def post(
    http: httpx.AsyncClient, url: str, key: str, record: dict[str, Any], headers: dict[str, str]
) -> httpx.Response:
    return await http.post(url, json={key: [record]}, headers=headers)


async def seed_documents(http: httpx.AsyncClient, base: str, headers: dict[str, str]) -> None:
    await post(
        http,
        f"{base}/api/erp/businessRelationV2s",
        "businessRelationV2s",
        {"businessRelationCode": "BR1", "name": "Bolt Co"},
        headers,
    )
    await post(
        http,
        f"{base}/api/erp/supplierV2s",
        "supplierV2s",
        {
            "supplierCode": "S1",
            "businessRelationCode": "BR1",
            "currencyCode": "USD",
            "creditTermsCode": "N30",
            "invoiceStatusCode": "AP-INITIAL",
        },
        headers,
    )
    await post(
        http,
        f"{base}/api/erp/purchaseOrderHeaders",
        "purchaseOrderHeaders",
        {"purchaseOrderNumber": "P1", "supplierCode": "S1", "remarks": "Cin7 PO-7"},
        headers,
    )


async def test_state_endpoint_has_the_documented_shape(
    http: httpx.AsyncClient, sandbox: QadSandbox
) -> None:
    base = sandbox.base_url(ROOT, "acme")
    empty = await http.get(f"{base}/_sandbox/state")
    assert empty.json() == {
        "suppliers": [],
        "purchaseOrders": [],
        "receipts": [],
        "supplierInvoices": [],
    }
    headers = await login(http, base, sandbox.tenant("acme"))
    await seed_documents(http, base, headers)
    state = (await http.get(f"{base}/_sandbox/state")).json()
    assert state == sandbox.tenant("acme").state()
    assert state["suppliers"] == [{"supplierCode": "S1", "name": "Bolt Co", "currencyCode": "USD"}]
    assert state["purchaseOrders"] == [
        {
            "purchaseOrderNumber": "P1",
            "supplierCode": "S1",
            "status": "O",
            "remarks": "Cin7 PO-7",
            "lines": [],
        }
    ]


async def test_stats_count_api_calls_by_path_but_not_sandbox_calls(
    http: httpx.AsyncClient, sandbox: QadSandbox
) -> None:
    base = sandbox.base_url(ROOT, "acme")
    headers = await login(http, base, sandbox.tenant("acme"))
    await http.get(f"{base}/api/erp/items", params={"itemCode": "WID-100"}, headers=headers)
    await http.get(f"{base}/api/erp/items", params={"itemCode": "BOX-M"}, headers=headers)
    await http.get(f"{base}/api/erp/glAccounts")  # no token
    await http.get(f"{base}/_sandbox/state")
    stats = (await http.get(f"{base}/_sandbox/stats")).json()
    assert stats == {
        "calls": 3,
        "writes": 0,
        "by_path": {"GET /api/erp/glAccounts": 1, "GET /api/erp/items": 2},
        "token_requests": 1,
        "unauthorized": 1,
        "forbidden": 0,
        "faults": {},
    }
    assert sandbox.tenant("globex").stats()["calls"] == 0
    sandbox.tenant("acme").reset_stats()
    assert sandbox.tenant("acme").stats()["calls"] == 0


async def test_tenants_are_isolated(http: httpx.AsyncClient, sandbox: QadSandbox) -> None:
    acme_base, globex_base = sandbox.base_url(ROOT, "acme"), sandbox.base_url(ROOT, "globex")
    acme_headers = await login(http, acme_base, sandbox.tenant("acme"))
    await seed_documents(http, acme_base, acme_headers)
    assert (
        await http.get(f"{globex_base}/api/erp/supplierV2s", headers=acme_headers)
    ).status_code == 401
    globex_headers = await login(http, globex_base, sandbox.tenant("globex"))
    read = await http.get(f"{globex_base}/api/erp/supplierV2s", headers=globex_headers)
    assert read.json() == {"data": {"supplierV2s": []}}
    assert sandbox.tenant("globex").state()["purchaseOrders"] == []
    assert len(sandbox.tenant("acme").state()["purchaseOrders"]) == 1


async def test_error_rate_answers_500_and_does_nothing(
    http: httpx.AsyncClient, sandbox: QadSandbox
) -> None:
    base = sandbox.base_url(ROOT, "acme")
    headers = await login(http, base, sandbox.tenant("acme"))
    faults = await http.post(f"{base}/_sandbox/faults", json={"error_rate": 1.0})
    assert faults.json()["error_rate"] == 1.0
    kinds = set()
    for _ in range(12):
        answer = await post(
            http,
            f"{base}/api/erp/businessRelationV2s",
            "businessRelationV2s",
            {"businessRelationCode": "BR1", "name": "X"},
            headers,
        )
        assert answer.status_code == 500
        kinds.add(answer.headers["content-type"].split(";")[0])
    assert kinds == {"application/json", "text/html"}
    assert sandbox.tenant("acme").business_relations == {}
    await http.post(f"{base}/_sandbox/faults", json={"error_rate": 0})
    assert (await http.get(f"{base}/api/erp/glAccounts", headers=headers)).status_code == 200


async def test_html_rate_answers_a_gateway_page_in_a_200(
    http: httpx.AsyncClient, sandbox: QadSandbox
) -> None:
    base = sandbox.base_url(ROOT, "acme")
    headers = await login(http, base, sandbox.tenant("acme"))
    sandbox.tenant("acme").set_faults(html_rate=1.0)
    answer = await http.get(f"{base}/api/erp/glAccounts", headers=headers)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/html")
    assert answer.text.startswith("<!DOCTYPE html>")


async def test_expire_tokens_now_fault(http: httpx.AsyncClient, sandbox: QadSandbox) -> None:
    base = sandbox.base_url(ROOT, "acme")
    headers = await login(http, base, sandbox.tenant("acme"))
    assert (
        await http.post(f"{base}/_sandbox/faults", json={"expire_tokens_now": True})
    ).status_code == 200
    answer = await http.get(f"{base}/api/erp/glAccounts", headers=headers)
    assert answer.status_code == 401
    assert sandbox.tenant("acme").stats()["unauthorized"] == 1


async def test_latency_sleeps_once_per_api_call(
    http: httpx.AsyncClient, sandbox: QadSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    slept: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        slept.append(seconds)

    monkeypatch.setattr(qad_app.asyncio, "sleep", fake_sleep)
    base = sandbox.base_url(ROOT, "acme")
    headers = await login(http, base, sandbox.tenant("acme"))
    sandbox.tenant("acme").set_faults(latency_ms=250)
    await http.get(f"{base}/api/erp/glAccounts", headers=headers)
    await http.get(f"{base}/api/erp/items", headers=headers)
    await http.get(f"{base}/_sandbox/state")
    assert slept == [0.25, 0.25]


async def test_lost_response_posts_then_answers_a_bad_gateway(
    http: httpx.AsyncClient, sandbox: QadSandbox
) -> None:
    base = sandbox.base_url(ROOT, "acme")
    headers = await login(http, base, sandbox.tenant("acme"))
    sandbox.tenant("acme").set_faults(lost_response_rate=1.0)
    answer = await post(
        http,
        f"{base}/api/erp/businessRelationV2s",
        "businessRelationV2s",
        {"businessRelationCode": "BR1", "name": "X"},
        headers,
    )
    assert answer.status_code == 502
    assert "BR1" in sandbox.tenant("acme").business_relations


async def test_a_timeout_waits_then_carries_the_write_out(
    http: httpx.AsyncClient, sandbox: QadSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    slept: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        slept.append(seconds)

    monkeypatch.setattr(qad_app.asyncio, "sleep", fake_sleep)
    base = sandbox.base_url(ROOT, "acme")
    headers = await login(http, base, sandbox.tenant("acme"))
    sandbox.tenant("acme").set_faults(timeout_rate=1.0, timeout_seconds=12)
    answer = await post(
        http,
        f"{base}/api/erp/businessRelationV2s",
        "businessRelationV2s",
        {"businessRelationCode": "BR1", "name": "X"},
        headers,
    )
    assert answer.status_code == 200
    assert slept == [12.0]
    assert "BR1" in sandbox.tenant("acme").business_relations
    assert sandbox.tenant("acme").stats()["faults"] == {"timeout": 1}


async def test_a_burst_answers_429_with_retry_after_and_does_nothing(
    http: httpx.AsyncClient, sandbox: QadSandbox
) -> None:
    base = sandbox.base_url(ROOT, "acme")
    headers = await login(http, base, sandbox.tenant("acme"))
    sandbox.tenant("acme").set_faults(burst_rate=1.0, burst_seconds=30)
    first = await post(
        http,
        f"{base}/api/erp/businessRelationV2s",
        "businessRelationV2s",
        {"businessRelationCode": "BR1", "name": "X"},
        headers,
    )
    sandbox.tenant("acme").set_faults(burst_rate=0)
    second = await http.get(f"{base}/api/erp/glAccounts", headers=headers)
    assert (first.status_code, second.status_code) == (429, 429), "the burst lasts"
    assert 1 <= int(second.headers["Retry-After"]) <= 30
    assert sandbox.tenant("acme").business_relations == {}
    assert sandbox.tenant("acme").stats()["faults"] == {"burst": 2}


async def test_faults_are_counted_by_kind(http: httpx.AsyncClient, sandbox: QadSandbox) -> None:
    base = sandbox.base_url(ROOT, "acme")
    headers = await login(http, base, sandbox.tenant("acme"))
    sandbox.tenant("acme").set_faults(error_rate=1.0)
    await http.get(f"{base}/api/erp/glAccounts", headers=headers)
    sandbox.tenant("acme").set_faults(error_rate=0, html_rate=1.0)
    await http.get(f"{base}/api/erp/glAccounts", headers=headers)
    sandbox.tenant("acme").set_faults(html_rate=0, lost_response_rate=1.0)
    await post(
        http,
        f"{base}/api/erp/businessRelationV2s",
        "businessRelationV2s",
        {"businessRelationCode": "BR1", "name": "X"},
        headers,
    )
    counted = (await http.get(f"{base}/_sandbox/stats")).json()["faults"]
    assert counted == {"error": 1, "html": 1, "lost_response": 1}


async def test_bad_fault_settings_are_400(http: httpx.AsyncClient, sandbox: QadSandbox) -> None:
    base = sandbox.base_url(ROOT, "acme")
    for body in ({"error_rate": 2}, {"latency_ms": "slow"}, {"no_such_fault": 1}):
        answer = await http.post(f"{base}/_sandbox/faults", json=body)
        assert answer.status_code == 400
    assert (await http.get(f"{base}/_sandbox/faults")).json()["error_rate"] == 0
    with pytest.raises(ValueError, match="between 0 and 1"):
        sandbox.tenant("acme").set_faults(html_rate=-0.1)


async def test_sandbox_items_and_accounts_endpoints(
    http: httpx.AsyncClient, sandbox: QadSandbox
) -> None:
    base = sandbox.base_url(ROOT, "acme")
    account = await http.post(
        f"{base}/_sandbox/accounts",
        json={"glCode": "7300", "description": "Tooling", "requiresCostCentre": True},
    )
    assert account.status_code == 200
    item = await http.post(
        f"{base}/_sandbox/items",
        json={"itemCode": "TOOL-1", "description": "Tool", "glAccount": "7300", "unitCost": 9.5},
    )
    assert item.status_code == 200
    assert item.json()["unitCost"] == 9.5
    tenant = sandbox.tenant("acme")
    assert tenant.gl_accounts["7300"].requires_cost_centre is True
    assert tenant.items["TOOL-1"].gl_account == "7300"
    bad = await http.post(f"{base}/_sandbox/items", json={"itemCode": "X", "glAccount": "0000"})
    assert bad.status_code == 400
    assert (await http.post(f"{base}/_sandbox/accounts", json={})).status_code == 400
    assert tenant.stats()["calls"] == 0


async def test_context_root_is_configurable() -> None:
    sandbox = create_qad_sandbox(context_root="clouderp/test")
    base = sandbox.base_url("http://127.0.0.1:8702")
    assert base == "http://127.0.0.1:8702/acme/clouderp/test"
    tenant = sandbox.tenant("acme")
    transport = httpx.ASGITransport(app=sandbox.app)
    async with httpx.AsyncClient(transport=transport, base_url=ROOT) as http:
        headers = await login(http, sandbox.base_url(ROOT), tenant)
        ok = await http.get(f"{sandbox.base_url(ROOT)}/api/erp/glAccounts", headers=headers)
        assert ok.status_code == 200
        wrong_root = await http.get(f"{ROOT}/acme/clouderp/api/erp/glAccounts", headers=headers)
        assert wrong_root.status_code == 404


def test_factory_refuses_bad_arguments() -> None:
    with pytest.raises(ValueError, match="tenants"):
        create_qad_sandbox(tenants=("a/b",))
    with pytest.raises(ValueError, match="tenants"):
        create_qad_sandbox(tenants=("acme", "acme"))
    with pytest.raises(ValueError, match="context root"):
        create_qad_sandbox(context_root="clouderp/../x y")
    with pytest.raises(ValueError, match="token_ttl"):
        create_qad_sandbox(token_ttl=0)
    with pytest.raises(KeyError):
        create_qad_sandbox().tenant("nobody")


def test_cli_refuses_a_non_loopback_host(monkeypatch: pytest.MonkeyPatch) -> None:
    served: list[Any] = []
    monkeypatch.setattr(qad_cli, "run", lambda app, **kw: served.append(kw))
    result = CliRunner().invoke(cli_app, ["sandbox", "qad", "--host", "0.0.0.0"])
    assert result.exit_code == 2
    assert served == []


def test_cli_prints_tenants_and_credentials_then_serves(monkeypatch: pytest.MonkeyPatch) -> None:
    served: list[dict[str, Any]] = []
    monkeypatch.setattr(qad_cli, "run", lambda app, **kw: served.append(kw))
    result = CliRunner().invoke(
        cli_app,
        [
            "sandbox",
            "qad",
            "--port",
            "8799",
            "--tenant",
            "acme",
            "--tenant",
            "globex",
            "--seed",
            "3",
        ],
    )
    assert result.exit_code == 0, result.output
    expected = create_qad_sandbox(tenants=("acme", "globex"), seed=3)
    for name in ("acme", "globex"):
        tenant = expected.tenant(name)
        assert f"http://127.0.0.1:8799/{name}/clouderp" in result.output
        assert (
            f"QXtend     http://127.0.0.1:8799/{name}/clouderp/qxi/services/QdocWebService"
            in result.output
        )
        assert tenant.client_id in result.output
        assert tenant.password in result.output
    assert "integration" in result.output
    assert "10USA" in result.output
    assert "10USACO" in result.output
    assert served == [{"host": "127.0.0.1", "port": 8799}]


async def test_the_banner_names_each_control_endpoint_the_tenant_serves(
    monkeypatch: pytest.MonkeyPatch, http: httpx.AsyncClient, sandbox: QadSandbox
) -> None:
    monkeypatch.setattr(qad_cli, "run", lambda app, **kw: None)
    banner = CliRunner().invoke(cli_app, ["sandbox", "qad", "--port", "8799"]).output
    base = "http://127.0.0.1:8799/acme/clouderp"
    assert f"controls   {base}/_sandbox/ (no token, not counted in stats)" in banner
    assert len(qad_cli.CONTROL_ENDPOINTS) == 6
    served = sandbox.base_url(ROOT, "acme")
    for path, what in qad_cli.CONTROL_ENDPOINTS:
        assert f"      {path:<10} {what}" in banner
        methods = what.partition(":")[0].split("/")
        answer = await http.get(f"{served}/_sandbox/{path}")  # no token
        assert answer.status_code == (200 if "GET" in methods else 405), path
        if "POST" in methods:
            posted = await http.post(f"{served}/_sandbox/{path}", json={})
            assert posted.status_code not in (401, 404, 405), path


async def test_cli_can_serve_a_tenant_without_qxtend(monkeypatch: pytest.MonkeyPatch) -> None:
    apps: list[Any] = []
    monkeypatch.setattr(qad_cli, "run", lambda app, **kw: apps.append(app))
    result = CliRunner().invoke(cli_app, ["sandbox", "qad", "--no-qxtend"])
    assert result.exit_code == 0, result.output
    assert "QdocWebService" not in result.output
    transport = httpx.ASGITransport(app=apps[0])
    async with httpx.AsyncClient(transport=transport, base_url=ROOT) as http:
        wsdl = await http.get("/acme/clouderp/qxi/services/QdocWebService?wsdl")
    assert wsdl.status_code == 404


def test_access_log_filter_masks_secrets_in_query_strings() -> None:
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        (
            "127.0.0.1:1",
            "POST",
            "/acme/clouderp/oauth/token?client_id=abc&password=hunter2&refresh_token=r1&x=1",
            "1.1",
            200,
        ),
        None,
    )
    assert qad_cli.RedactSecrets().filter(record) is True
    text = record.getMessage()
    assert "hunter2" not in text
    assert "r1&" not in text
    assert "client_id=abc" in text


def test_serves_over_real_http_on_loopback() -> None:
    sandbox = create_qad_sandbox()
    tenant = sandbox.tenant("acme")
    with (
        ServerThread(sandbox.app) as server,
        httpx.Client(base_url=sandbox.base_url(server.url)) as http,
    ):
        token = http.post(
            "/oauth/token",
            params={
                "client_id": tenant.client_id,
                "username": tenant.username,
                "password": tenant.password,
                "grant_type": "password",
            },
        ).json()["access_token"]
        answer = http.get(
            "/api/qracore/browses",
            params={"browseId": "mfg:gp340", "pageSize": 2},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert answer.status_code == 200
        assert answer.json()["auxillaryData"]["HasMoreParams"] == "true"
        assert http.get("/_sandbox/stats").json()["calls"] == 1


def test_cli_banner_names_every_control_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    apps: list[Any] = []
    monkeypatch.setattr(qad_cli, "run", lambda app, **kw: apps.append(app))
    result = CliRunner().invoke(cli_app, ["sandbox", "qad"])
    assert result.exit_code == 0, result.output
    assert "/_sandbox/" in result.output

    def paths(routes: Any, prefix: str = "") -> set[str]:
        found: set[str] = set()
        for route in routes:
            path = prefix + getattr(route, "path", "")
            if hasattr(route, "routes"):
                found |= paths(route.routes, path)
            elif "/_sandbox/" in path:
                found.add(path.rsplit("/_sandbox/", 1)[1])
        return found

    served = paths(apps[0].routes)
    assert served, "the tenant app serves no /_sandbox/ routes"
    listed = {name for name, _ in qad_cli.CONTROL_ENDPOINTS}
    assert served == listed
    for name in served:
        assert f"      {name} " in result.output
