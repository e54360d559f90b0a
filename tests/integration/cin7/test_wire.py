"""The Cin7 client's reads over the lean HTTP path (`wire.py`): against the Cin7 sandbox over a
socket without building an httpx model, the same bytes on the wire as httpx sent, and each kind
of answer or failure mapped as before."""

from __future__ import annotations

import asyncio
from collections.abc import Generator
from typing import Any

import httpx
import pytest
from cin7_fakes import ACCOUNT_ID, KEY
from scripted_http import answer, serving

from ml_connector.cin7 import Cin7Client, LocalPacer
from ml_connector.errors import AuthRejected, NotFound, RecordRejected, Unavailable
from ml_connector.sandbox.cin7 import create_cin7_sandbox
from ml_connector.serve import ServerThread
from ml_connector.testing import FakeClock
from ml_connector.wire import Answer

PARAMS = {
    "Page": 1,
    "Limit": 100,
    "UpdatedSince": "2026-08-28T12:59:44.05Z",
    "IncludeDeprecated": "true",
    "Search": "a b/c+é&x=y?",
}


def lean_client(base_url: str, clock: FakeClock, **kwargs: Any) -> Cin7Client:
    return Cin7Client(
        kwargs.pop("account_id", ACCOUNT_ID),
        kwargs.pop("application_key", KEY),
        base_url=base_url,
        pacer=LocalPacer(limit=100_000, clock=clock, sleep=clock.sleep),
        sleep=clock.sleep,
        **kwargs,
    )


class OldAuth(httpx.Auth):
    """How the client added its key headers when it sent through httpx's full path."""

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["api-auth-accountid"] = ACCOUNT_ID
        request.headers["api-auth-applicationkey"] = KEY
        yield request


async def test_reads_against_the_sandbox_build_no_httpx_model(
    no_httpx_models: list[str],
) -> None:
    sb = create_cin7_sandbox(seed=7, purchases=30, rate_limit=100_000)
    clock = FakeClock()
    with ServerThread(sb.app) as server:
        base = f"{server.url}/ExternalApi/v2/"
        client = lean_client(
            base, clock, account_id=sb.account_id, application_key=sb.application_key
        )
        async with client:
            company = await client.ping()
            rows = [row async for row in client.purchase_list()]
            details = [await client.purchase(row.id or "", row.type) for row in rows[:5]]
    assert no_httpx_models == []
    assert company.company
    assert len(rows) == 30
    assert [d.id for d in details] == [row.id for row in rows[:5]]
    assert client.calls >= 7
    assert client.calls == sb.state.stats()["calls"]


async def test_requests_on_the_wire_are_the_bytes_httpx_sent(no_httpx_models: list[str]) -> None:
    async def ok(request: bytes, writer: asyncio.StreamWriter) -> bool:
        writer.write(answer(b'{"Total": 0}'))
        return True

    clock = FakeClock()
    async with serving(ok) as (server, base):
        async with lean_client(f"{base}ExternalApi/v2", clock) as client:
            await client.get_json("purchaseList", PARAMS)
            await client.get_json("me")
        assert no_httpx_models == []
        async with httpx.AsyncClient(
            base_url=f"{base}ExternalApi/v2/",
            headers={"Accept": "application/json"},
            auth=OldAuth(),
            follow_redirects=False,
        ) as reference:
            await reference.request("GET", "purchaseList", params=PARAMS)
            await reference.request("GET", "me", params={})
    lean_list, lean_me, httpx_list, httpx_me = server.requests
    assert lean_list == httpx_list
    assert lean_me == httpx_me
    assert lean_list.startswith(
        b"GET /ExternalApi/v2/purchaseList?Page=1&Limit=100"
        b"&UpdatedSince=2026-08-28T12%3A59%3A44.05Z&IncludeDeprecated=true"
        b"&Search=a+b%2Fc%2B%C3%A9%26x%3Dy%3F HTTP/1.1\r\n"
    )
    assert b"\r\napi-auth-applicationkey: " + KEY.encode() + b"\r\n" in lean_list
    assert server.connections == 2  # the lean client kept its connection for both calls


@pytest.mark.parametrize("status", [429, 503])
async def test_a_rate_limit_waits_the_announced_seconds_then_asks_again(status: int) -> None:
    async def limited_once(request: bytes, writer: asyncio.StreamWriter) -> bool:
        if len(server.requests) == 1:
            body = b"You have exceeded 60 calls per 60 seconds"
            writer.write(
                f"HTTP/1.1 {status} Limited\r\nRetry-After: 42 Seconds\r\n"
                f"Content-Length: {len(body)}\r\n\r\n".encode()
                + body
            )
        else:
            writer.write(answer(b'{"Name": "Acme"}'))
        return True

    clock = FakeClock(start=0.0)
    async with serving(limited_once) as (server, base), lean_client(base, clock) as client:
        body = await client.get_json("me")
    assert body == {"Name": "Acme"}
    assert client.rate_limited == 1
    assert client.calls == 2
    assert clock.now >= 42  # waited what Retry-After announced (and the pacer's margin)


