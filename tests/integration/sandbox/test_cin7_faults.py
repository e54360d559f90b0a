"""Fault injection, statistics and the `ml-connector sandbox cin7` command."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from typer.testing import CliRunner

from ml_connector.cli import app as cli_app
from ml_connector.sandbox.cin7 import Cin7Sandbox, Cin7SandboxError, create_cin7_sandbox
from ml_connector.sandbox.cin7.cli import is_loopback


@pytest.fixture
def sandbox() -> Cin7Sandbox:
    return create_cin7_sandbox(seed=4, suppliers=5, purchases=30, rate_limit=1000)


@pytest.fixture
async def http(sandbox: Cin7Sandbox) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=sandbox.app),
        base_url="http://cin7.test",
        headers=sandbox.headers,
    ) as client:
        yield client


async def test_error_fault_answers_500_with_an_error_array(http: httpx.AsyncClient) -> None:
    assert (await http.post("/_sandbox/faults", json={"error_rate": 1})).status_code == 200
    response = await http.get("/ExternalApi/v2/purchaseList")
    assert response.status_code == 500
    [error] = response.json()
    assert error["ErrorCode"] == 500
    assert error["Exception"]
    await http.post("/_sandbox/faults", json={"error_rate": 0})
    assert (await http.get("/ExternalApi/v2/purchaseList")).status_code == 200


async def test_html_fault_answers_200_with_a_page(http: httpx.AsyncClient) -> None:
    await http.post("/_sandbox/faults", json={"html_rate": 1.0})
    response = await http.get("/ExternalApi/v2/me")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.text.startswith("<!DOCTYPE html>")


async def test_timeout_fault_outlasts_a_short_client_timeout(
    http: httpx.AsyncClient, sandbox: Cin7Sandbox
) -> None:
    sandbox.state.set_faults(timeout_rate=1, timeout_seconds=30)
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(http.get("/ExternalApi/v2/me"), timeout=0.2)
    sandbox.state.set_faults(timeout_seconds=0)
    slow_but_answered = await http.get("/ExternalApi/v2/me")
    assert slow_but_answered.status_code == 200


async def test_fault_rates_mix_and_are_reproducible() -> None:
    async def outcomes() -> list[int]:
        sandbox = create_cin7_sandbox(seed=4, suppliers=3, purchases=5, rate_limit=1000)
        sandbox.state.set_faults(error_rate=0.3, html_rate=0.3)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=sandbox.app),
            base_url="http://cin7.test/ExternalApi/v2/",
            headers=sandbox.headers,
        ) as api:
            out = []
            for _ in range(60):
                response = await api.get("me")
                out.append(
                    500
                    if response.status_code == 500
                    else 1
                    if response.text.startswith("<")
                    else 200
                )
            return out

    first = await outcomes()
    assert set(first) == {200, 500, 1}
    assert first == await outcomes()


async def test_fault_settings_are_validated(http: httpx.AsyncClient, sandbox: Cin7Sandbox) -> None:
    for body in (
        {"error_rate": 2},
        {"error_rate": 0.6, "html_rate": 0.6},
        {"bogus": 1},
        {"rate_limit_per_minute": 0},
        {"timeout_rate": "often"},
    ):
        response = await http.post("/_sandbox/faults", json=body)
        assert response.status_code == 400, body
        assert response.json()[0]["ErrorCode"] == 400
    with pytest.raises(Cin7SandboxError):
        sandbox.state.set_faults(rate_limit_status=500)
    current = (await http.get("/_sandbox/faults")).json()
    assert current == {
        "error_rate": 0.0,
        "timeout_rate": 0.0,
        "html_rate": 0.0,
        "timeout_seconds": 30.0,
        "rate_limit_per_minute": 1000,
        "rate_limit_status": 429,
        "burst_rate": 0.0,
        "burst_seconds": 3.0,
    }


async def test_stats_count_every_api_call_by_path(
    http: httpx.AsyncClient, sandbox: Cin7Sandbox
) -> None:
    await http.get("/ExternalApi/v2/purchaseList")
    await http.get("/ExternalApi/v2/PURCHASELIST", params={"Page": 2})
    await http.get("/ExternalApi/v2/me", headers={"api-auth-applicationkey": "wrong"})
    await http.get("/externalapi/v2/ref/account")
    await http.post("/_sandbox/faults", json={"error_rate": 1})
    await http.get("/ExternalApi/v2/supplier")
    stats = (await http.get("/_sandbox/stats")).json()
    assert stats == {
        "calls": 5,
        "rate_limited": 0,
        "by_path": {"purchaseList": 2, "me": 1, "ref/account": 1, "supplier": 1},
        "faults": {"error": 1},
        "rate_window": 60.0,
        # The call with the wrong key was refused before the limiter: it spent no budget.
        "by_key": {
            sandbox.application_key.lower(): {"calls": 4, "rate_limited": 0, "peak_in_window": 4}
        },
    }
    reset = (await http.post("/_sandbox/stats/reset")).json()
    assert reset == {
        "calls": 0,
        "rate_limited": 0,
        "by_path": {},
        "faults": {},
        "rate_window": 60.0,
        "by_key": {},
    }


async def test_unknown_control_is_a_404(http: httpx.AsyncClient) -> None:
    response = await http.post("/_sandbox/nothing-here")
    assert response.status_code == 404


def test_loopback_only() -> None:
    assert is_loopback("127.0.0.1")
    assert is_loopback("::1")
    assert is_loopback("localhost")
    assert is_loopback("[::1]")
    assert is_loopback("127.0.0.2")
    assert not is_loopback("0.0.0.0")
    assert not is_loopback("192.168.1.5")
    assert not is_loopback("example.com")


def test_cli_refuses_a_non_loopback_host() -> None:
    result = CliRunner().invoke(cli_app, ["sandbox", "cin7", "--host", "0.0.0.0"])
    assert result.exit_code == 2
    assert "loopback" in result.output


def test_cli_offers_the_documented_options() -> None:
    result = CliRunner().invoke(cli_app, ["sandbox", "cin7", "--help"], terminal_width=200)
    assert result.exit_code == 0
    for option in (
        "--host",
        "--port",
        "--seed",
        "--suppliers",
        "--purchases",
        "--account-id",
        "--application-key",
        "--rate-limit",
        "--rate-limit-status",
    ):
        assert option in result.output


def test_public_surface() -> None:
    import ml_connector.sandbox.cin7 as package

    assert {"create_cin7_sandbox", "Cin7Sandbox"} <= set(package.__all__)
    assert all(hasattr(package, name) for name in package.__all__)
    sandbox = create_cin7_sandbox(seed=2, suppliers=2, purchases=2)
    for verb in (
        "create_purchase",
        "receive",
        "invoice",
        "void",
        "edit",
        "touch",
        "stats",
        "set_faults",
        "purchase_ids",
        "detail",
    ):
        assert callable(getattr(sandbox.state, verb))
