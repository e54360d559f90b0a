"""A QAD tenant behind an egress proxy the environment names: both channels reach it through the
proxy (a forwarding proxy on 127.0.0.1 in front of the QAD sandbox); a host `NO_PROXY` exempts is
sent to directly, on the lean path."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from qad_fakes import no_sleep, po_spec, sandbox_settings, supplier_spec
from scripted_http import Reply, answer, serving

from ml_connector.qad import QadOperations
from ml_connector.qad.profile import BUILT_IN
from ml_connector.qad.rest import RestChannel
from ml_connector.qad.routing import build_channel
from ml_connector.qad.settings import QadSettings
from ml_connector.qad.wire import qad_http_client
from ml_connector.sandbox.qad import QadSandbox, create_qad_sandbox
from ml_connector.serve import ServerThread

TENANT_HOST = "http://qad-tenant"
"""The tenant's address (an intranet name): never resolved, only the proxy on 127.0.0.1 is."""

HOP_BY_HOP = {b"host", b"connection", b"proxy-connection", b"keep-alive", b"content-length"}


def forwarding_to(origin: str, seen: list[bytes]) -> Reply:
    """A proxy's reply: the absolute-form request sent on to `origin`, its answer sent back."""

    async def reply(request: bytes, writer: asyncio.StreamWriter) -> bool:
        head, body = request.split(b"\r\n\r\n", 1)
        request_line, *lines = head.split(b"\r\n")
        seen.append(request_line)
        method, target, _ = request_line.split(b" ")
        url = httpx.URL(target.decode())
        headers = [
            (name.strip(), value.strip())
            for name, value in (line.split(b":", 1) for line in lines)
            if name.strip().lower() not in HOP_BY_HOP
        ]
        async with httpx.AsyncClient(trust_env=False) as onward:
            answer = await onward.request(
                method.decode(),
                httpx.URL(origin).copy_with(raw_path=url.raw_path),
                headers=headers,
                content=body,
            )
        writer.write(
            b"HTTP/1.1 %d OK\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n"
            % (
                answer.status_code,
                answer.headers.get("content-type", "application/json").encode(),
                len(answer.content),
            )
            + answer.content
        )
        return True

    return reply


@pytest.fixture
def no_proxy_exemptions(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("NO_PROXY", "no_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)


@asynccontextmanager
async def behind_a_proxy(
    sandbox: QadSandbox, monkeypatch: pytest.MonkeyPatch, seen: list[bytes]
) -> AsyncIterator[QadSettings]:
    """The sandbox's tenant at `TENANT_HOST`, which HTTP_PROXY routes through a forwarding
    proxy recording each request line in `seen`: yields the tenant's settings."""
    with ServerThread(sandbox.app) as qad:
        async with serving(forwarding_to(qad.url, seen)) as (_, proxy_url):
            monkeypatch.setenv("HTTP_PROXY", proxy_url)
            yield sandbox_settings(sandbox, TENANT_HOST)


async def test_the_rest_channel_reaches_a_tenant_through_the_proxy(
    monkeypatch: pytest.MonkeyPatch, no_proxy_exemptions: None
) -> None:
    sandbox = create_qad_sandbox(tenants=("acme",), seed=7)
    seen: list[bytes] = []
    async with (
        behind_a_proxy(sandbox, monkeypatch, seen) as settings,
        RestChannel(settings, sleep=no_sleep) as channel,
    ):
        item = await channel.get_item("WID-100")
    assert item is not None
    # the token request and the API read, both in absolute form to the proxy
    assert seen[0].startswith(b"POST http://qad-tenant/")
    assert any(line.startswith(b"GET http://qad-tenant/acme/") for line in seen[1:])
    assert sandbox.tenant("acme").stats()["unauthorized"] == 0


async def test_the_qxtend_channel_posts_qdocs_through_the_proxy(
    monkeypatch: pytest.MonkeyPatch, no_proxy_exemptions: None
) -> None:
    sandbox = create_qad_sandbox(tenants=("acme",), seed=7)
    seen: list[bytes] = []
    async with (
        behind_a_proxy(sandbox, monkeypatch, seen) as settings,
        build_channel(settings, BUILT_IN["qxtend"], sleep=no_sleep) as channel,
    ):
        ops = QadOperations(channel, sleep=no_sleep)
        await ops.ensure_supplier(supplier_spec())
        po = await ops.ensure_purchase_order(po_spec("QX000011", lines=1))
    assert po.number == "QX000011"
    qdocs = [line for line in seen if b"/qxi/services/QdocWebService" in line]
    assert qdocs
    assert all(line.startswith(b"POST http://qad-tenant/") for line in qdocs)
    by_path = sandbox.tenant("acme").stats()["by_path"]
    assert by_path["POST /qxi/services/QdocWebService maintainPurchaseOrder"] == 1


async def test_a_tenant_the_environment_exempts_is_called_directly_on_the_lean_path(
    monkeypatch: pytest.MonkeyPatch, no_proxy_exemptions: None, no_httpx_models: list[str]
) -> None:
    async def ok(request: bytes, writer: asyncio.StreamWriter) -> bool:
        writer.write(answer(b'{"data": {}}'))
        return True

    async with serving(ok) as (server, base):
        monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # nothing listens there
        monkeypatch.setenv("NO_PROXY", "127.0.0.1")
        async with qad_http_client(base, timeout=5, max_connections=4) as http:
            got = await http.call("GET", httpx.URL(f"{base}acme/api/erp/items"))
    assert got.json() == {"data": {}}
    assert server.requests[0].startswith(b"GET /acme/api/erp/items HTTP/1.1\r\n")
    assert no_httpx_models == []  # neither httpx's models nor its proxy
