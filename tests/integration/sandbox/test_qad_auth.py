"""QAD sandbox: OAuth grants, token expiry, 401/403 bodies, roles and tenant isolation."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from ml_connector.sandbox.qad import QadSandbox, QadTenant, create_qad_sandbox
from ml_connector.testing import FakeClock

ROOT = "http://qad.test"
UNAUTHORIZED = {
    "errors": [{"severity": 1, "code": "401", "message": "Unauthorized", "fieldName": ""}]
}
FORBIDDEN = {
    "errors": [{"severity": 1, "code": "403", "message": "Access is denied", "fieldName": ""}]
}


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def sandbox(clock: FakeClock) -> QadSandbox:
    return create_qad_sandbox(tenants=("acme", "globex"), token_ttl=60, clock=clock)


@pytest.fixture
async def http(sandbox: QadSandbox) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=sandbox.app)
    async with httpx.AsyncClient(transport=transport, base_url=ROOT) as client:
        yield client


def base(sandbox: QadSandbox, tenant: str = "acme") -> str:
    return sandbox.base_url(ROOT, tenant)


def password_form(tenant: QadTenant, username: str | None = None) -> dict[str, str]:
    return {
        "client_id": tenant.client_id,
        "username": username or tenant.username,
        "password": tenant.password,
        "grant_type": "password",
    }


async def token_for(
    http: httpx.AsyncClient, sandbox: QadSandbox, tenant: str = "acme", username: str | None = None
) -> str:
    answer = await http.post(
        f"{base(sandbox, tenant)}/oauth/token", data=password_form(sandbox.tenant(tenant), username)
    )
    assert answer.status_code == 200, answer.text
    token: str = answer.json()["access_token"]
    return token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_password_grant_as_form_returns_a_bearer_token(
    http: httpx.AsyncClient, sandbox: QadSandbox
) -> None:
    tenant = sandbox.tenant("acme")
    answer = await http.post(f"{base(sandbox)}/oauth/token", data=password_form(tenant))
    assert answer.status_code == 200
    body = answer.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 60
    assert body["access_token"]
    assert body["refresh_token"]
    items = await http.get(
        f"{base(sandbox)}/api/erp/items",
        params={"domainCode": "10USA", "itemCode": "WID-100"},
        headers=bearer(body["access_token"]),
    )
    assert items.status_code == 200
    assert items.json()["data"]["items"][0]["itemCode"] == "WID-100"


async def test_password_grant_in_the_query_string_works_too(
    http: httpx.AsyncClient, sandbox: QadSandbox
) -> None:
    tenant = sandbox.tenant("acme")
    answer = await http.post(f"{base(sandbox)}/oauth/token", params=password_form(tenant))
    assert answer.status_code == 200
    assert answer.json()["access_token"]


async def test_refresh_grant_issues_a_new_access_token(
    http: httpx.AsyncClient, sandbox: QadSandbox
) -> None:
    tenant = sandbox.tenant("acme")
    first = (await http.post(f"{base(sandbox)}/oauth/token", data=password_form(tenant))).json()
    answer = await http.post(
        f"{base(sandbox)}/oauth/token",
        data={
            "client_id": tenant.client_id,
            "refresh_token": first["refresh_token"],
            "grant_type": "refresh_token",
        },
    )
    assert answer.status_code == 200
    second = answer.json()
    assert second["access_token"] != first["access_token"]
    ok = await http.get(
        f"{base(sandbox)}/api/erp/glAccounts", headers=bearer(second["access_token"])
    )
    assert ok.status_code == 200


async def test_unknown_refresh_token_is_invalid_grant_401(
    http: httpx.AsyncClient, sandbox: QadSandbox
) -> None:
    tenant = sandbox.tenant("acme")
    answer = await http.post(
        f"{base(sandbox)}/oauth/token",
        data={
            "client_id": tenant.client_id,
            "refresh_token": "nope",
            "grant_type": "refresh_token",
        },
    )
    assert answer.status_code == 401
    assert answer.json()["error"] == "invalid_grant"


async def test_bad_password_is_invalid_grant_401(
    http: httpx.AsyncClient, sandbox: QadSandbox
) -> None:
    form = password_form(sandbox.tenant("acme")) | {"password": "wrong"}
    answer = await http.post(f"{base(sandbox)}/oauth/token", data=form)
    assert answer.status_code == 401
    assert answer.json()["error"] == "invalid_grant"
    assert "wrong" not in answer.text


async def test_wrong_client_id_is_invalid_grant_400(
    http: httpx.AsyncClient, sandbox: QadSandbox
) -> None:
    form = password_form(sandbox.tenant("acme")) | {"client_id": "0" * 32}
    answer = await http.post(f"{base(sandbox)}/oauth/token", data=form)
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_grant"


async def test_unsupported_grant_type_is_refused(
    http: httpx.AsyncClient, sandbox: QadSandbox
) -> None:
    form = password_form(sandbox.tenant("acme")) | {"grant_type": "client_credentials"}
    answer = await http.post(f"{base(sandbox)}/oauth/token", data=form)
    assert answer.status_code == 400
    assert answer.json()["error"] == "unsupported_grant_type"


async def test_api_without_or_with_unknown_token_is_401_with_qads_body(
    http: httpx.AsyncClient, sandbox: QadSandbox
) -> None:
    url = f"{base(sandbox)}/api/erp/glAccounts"
    missing = await http.get(url)
    unknown = await http.get(url, headers=bearer("not-a-token"))
    basic = await http.get(url, headers={"Authorization": "Basic aW50OnB3"})
    for answer in (missing, unknown, basic):
        assert answer.status_code == 401
        assert answer.json() == UNAUTHORIZED
    assert sandbox.tenant("acme").stats()["unauthorized"] == 3


async def test_token_expires_on_the_clock(
    http: httpx.AsyncClient, sandbox: QadSandbox, clock: FakeClock
) -> None:
    token = await token_for(http, sandbox)
    url = f"{base(sandbox)}/api/erp/glAccounts"
    clock.now += 59
    assert (await http.get(url, headers=bearer(token))).status_code == 200
    clock.now += 1
    expired = await http.get(url, headers=bearer(token))
    assert expired.status_code == 401
    assert expired.json() == UNAUTHORIZED


async def test_refresh_still_works_after_the_access_token_expired(
    http: httpx.AsyncClient, sandbox: QadSandbox, clock: FakeClock
) -> None:
    tenant = sandbox.tenant("acme")
    first = (await http.post(f"{base(sandbox)}/oauth/token", data=password_form(tenant))).json()
    clock.now += 3600
    answer = await http.post(
        f"{base(sandbox)}/oauth/token",
        data={
            "client_id": tenant.client_id,
            "refresh_token": first["refresh_token"],
            "grant_type": "refresh_token",
        },
    )
    assert answer.status_code == 200
    url = f"{base(sandbox)}/api/erp/glAccounts"
    assert (await http.get(url, headers=bearer(answer.json()["access_token"]))).status_code == 200


async def test_expire_tokens_makes_the_next_call_401(
    http: httpx.AsyncClient, sandbox: QadSandbox
) -> None:
    token = await token_for(http, sandbox)
    url = f"{base(sandbox)}/api/erp/glAccounts"
    assert (await http.get(url, headers=bearer(token))).status_code == 200
    sandbox.tenant("acme").expire_tokens()
    assert (await http.get(url, headers=bearer(token))).status_code == 401
    fresh = await token_for(http, sandbox)
    assert (await http.get(url, headers=bearer(fresh))).status_code == 200


async def test_viewer_reads_but_gets_403_on_writes(
    http: httpx.AsyncClient, sandbox: QadSandbox
) -> None:
    token = await token_for(http, sandbox, username="viewer")
    read = await http.get(f"{base(sandbox)}/api/erp/supplierV2s", headers=bearer(token))
    assert read.status_code == 200
    assert read.json() == {"data": {"supplierV2s": []}}
    write = await http.post(
        f"{base(sandbox)}/api/erp/businessRelationV2s",
        json={"businessRelationV2s": [{"businessRelationCode": "BR1", "name": "X"}]},
        headers=bearer(token),
    )
    assert write.status_code == 403
    assert write.json() == FORBIDDEN
    assert sandbox.tenant("acme").business_relations == {}
    assert sandbox.tenant("acme").stats()["forbidden"] == 1


async def test_a_user_denied_a_resource_gets_403_on_reads_too(
    http: httpx.AsyncClient, sandbox: QadSandbox
) -> None:
    tenant = sandbox.tenant("acme")
    tenant.add_user("clerk", "clerk-pw", denied={"supplierInvoices"})
    answer = await http.post(
        f"{base(sandbox)}/oauth/token",
        data={
            "client_id": tenant.client_id,
            "username": "clerk",
            "password": "clerk-pw",
            "grant_type": "password",
        },
    )
    headers = bearer(answer.json()["access_token"])
    invoices = await http.get(f"{base(sandbox)}/api/erp/supplierInvoices", headers=headers)
    assert invoices.status_code == 403
    assert invoices.json() == FORBIDDEN
    items = await http.get(f"{base(sandbox)}/api/erp/items", headers=headers)
    assert items.status_code == 200


async def test_permission_state_tells_the_viewer_it_may_not_write(
    http: httpx.AsyncClient, sandbox: QadSandbox
) -> None:
    uri = "urn:be:com.qad.purchasing.purchaseorders.IPurchaseOrderHeader"
    url = f"{base(sandbox)}/api/qracore/permissionState"
    viewer = bearer(await token_for(http, sandbox, username="viewer"))
    writer = bearer(await token_for(http, sandbox))
    for headers, action, expected in (
        (viewer, "WRITE", False),
        (viewer, "READ", True),
        (writer, "WRITE", True),
        (writer, "CREATE", True),
    ):
        answer = await http.get(url, params={"uri": uri, "action": action}, headers=headers)
        assert answer.status_code == 200
        assert answer.json() == {"data": {"hasPermission": expected}}


async def test_a_token_of_one_tenant_is_401_on_another(
    http: httpx.AsyncClient, sandbox: QadSandbox
) -> None:
    acme_token = await token_for(http, sandbox, "acme")
    on_globex = await http.get(
        f"{base(sandbox, 'globex')}/api/erp/glAccounts", headers=bearer(acme_token)
    )
    assert on_globex.status_code == 401
    acme, globex = sandbox.tenant("acme"), sandbox.tenant("globex")
    assert acme.client_id != globex.client_id
    cross = await http.post(f"{base(sandbox, 'globex')}/oauth/token", data=password_form(acme))
    assert cross.status_code in (400, 401)
    assert cross.json()["error"] == "invalid_grant"


async def test_default_credentials_are_stable_fakes_per_seed_and_tenant() -> None:
    one = create_qad_sandbox(seed=7).tenant("acme")
    again = create_qad_sandbox(seed=7).tenant("acme")
    other = create_qad_sandbox(seed=8).tenant("acme")
    assert (one.client_id, one.password) == (again.client_id, again.password)
    assert one.client_id != other.client_id
    assert len(one.client_id) == 32
    int(one.client_id, 16)
    assert (one.domain, one.entity, one.username) == ("10USA", "10USACO", "integration")
    assert one.password not in repr(one)


async def test_explicit_credentials_are_used() -> None:
    sandbox = create_qad_sandbox(client_id="c" * 32, username="svc", password="s3cret")
    tenant = sandbox.tenant("acme")
    assert (tenant.client_id, tenant.username, tenant.password) == ("c" * 32, "svc", "s3cret")
    transport = httpx.ASGITransport(app=sandbox.app)
    async with httpx.AsyncClient(transport=transport, base_url=sandbox.base_url(ROOT)) as http:
        answer = await http.post("/oauth/token", data=password_form(tenant))
        assert answer.status_code == 200
        viewer = await http.post("/oauth/token", data=password_form(tenant, "viewer"))
        assert viewer.status_code == 200
