"""The sandbox's rolling rate limit, driven by a fake clock: no real waiting."""

from __future__ import annotations

import httpx
import pytest

from ml_connector.sandbox.cin7 import Cin7Sandbox, create_cin7_sandbox
from ml_connector.serve import ServerThread
from ml_connector.testing import FakeClock

RATE_HEADERS = ("x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset", "retry-after")


def build(clock: FakeClock, **kw: object) -> Cin7Sandbox:
    return create_cin7_sandbox(seed=5, suppliers=5, purchases=20, clock=clock, **kw)  # type: ignore[arg-type]


def client(sandbox: Cin7Sandbox, headers: dict[str, str] | None = None) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=sandbox.app),
        base_url="http://cin7.test",
        headers=headers if headers is not None else sandbox.headers,
    )


async def test_over_the_limit_answers_429_with_the_live_body_and_headers() -> None:
    clock = FakeClock(5000.0)
    sandbox = build(clock, rate_limit=3)
    async with client(sandbox) as api:
        for _ in range(3):
            ok = await api.get("/ExternalApi/v2/me")
            assert ok.status_code == 200
            assert not any(h in ok.headers for h in RATE_HEADERS), "no rate headers on 2xx"
            clock.advance(10)
        refused = await api.get("/ExternalApi/v2/me")
    assert refused.status_code == 429
    assert refused.headers["content-type"].startswith("text/plain")
    assert refused.text == "You have reached 3 calls per 60 seconds API limit."
    assert refused.headers["x-ratelimit-limit"] == "3"
    assert refused.headers["x-ratelimit-remaining"] == "0"
    # the oldest call (t=0) leaves the window at t=60; now is t=30
    assert refused.headers["retry-after"] == "30 Seconds"
    assert refused.headers["x-ratelimit-reset"] == "30"


async def test_the_window_rolls_call_by_call() -> None:
    clock = FakeClock(5000.0)
    sandbox = build(clock, rate_limit=3)
    async with client(sandbox) as api:
        for _ in range(3):  # calls at t=0, 10, 20
            assert (await api.get("/ExternalApi/v2/me")).status_code == 200
            clock.advance(10)
        clock.advance(29.5)  # t=59.5
        almost = await api.get("/ExternalApi/v2/me")
        assert almost.status_code == 429
        assert almost.headers["retry-after"] == "1 Seconds"
        clock.advance(0.5)  # t=60: the call at t=0 has left
        assert (await api.get("/ExternalApi/v2/me")).status_code == 200
        again = await api.get("/ExternalApi/v2/me")  # window holds t=10, 20, 60
        assert again.status_code == 429
        assert again.headers["retry-after"] == "10 Seconds"
        clock.advance(10)
        assert (await api.get("/ExternalApi/v2/me")).status_code == 200


async def test_default_limit_is_sixty_calls_per_sixty_seconds() -> None:
    clock = FakeClock(5000.0)
    sandbox = build(clock)
    async with client(sandbox) as api:
        statuses = [(await api.get("/ExternalApi/v2/me")).status_code for _ in range(61)]
        assert statuses == [200] * 60 + [429]
        refused = await api.get("/ExternalApi/v2/me")
        assert refused.text == "You have reached 60 calls per 60 seconds API limit."
        assert refused.headers["retry-after"] == "60 Seconds"


async def test_older_mode_answers_503_with_the_same_text() -> None:
    clock = FakeClock(5000.0)
    sandbox = build(clock, rate_limit=1, rate_limit_status=503)
    async with client(sandbox) as api:
        assert (await api.get("/ExternalApi/v2/me")).status_code == 200
        refused = await api.get("/ExternalApi/v2/me")
    assert refused.status_code == 503
    assert refused.text == "You have reached 1 calls per 60 seconds API limit."


async def test_faults_endpoint_changes_the_limit_and_the_status() -> None:
    clock = FakeClock(5000.0)
    sandbox = build(clock)
    async with client(sandbox) as api:
        response = await api.post(
            "/_sandbox/faults", json={"rate_limit_per_minute": 2, "rate_limit_status": 503}
        )
        assert response.status_code == 200
        assert response.json()["rate_limit_per_minute"] == 2
        codes = [(await api.get("/ExternalApi/v2/me")).status_code for _ in range(3)]
        assert codes == [200, 200, 503]
        bad = await api.post("/_sandbox/faults", json={"rate_limit_status": 418})
        assert bad.status_code == 400


async def test_each_application_key_has_its_own_budget() -> None:
    clock = FakeClock(5000.0)
    sandbox = build(clock, rate_limit=2)
    sandbox.state.add_application_key("second-application-key")
    second = {**sandbox.headers, "api-auth-applicationkey": "second-application-key"}
    async with client(sandbox) as first, client(sandbox, second) as other:
        assert [(await first.get("/ExternalApi/v2/me")).status_code for _ in range(3)] == [
            200,
            200,
            429,
        ]
        assert (await other.get("/ExternalApi/v2/me")).status_code == 200


async def test_sandbox_controls_are_neither_limited_nor_counted() -> None:
    clock = FakeClock(5000.0)
    sandbox = build(clock, rate_limit=1)
    async with client(sandbox) as api:
        assert (await api.get("/ExternalApi/v2/me")).status_code == 200
        for _ in range(5):
            assert (await api.get("/_sandbox/stats")).status_code == 200
        assert (await api.get("/ExternalApi/v2/purchaseList")).status_code == 429
        stats = (await api.get("/_sandbox/stats")).json()
    key = sandbox.application_key.lower()
    assert stats == {
        "calls": 2,
        "rate_limited": 1,
        "by_path": {"me": 1, "purchaseList": 1},
        "faults": {},
        "rate_window": 60.0,
        "by_key": {key: {"calls": 2, "rate_limited": 1, "peak_in_window": 2}},
    }


@pytest.mark.parametrize("status", [429, 503])
def test_rate_limit_answer_over_real_http(status: int) -> None:
    sandbox = create_cin7_sandbox(
        seed=5, suppliers=3, purchases=5, rate_limit=1, rate_limit_status=status
    )
    with (
        ServerThread(sandbox.app) as server,
        httpx.Client(
            base_url=f"{server.url}/ExternalApi/v2/", headers=sandbox.headers, timeout=10
        ) as api,
    ):
        ok = api.get("me")
        refused = api.get("me")
    assert ok.status_code == 200
    assert "retry-after" not in ok.headers
    assert refused.status_code == status
    assert refused.headers["retry-after"].endswith(" Seconds")
    assert int(refused.headers["retry-after"].split()[0]) in range(1, 61)


async def test_a_burst_refuses_every_call_until_it_ends_and_is_counted_as_a_fault() -> None:
    clock = FakeClock(5000.0)
    sandbox = build(clock, rate_limit=1000)
    sandbox.state.set_faults(burst_rate=1, burst_seconds=2.5)
    async with client(sandbox) as api:
        first = await api.get("/ExternalApi/v2/me")
        assert first.status_code == 429
        assert first.headers["Retry-After"] == "3 Seconds"
        sandbox.state.set_faults(burst_rate=0)
        clock.advance(1)
        during = await api.get("/ExternalApi/v2/me")
        assert during.status_code == 429
        assert during.headers["Retry-After"] == "2 Seconds"
        clock.advance(2)
        assert (await api.get("/ExternalApi/v2/me")).status_code == 200
        stats = (await api.get("/_sandbox/stats")).json()
    assert stats["rate_limited"] == 2
    assert stats["faults"] == {"burst": 2}