def _status(status: int, body: bytes, extra: str = "") -> bytes:
    return (
        f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n{extra}\r\n"
    ).encode() + body


@pytest.mark.parametrize(
    ("reply", "error", "status", "calls"),
    [
        (_status(401, b""), AuthRejected, 401, 1),
        (_status(403, b'[{"ErrorCode": 403, "Exception": "Bad key"}]'), AuthRejected, 403, 1),
        (_status(404, b""), NotFound, 404, 1),
        (_status(400, b'[{"ErrorCode": 7, "Exception": "No such ID"}]'), RecordRejected, 400, 1),
        (_status(302, b"", "Location: http://elsewhere.test/\r\n"), RecordRejected, 302, 1),
        (_status(500, b"boom"), Unavailable, 500, 3),
        (_status(200, b"<html>login</html>"), Unavailable, 200, 3),
    ],
)
async def test_answers_map_to_the_same_errors(
    reply: bytes, error: type[Exception], status: int, calls: int
) -> None:
    async def fixed(request: bytes, writer: asyncio.StreamWriter) -> bool:
        writer.write(reply)
        return True

    clock = FakeClock()
    async with serving(fixed) as (server, base), lean_client(base, clock, retries=2) as client:
        with pytest.raises(error) as caught:
            await client.get_json("purchase", {"ID": "x"})
    assert getattr(caught.value, "status", None) == status
    assert client.calls == len(server.requests) == calls  # a redirect is not followed


async def test_connection_failures_are_retried_then_unavailable() -> None:
    async def hang_up(request: bytes, writer: asyncio.StreamWriter) -> bool:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{")
        return False

    clock = FakeClock()
    async with serving(hang_up) as (server, base), lean_client(base, clock, retries=1) as client:
        with pytest.raises(Unavailable, match=r"connection failed \(RemoteProtocolError\)"):
            await client.get_json("me")
    assert client.calls == len(server.requests) == 2

    async with serving(hang_up) as (_, base):
        pass  # the port is free again: nothing listens there
    async with lean_client(base, clock, retries=1) as client:
        with pytest.raises(Unavailable, match=r"connection failed \(ConnectError\)"):
            await client.get_json("me")
    assert client.calls == 2


async def test_a_silent_server_times_out_and_is_retried() -> None:
    async def silent(request: bytes, writer: asyncio.StreamWriter) -> bool:
        await asyncio.sleep(5)
        return False

    clock = FakeClock()
    async with (
        serving(silent) as (_, base),
        lean_client(base, clock, retries=1, timeout=0.1) as client,
    ):
        with pytest.raises(Unavailable, match=r"timed out \(ReadTimeout\)"):
            await client.get_json("me")
    assert client.calls == 2


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        (None, "Señor ✓".encode()),
        ("application/json", "Señor ✓".encode()),
        ("application/json; charset=utf-8", "Señor ✓".encode()),
        ("text/plain; charset=ISO-8859-1", "Señor".encode("latin-1")),
        ('text/plain; charset="utf-16"', "Señor".encode("utf-16")),
        ("text/plain; charset=no-such-codec", "Señor".encode()),
        ("application/json", b"bad \xff byte"),
    ],
)
def test_answer_text_decodes_as_httpx_does(content_type: str | None, body: bytes) -> None:
    headers = [] if content_type is None else [(b"content-type", content_type.encode())]
    expected = httpx.Response(200, headers=headers, content=body).text
    assert Answer(200, headers, body).text == expected


async def test_a_proxy_the_environment_names_carries_the_reads(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Behind an egress proxy (HTTP_PROXY here) the reads go to the proxy, in absolute form."""

    async def proxy(request: bytes, writer: asyncio.StreamWriter) -> bool:
        writer.write(answer(b'{"Total": 0}'))
        return True

    clock = FakeClock()
    async with serving(proxy) as (server, proxy_url):
        monkeypatch.setenv("HTTP_PROXY", proxy_url)
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        # The host is never resolved nor reached: only the proxy on 127.0.0.1 is.
        async with lean_client("http://cin7.invalid/ExternalApi/v2", clock) as client:
            assert await client.get_json("me") == {"Total": 0}
    (request,) = server.requests
    assert request.startswith(b"GET http://cin7.invalid/ExternalApi/v2/me HTTP/1.1\r\n")
    assert b"\r\napi-auth-accountid: " + ACCOUNT_ID.encode() + b"\r\n" in request


async def test_a_host_the_environment_exempts_from_the_proxy_is_read_directly(
    monkeypatch: pytest.MonkeyPatch, no_httpx_models: list[str]
) -> None:
    async def ok(request: bytes, writer: asyncio.StreamWriter) -> bool:
        writer.write(answer(b'{"Total": 0}'))
        return True

    clock = FakeClock()
    async with serving(ok) as (server, base):
        monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # nothing listens: unused
        monkeypatch.setenv("NO_PROXY", "127.0.0.1")
        async with lean_client(f"{base}ExternalApi/v2", clock) as client:
            assert await client.get_json("me") == {"Total": 0}
    assert server.requests[0].startswith(b"GET /ExternalApi/v2/me HTTP/1.1\r\n")
    assert no_httpx_models == []  # the lean path
