"""Token manager: caching, early refresh, single-flight renewal after a 401, 403 handling."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from qad_fakes import PASSWORD, FakeQad, ok

from ml_connector.errors import AuthRejected, ConfigError, PermissionDenied, Unavailable
from ml_connector.qad.rest.auth import refresh_margin
from ml_connector.testing import FakeClock

SITES = "api/qracore/browses"


async def _read(client) -> None:  # type: ignore[no-untyped-def]
    await client.transport.get("api/erp/items", {"itemCode": "X"})


def test_refresh_margin_is_bounded_for_short_lifetimes() -> None:
    assert refresh_margin(1800) == 60
    assert refresh_margin(2) == 0.5
    assert refresh_margin(60) == 15


async def test_token_is_cached_across_calls() -> None:
    qad = FakeQad()
    async with qad.client() as client:
        for _ in range(5):
            await _read(client)
    assert qad.token_requests == 1
    assert client.token_requests == 1
    assert qad.api_calls == 5
    assert qad.token_forms[0]["grant_type"] == "password"
    assert qad.token_forms[0]["password"] == PASSWORD


async def test_token_refreshed_shortly_before_expiry_with_the_refresh_grant() -> None:
    clock = FakeClock()
    qad = FakeQad(ttl=2)
    async with qad.client(clock=clock) as client:
        await _read(client)
        clock.advance(1.4)  # still more than the 0.5 s margin left
        await _read(client)
        assert qad.token_requests == 1
        clock.advance(0.2)  # inside the margin: replace it before QAD would refuse it
        await _read(client)
    assert qad.token_requests == 2
    assert qad.unauthorized == 0
    assert qad.token_forms[1] == {
        "grant_type": "refresh_token",
        "client_id": "client-1",
        "refresh_token": "refresh-1",
    }


async def test_password_grant_when_no_refresh_token_is_issued() -> None:
    clock = FakeClock()
    qad = FakeQad(ttl=100, refresh_tokens=False)
    async with qad.client(clock=clock) as client:
        await _read(client)
        clock.advance(99)
        await _read(client)
    assert [f["grant_type"] for f in qad.token_forms] == ["password", "password"]


async def test_refused_refresh_token_falls_back_to_the_password_grant() -> None:
    clock = FakeClock()
    qad = FakeQad(ttl=100)

    def reply(form: dict[str, str]) -> httpx.Response | None:
        if form["grant_type"] == "refresh_token":
            return httpx.Response(401, json={"error": "invalid_grant"})
        return None

    qad.token_reply = reply
    async with qad.client(clock=clock) as client:
        await _read(client)
        clock.advance(99)
        await _read(client)
    assert [f["grant_type"] for f in qad.token_forms] == ["password", "refresh_token", "password"]


async def test_401_renews_once_and_retries_the_call() -> None:
    qad = FakeQad()
    async with qad.client() as client:
        await _read(client)
        qad.expire_all()
        await _read(client)
    assert qad.token_requests == 2
    assert qad.unauthorized == 1
    assert client.tokens.renewals == 1
    assert qad.seen_auth[-1] == "Bearer tok-2"


async def test_eight_concurrent_calls_hitting_one_expiry_cost_one_token_request() -> None:
    qad = FakeQad()

    async def slow(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(0)
        return ok()

    qad.api = slow
    async with qad.client(max_concurrency=8) as client:
        await _read(client)
        qad.expire_all()
        await asyncio.gather(*(_read(client) for _ in range(8)))
    assert qad.unauthorized == 8
    assert qad.token_requests == 2
    assert client.tokens.renewals == 1


async def test_eight_concurrent_first_calls_log_in_once() -> None:
    qad = FakeQad()
    async with qad.client() as client:
        await asyncio.gather(*(_read(client) for _ in range(8)))
    assert qad.token_requests == 1


async def test_eight_concurrent_calls_at_proactive_expiry_refresh_once() -> None:
    clock = FakeClock()
    qad = FakeQad(ttl=10)
    async with qad.client(clock=clock) as client:
        await _read(client)
        clock.advance(9)
        await asyncio.gather(*(_read(client) for _ in range(8)))
    assert qad.token_requests == 2
    assert qad.unauthorized == 0


async def test_second_401_is_an_auth_error() -> None:
    qad = FakeQad()
    qad.api = lambda request: httpx.Response(401, json={"errors": []})
    async with qad.client() as client:
        with pytest.raises(AuthRejected) as caught:
            await _read(client)
    assert not isinstance(caught.value, PermissionDenied)
    assert caught.value.status == 401
    assert qad.api_calls == 2
    assert qad.token_requests == 2


async def test_403_is_a_permission_error_and_never_retried() -> None:
    qad = FakeQad()
    qad.api = lambda request: httpx.Response(
        403,
        json={
            "errors": [
                {"severity": 1, "code": "403", "message": "Access is denied", "fieldName": ""}
            ]
        },
    )
    async with qad.client(retries=4) as client:
        with pytest.raises(PermissionDenied, match="Access is denied") as caught:
            await client.transport.post("api/erp/items", {"items": []}, idempotent=False)
    assert caught.value.status == 403
    assert qad.api_calls == 1
    assert qad.token_requests == 1


@pytest.mark.parametrize(
    ("status", "error", "expected"),
    [
        (401, "invalid_grant", "username or password"),
        (400, "invalid_grant", "client id"),
    ],
)
async def test_refused_login_says_why_without_the_password(
    status: int, error: str, expected: str
) -> None:
    qad = FakeQad()
    qad.token_reply = lambda form: httpx.Response(
        status, json={"error": error, "error_description": f"no such login {PASSWORD}"}
    )
    async with qad.client() as client:
        with pytest.raises(AuthRejected, match=expected) as caught:
            await _read(client)
    assert PASSWORD not in str(caught.value)
    assert PASSWORD not in repr(caught.value)
    assert qad.token_requests == 1  # a refused login is not retried
    assert qad.api_calls == 0


async def test_token_endpoint_404_is_a_configuration_error() -> None:
    qad = FakeQad()
    qad.token_reply = lambda form: httpx.Response(404, text="Not Found")
    async with qad.client() as client:
        with pytest.raises(ConfigError, match="wrong tenant URL"):
            await _read(client)


async def test_token_endpoint_outage_is_retried_then_unavailable() -> None:
    qad = FakeQad()
    qad.token_reply = lambda form: httpx.Response(503, text="<html>down</html>")
    async with qad.client(retries=2) as client:
        with pytest.raises(Unavailable):
            await _read(client)
    assert qad.token_requests == 3


async def test_old_token_kept_while_the_endpoint_is_down_and_the_token_still_valid() -> None:
    clock = FakeClock()
    qad = FakeQad(ttl=100)
    async with qad.client(clock=clock, retries=1) as client:
        await _read(client)
        qad.token_reply = lambda form: httpx.Response(502, text="bad gateway")
        clock.advance(90)  # due for refresh, not yet expired
        await _read(client)
    assert qad.seen_auth[-1] == "Bearer tok-1"


async def test_no_secret_in_reprs() -> None:
    qad = FakeQad()
    async with qad.client() as client:
        await _read(client)
        token = await client.tokens.get()
        for text in (repr(client), repr(client.tokens), repr(token), repr(client.settings)):
            assert "tok-1" not in text
            assert "refresh-1" not in text
            assert PASSWORD not in text
