"""Request targets built without parsing a URL per call (`wire.Target`, `wire.query_string`),
against what httpx builds from the same URL and `params=`: the same origin, Host, request target
and URL, for QAD's paths and query pairs and Cin7's endpoints and parameters."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ml_connector import wire
from ml_connector.cin7 import Cin7Client, LocalPacer
from ml_connector.http11 import Received
from ml_connector.qad.rest.transport import QadTransport
from ml_connector.wire import (
    HttpClient,
    HttpTransport,
    Origin,
    Target,
    Timeouts,
    origin_of,
    query_string,
)

pytestmark = pytest.mark.unit

BASES = [
    "http://127.0.0.1:8080/qad-central/",
    "https://qad.example.com/",
    "https://tenant.example.com:8443/qad-central/api/../",
    "http://h",
]
# Text with what URLs make special: separators, escapes, spaces, non-ASCII, dots.
text = st.text(alphabet=st.sampled_from("aZ09-_.~ /?#&=+%:@;,!$'()*[]é€\u3042\x7f"), max_size=12)
pairs = st.lists(st.tuples(text, text), max_size=5)


def seen(target: Target) -> tuple[Any, ...]:
    return target.origin, target.host, target.path, str(target.url)


def outcome(build: Callable[[], Target]) -> Any:
    """What a target built by `build` is, or the type of what it raised."""
    try:
        return seen(build())
    except httpx.InvalidURL as exc:
        return type(exc)


@given(pairs=pairs)
@settings(max_examples=300)
def test_query_string_is_urlencode(pairs: list[tuple[str, str]]) -> None:
    assert query_string(pairs) == urlencode(pairs)


@given(base=st.sampled_from(BASES), path=text, pairs=pairs.filter(bool))
@settings(max_examples=300)
def test_a_query_added_to_a_target_is_the_one_httpx_parses(
    base: str, path: str, pairs: list[tuple[str, str]]
) -> None:
    text = f"{base}{path}?{urlencode(pairs)}"
    whole = outcome(lambda: Target(httpx.URL(text)))
    try:
        bare = Target(httpx.URL(f"{base}{path}"))
    except httpx.InvalidURL:
        assert whole is httpx.InvalidURL
        return
    if "?" in path or "#" in path:
        assert not bare.bare
        return
    assert bare.bare
    assert seen(bare.with_query(query_string(pairs), lambda: httpx.URL(text))) == whole


class Capture(HttpTransport):
    """The lean transport as far as the bytes it would send: each request's origin and head
    are kept, and every answer is `{}`."""

    def __init__(self) -> None:
        super().__init__(httpx.Limits())
        self.sent: list[tuple[Origin, bytes]] = []

    async def exchange(
        self, origin: Origin, head: bytes, body: bytes, timeouts: Timeouts
    ) -> Received:
        self.sent.append((origin, head))
        json = [(b"content-type", b"application/json")]
        return Received(200, b"OK", json, b"{}", json, False)


def on_the_wire(capture: Capture) -> tuple[Any, ...]:
    """The origin, Host and request target of the request last sent."""
    origin, head = capture.sent[-1]
    line, *headers = head.split(b"\r\n")
    host = next(h.split(b": ", 1)[1] for h in headers if h.startswith(b"Host: "))
    return origin, host, line.split(b" ")[1]


def httpx_sends(url: Callable[[], httpx.URL]) -> Any:
    """What httpx makes of a URL: its origin, Host and request target (or what it raised)."""
    try:
        parsed = url()
    except httpx.InvalidURL as exc:
        return type(exc)
    return origin_of(parsed), parsed.netloc, parsed.raw_path


async def sent(capture: Capture, request: Awaitable[Any]) -> Any:
    try:
        await request
    except httpx.InvalidURL as exc:
        return type(exc)
    return on_the_wire(capture)


class Tokens:
    async def get(self) -> Any:
        return SimpleNamespace(value="tok-1")

    async def renew(self, stale: Any) -> Any:
        raise AssertionError("no 401 here")


@given(base=st.sampled_from(BASES), path=text, pairs=pairs, as_dict=st.booleans())
@settings(max_examples=300)
def test_qad_requests_go_where_httpx_would_send_them(
    base: str, path: str, pairs: list[tuple[str, str]], as_dict: bool
) -> None:
    capture = Capture()
    http = HttpClient(base_url=base, transport=capture)
    transport = QadTransport(http, Tokens())  # type: ignore[arg-type]
    params: Any = dict(pairs) if as_dict else pairs
    items = list(params.items()) if as_dict else pairs
    text_url = f"{http.base_url}{path}"
    theirs = httpx_sends(lambda: httpx.URL(f"{text_url}?{urlencode(items)}" if items else text_url))
    for _ in range(2):  # built, then kept
        assert asyncio.run(sent(capture, transport.get(path, params))) == theirs


value = text | st.integers(-5, 10**12) | st.booleans() | st.none() | st.floats(0, 9)


@given(
    base=st.sampled_from(BASES),
    endpoint=text,
    params=st.dictionaries(text, value, max_size=4),
)
@settings(max_examples=300)
def test_cin7_requests_go_where_httpx_would_send_them(
    base: str, endpoint: str, params: dict[str, Any]
) -> None:
    capture = Capture()
    client = Cin7Client("account", "key", base_url=base, transport=capture, pacer=LocalPacer())
    theirs = httpx_sends(lambda: httpx.URL(client.base_url + endpoint.lstrip("/"), params=params))
    for _ in range(2):
        assert asyncio.run(sent(capture, client.get_json(endpoint, params))) == theirs


async def test_a_target_for_another_scheme_is_refused_when_sent() -> None:
    target = Target(httpx.URL("ftp://files.example.com/x"))
    assert target.origin is None
    async with HttpClient(transport=HttpTransport(httpx.Limits())) as http:
        queried = target.with_query("a=1", lambda: httpx.URL("ftp://files.example.com/x?a=1"))
        for url in (target, queried, target.url):
            with pytest.raises(httpx.UnsupportedProtocol):
                await http.call("GET", url)


def test_escaped_texts_stay_those_of_urlencode_past_the_memory() -> None:
    texts = [f"urn:be:view.{n}" for n in range(wire.QUOTED_CACHE_SIZE + 10)]
    for _ in range(2):  # escaped, then remembered or escaped again
        for text in texts:
            assert query_string([("viewUri", text)]) == urlencode([("viewUri", text)])


@pytest.mark.parametrize("closing", ["aclose", "async with"])
async def test_a_closed_client_refuses_to_call_as_httpx_refuses_to_send(closing: str) -> None:
    http = HttpClient(transport=HttpTransport(httpx.Limits()))
    if closing == "aclose":
        await http.aclose()
    else:
        async with http:
            pass
    assert http.is_closed
    for send in (
        http.call("GET", httpx.URL("https://acme.example/x")),
        http.get("https://acme.example/x"),
    ):
        with pytest.raises(RuntimeError, match="client has been closed"):
            await send
