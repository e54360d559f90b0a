"""Contract: token lifetime, single-flight refresh and ping against the QAD sandbox."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import httpx
import pytest
from qad_fakes import no_sleep, sandbox_client, sandbox_settings

from ml_connector.errors import AuthRejected, ConfigError, PermissionDenied, Unavailable
from ml_connector.qad.rest import RestChannel
from ml_connector.sandbox.qad import create_qad_sandbox
from ml_connector.serve import ServerThread, free_port
from ml_connector.testing import FakeClock


async def _cheap_read(qad: RestChannel) -> None:
    assert await qad.get_item("WID-100") is not None


async def test_two_second_tokens_over_a_long_run_in_real_time() -> None:
    sandbox = create_qad_sandbox(tenants=("acme",), seed=7, token_ttl=2)
    tenant = sandbox.tenant("acme")
    with ServerThread(sandbox.app) as server:
        async with RestChannel(sandbox_settings(sandbox, server.url), sleep=no_sleep) as qad:
            started = time.monotonic()
            for _ in range(50):
                await _cheap_read(qad)
                await asyncio.sleep(0.1)
            elapsed = time.monotonic() - started
    stats = tenant.stats()
    # Every call succeeded; every 401 (if the machine stalled) cost one renewal, no more.
    assert stats["calls"] == 50 + stats["unauthorized"]
    assert stats["unauthorized"] == qad.tokens.renewals
    assert stats["token_requests"] == qad.token_requests
    # A token is replaced once it is 1.5 s old (2 s minus the bounded margin), never sooner.
    assert elapsed >= 5
    assert 3 <= qad.token_requests <= elapsed / 1.5 + 2


async def test_each_expiry_costs_one_token_request_when_refreshed_ahead() -> None:
    clock = FakeClock(0)
    sandbox = create_qad_sandbox(tenants=("acme",), seed=7, token_ttl=2, clock=clock)
    async with sandbox_client(sandbox, clock=clock) as qad:
        for _ in range(60):
            await _cheap_read(qad)
            clock.advance(0.25)
    stats = sandbox.tenant("acme").stats()
    # 15 s of calls; a new token at 0, 1.5, 3, ... 13.5 s: ten tokens, no 401.
    assert stats["token_requests"] == qad.token_requests == 10
    assert stats["unauthorized"] == 0


async def test_each_expiry_costs_one_token_request_when_found_by_a_401() -> None:
    sandbox_clock = FakeClock(0)
    sandbox = create_qad_sandbox(tenants=("acme",), seed=7, token_ttl=2, clock=sandbox_clock)
    async with sandbox_client(
        sandbox, clock=FakeClock(0)
    ) as qad:  # the client never sees time pass
        for _ in range(60):
            await _cheap_read(qad)
            sandbox_clock.advance(0.25)
    stats = sandbox.tenant("acme").stats()
    # Tokens expire at 2, 4, ... 14 s: seven 401s, each answered by exactly one token request.
    assert stats["unauthorized"] == qad.tokens.renewals == 7
    assert stats["token_requests"] == qad.token_requests == 8
    assert stats["calls"] == 60 + 7


@pytest.fixture
def served() -> Iterator[tuple[object, str]]:
    sandbox = create_qad_sandbox(tenants=("acme",), seed=7)
    with ServerThread(sandbox.app) as server:
        yield sandbox, server.url


class Gate(httpx.AsyncBaseTransport):
    """Holds the first `size` API requests until all of them have been sent, so that they are
    truly in flight together; later requests pass straight through."""

    def __init__(self, size: int) -> None:
        self._inner = httpx.AsyncHTTPTransport()
        self._size = size
        self._arrived = 0
        self._all_in = asyncio.Event()
        self.armed = False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.armed and "/api/" in request.url.path and self._arrived < self._size:
            self._arrived += 1
            if self._arrived == self._size:
                self._all_in.set()
            await self._all_in.wait()
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()


async def test_eight_concurrent_calls_hitting_one_expiry_cause_one_refresh(served) -> None:  # type: ignore[no-untyped-def]
    sandbox, url = served
    tenant = sandbox.tenant("acme")
    gate = Gate(8)
    async with RestChannel(sandbox_settings(sandbox, url), transport=gate, sleep=no_sleep) as qad:
        await _cheap_read(qad)
        tenant.expire_tokens()
        gate.armed = True  # all eight carry the expired token when they reach QAD
        await asyncio.gather(*(_cheap_read(qad) for _ in range(8)))
    stats = tenant.stats()
    assert stats["unauthorized"] == 8
    assert stats["token_requests"] == 2
    assert qad.tokens.renewals == 1
    assert stats["calls"] == 1 + 8 + 8


async def test_eight_concurrent_calls_at_a_proactive_refresh_cause_one_token_request() -> None:
    clock = FakeClock(0)
    sandbox = create_qad_sandbox(tenants=("acme",), seed=7, token_ttl=2, clock=clock)
    async with sandbox_client(sandbox, clock=clock) as qad:
        await _cheap_read(qad)
        clock.advance(1.6)
        await asyncio.gather(*(_cheap_read(qad) for _ in range(8)))
    assert sandbox.tenant("acme").stats()["token_requests"] == 2


async def test_ping_succeeds(served) -> None:  # type: ignore[no-untyped-def]
    sandbox, url = served
    async with RestChannel(sandbox_settings(sandbox, url)) as qad:
        await qad.ping()
    assert qad.token_requests == 1


@pytest.mark.parametrize(
    ("overrides", "error", "says"),
    [
        ({"password": "wrong"}, AuthRejected, "username or password"),
        ({"username": "nobody"}, AuthRejected, "username or password"),
        ({"client_id": "0" * 32}, AuthRejected, "client id"),
        ({"username": "viewer"}, PermissionDenied, "missing permission"),
    ],
)
async def test_ping_says_what_is_wrong(served, overrides, error, says) -> None:  # type: ignore[no-untyped-def]
    sandbox, url = served
    async with RestChannel(sandbox_settings(sandbox, url, **overrides), sleep=no_sleep) as qad:
        with pytest.raises(error, match=says) as caught:
            await qad.ping()
    secret = overrides.get("password", sandbox.tenant("acme").password)
    assert secret not in str(caught.value)


async def test_ping_on_a_wrong_tenant_url_is_a_configuration_error(served) -> None:  # type: ignore[no-untyped-def]
    sandbox, url = served
    settings = sandbox_settings(sandbox, url).model_copy(
        update={"base_url": f"{url}/nosuch/clouderp"}
    )
    async with RestChannel(settings, sleep=no_sleep) as qad:
        with pytest.raises(ConfigError, match="wrong tenant URL"):
            await qad.ping()


async def test_ping_on_an_unreachable_host_is_unavailable() -> None:
    sandbox = create_qad_sandbox(tenants=("acme",), seed=7)
    settings = sandbox_settings(sandbox, f"http://127.0.0.1:{free_port()}")
    async with RestChannel(settings, sleep=no_sleep, retries=1) as qad:
        with pytest.raises(Unavailable, match="cannot reach QAD"):
            await qad.ping()
