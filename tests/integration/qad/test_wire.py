"""The HTTP client (`wire.py`, as `qad/wire.py` sets it up for QAD) against scripted servers
on 127.0.0.1: keep-alive, large and chunked bodies, a connection the server dropped, timeouts,
refusals, cookies and TLS; and its lean entry point `call`, which must send and read the same
as httpx without its models."""

from __future__ import annotations

import asyncio
import datetime as dt
import gzip
import ipaddress
import ssl
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from qad_fakes import no_sleep, po_spec, sandbox_settings, supplier_spec
from scripted_http import answer, serving

from ml_connector.qad import QadOperations
from ml_connector.qad.models import ItemSpec
from ml_connector.qad.profile import BUILT_IN
from ml_connector.qad.rest import RestChannel
from ml_connector.qad.routing import build_channel
from ml_connector.qad.wire import qad_http_client
from ml_connector.sandbox.qad import create_qad_sandbox
from ml_connector.serve import ServerThread
from ml_connector.wire import Answer, HttpClient, HttpTransport


async def echo(request: bytes, writer: asyncio.StreamWriter) -> bool:
    body = request.split(b"\r\n\r\n", 1)[1]
    writer.write(answer(body or b"{}"))
    return True


def client(base: str, **kwargs: object) -> HttpClient:
    return qad_http_client(base, timeout=5, max_connections=4, **kwargs)  # type: ignore[arg-type]


async def test_requests_go_one_after_another_over_one_connection() -> None:
    transport = HttpTransport(httpx.Limits(max_connections=4))
    async with serving(echo) as (server, base), client(base, transport=transport) as http:
        for n in range(5):
            response = await http.get("api/erp/items", params={"itemCode": f"W{n}"})
            assert response.json() == {}
        posted = await http.post("api/erp/items", json={"items": [{"itemCode": "W9"}]})
    assert posted.json() == {"items": [{"itemCode": "W9"}]}
    assert server.connections == 1
    assert transport.connections == 1
    assert server.requests[2].startswith(b"GET /api/erp/items?itemCode=W2 HTTP/1.1\r\n")


async def test_a_large_chunked_answer_arrives_whole() -> None:
    payload = b"x" * (3 * 1024 * 1024)

    async def chunked(request: bytes, writer: asyncio.StreamWriter) -> bool:
        writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        for start in range(0, len(payload), 65536):
            chunk = payload[start : start + 65536]
            writer.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
        writer.write(b"0\r\n\r\n")
        return True

    async with serving(chunked) as (_, base), client(base) as http:
        async with http.stream("GET", "big") as response:
            # Unread, the answer fills the read buffer past its limit: reading pauses, and
            # resumes as the client catches up.
            await asyncio.sleep(0.3)
            body = await asyncio.wait_for(response.aread(), 10)
        again = await http.get("big")
    assert body == payload
    assert again.content == payload


async def test_a_large_request_body_is_sent_whole() -> None:
    body = {"lines": ["y" * 1000] * 4000}  # ~4 MB: the socket's write buffer fills on the way
    async with serving(echo) as (_, base), client(base) as http:
        response = await http.post("api/erp/supplierInvoices", json=body)
    assert response.json() == body


async def test_a_connection_the_server_dropped_while_idle_is_replaced() -> None:
    async def once(request: bytes, writer: asyncio.StreamWriter) -> bool:
        writer.write(answer())  # keep-alive by the headers, yet the server hangs up after it
        return False

    async with serving(once) as (server, base), client(base) as http:
        assert (await http.get("a")).json() == {"ok": True}
        await asyncio.sleep(0.05)  # the FIN arrives while the connection waits in the pool
        assert (await http.get("b")).json() == {"ok": True}
    assert server.connections == 2


async def test_a_server_that_closes_mid_answer_is_a_protocol_error() -> None:
    async def cut(request: bytes, writer: asyncio.StreamWriter) -> bool:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{")
        return False

    async with serving(cut) as (_, base), client(base) as http:
        with pytest.raises(httpx.RemoteProtocolError):
            await http.get("a")


async def test_a_silent_server_times_out_as_a_read_timeout() -> None:
    async def silent(request: bytes, writer: asyncio.StreamWriter) -> bool:
        await asyncio.sleep(2)
        return False

    async with (
        serving(silent) as (_, base),
        qad_http_client(base, timeout=0.2, max_connections=2) as http,
    ):
        with pytest.raises(httpx.ReadTimeout):
            await http.get("a")


async def test_an_answer_trickling_in_is_read_whole_though_it_takes_longer_than_the_timeout() -> (
    None
):
    body = b'{"ok": "' + b"x" * 30 + b'"}'

    async def trickle(request: bytes, writer: asyncio.StreamWriter) -> bool:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body))
        for start in range(0, len(body), 8):
            await writer.drain()
            await asyncio.sleep(0.1)  # each piece well within the read timeout, all of them not
            writer.write(body[start : start + 8])
        return True

    async with (
        serving(trickle) as (_, base),
        qad_http_client(base, timeout=0.3, max_connections=2) as http,
    ):
        assert (await http.get("a")).content == body
        assert (await http.call("GET", httpx.URL(base + "b"))).content == body


async def test_an_answer_that_stops_midway_times_out_as_a_read_timeout() -> None:
    async def stalls(request: bytes, writer: asyncio.StreamWriter) -> bool:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{")
        await writer.drain()
        await asyncio.sleep(2)
        return False

    async with (
        serving(stalls) as (_, base),
        qad_http_client(base, timeout=0.2, max_connections=2) as http,
    ):
        started = asyncio.get_running_loop().time()
        with pytest.raises(httpx.ReadTimeout):
            await http.call("GET", httpx.URL(base + "a"))
        assert asyncio.get_running_loop().time() - started < 1.5


async def test_requests_on_a_kept_connection_arm_no_timer_each(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    loop = asyncio.get_running_loop()
    armed: list[float] = []
    call_at = loop.call_at

    def counting(when: float, *args: Any, **kwargs: Any) -> asyncio.TimerHandle:
        armed.append(when)
        return call_at(when, *args, **kwargs)

    async with serving(echo) as (server, base), client(base) as http:
        url = httpx.URL(base + "api/erp/items")
        await http.call("GET", url)  # connects: the connect timeout, the stream's timer
        monkeypatch.setattr(loop, "call_at", counting)
        monkeypatch.setattr(loop, "call_later", lambda *a, **k: pytest.fail("call_later"))
        for n in range(20):
            assert (await http.call("POST", url, json={"n": n})).json() == {"n": n}
    assert server.connections == 1
    assert len(armed) <= 1  # the stream's one timer, re-armed when it came due, if at all


async def test_a_refused_connection_is_a_connect_error() -> None:
    listener = await asyncio.start_server(echo, "127.0.0.1", 0)  # type: ignore[arg-type]
    port = listener.sockets[0].getsockname()[1]
    listener.close()
    await listener.wait_closed()
    async with client(f"http://127.0.0.1:{port}/") as http:
        with pytest.raises(httpx.ConnectError):
            await http.get("a")


async def test_a_cancelled_request_leaves_the_client_usable() -> None:
    gate = asyncio.Event()

    async def slow_first(request: bytes, writer: asyncio.StreamWriter) -> bool:
        if b"GET /slow" in request:
            await gate.wait()
            return False
        writer.write(answer())
        return True

    async with serving(slow_first) as (_, base), client(base) as http:
        task = asyncio.create_task(http.get("slow"))
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        gate.set()
        assert (await http.get("fast")).json() == {"ok": True}


async def test_cookies_a_server_sets_are_sent_back() -> None:
    async def cookie(request: bytes, writer: asyncio.StreamWriter) -> bool:
        extra = "Set-Cookie: AWSALB=node7; Path=/\r\n" if b"GET /first" in request else ""
        writer.write(answer(extra=extra))
        return True

    async with serving(cookie) as (server, base), client(base) as http:
        await http.get("first")
        await http.get("second")  # no Set-Cookie: the jar keeps what it holds
        await http.get("third")
    assert b"AWSALB" not in server.requests[0]
    assert b"AWSALB=node7" in server.requests[1]
    assert b"AWSALB=node7" in server.requests[2]
    assert http.cookies.get("AWSALB") == "node7"


def _certificate(tmp_path: Path) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """A self-signed certificate for 127.0.0.1: the server's context and a client trusting it."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert_file, key_file)
    trusting = ssl.create_default_context(cafile=str(cert_file))
    return server, trusting


async def test_https_with_a_trusted_certificate(tmp_path: Path) -> None:
    server_tls, trusting = _certificate(tmp_path)
    limits = httpx.Limits(max_connections=2, max_keepalive_connections=2)
    async with (
        serving(echo, tls=server_tls) as (server, base),
        httpx.AsyncClient(base_url=base, transport=HttpTransport(limits, verify=trusting)) as http,
    ):
        first = await http.post("api/erp/items", json={"a": 1})
        second = await http.post("api/erp/items", json={"b": 2})
    assert (first.json(), second.json()) == ({"a": 1}, {"b": 2})
    assert server.connections == 1


async def test_https_with_an_unknown_certificate_is_refused(tmp_path: Path) -> None:
    server_tls, _ = _certificate(tmp_path)
    async with serving(echo, tls=server_tls) as (_, base), client(base) as http:
        with pytest.raises(httpx.ConnectError):
            await http.get("a")


async def test_no_more_requests_in_flight_than_the_limit() -> None:
    busy = 0
    most = 0

    async def slow(request: bytes, writer: asyncio.StreamWriter) -> bool:
        nonlocal busy, most
        busy += 1
        most = max(most, busy)
        await asyncio.sleep(0.05)
        busy -= 1
        writer.write(answer())
        return True

    transport = HttpTransport(httpx.Limits(max_connections=2))
    async with serving(slow) as (server, base), client(base, transport=transport) as http:
        answers = await asyncio.gather(*(http.get(f"p{n}") for n in range(6)))
    assert [a.status_code for a in answers] == [200] * 6
    assert most == 2
    assert server.connections == 2


async def test_waiting_for_a_slot_longer_than_the_pool_timeout_is_a_pool_timeout() -> None:
    async def slow(request: bytes, writer: asyncio.StreamWriter) -> bool:
        await asyncio.sleep(0.5)
        writer.write(answer())
        return True

    transport = HttpTransport(httpx.Limits(max_connections=1))
    async with (
        serving(slow) as (_, base),
        httpx.AsyncClient(
            base_url=base, transport=transport, timeout=httpx.Timeout(5, pool=0.1)
        ) as http,
    ):
        first = asyncio.create_task(http.get("a"))
        await asyncio.sleep(0.05)
        with pytest.raises(httpx.PoolTimeout):
            await http.get("b")
        assert (await first).status_code == 200


async def test_an_idle_connection_past_its_expiry_is_not_used() -> None:
    transport = HttpTransport(httpx.Limits(max_connections=2, keepalive_expiry=0.05))
    async with serving(echo) as (server, base), client(base, transport=transport) as http:
        await http.get("a")
        await http.get("b")  # at once: the same connection
        await asyncio.sleep(0.1)
        await http.get("c")
    assert server.connections == 2


async def test_an_answer_with_connection_close_is_not_kept() -> None:
    async def closing(request: bytes, writer: asyncio.StreamWriter) -> bool:
        writer.write(answer(extra="Connection: close\r\n"))
        return False

    async with serving(closing) as (server, base), client(base) as http:
        assert (await http.get("a")).json() == {"ok": True}
        assert (await http.get("b")).json() == {"ok": True}
    assert server.connections == 2


async def test_an_informational_answer_is_passed_over_and_gzip_is_decoded() -> None:
    packed = gzip.compress(b'{"ok": "unpacked"}')

    async def informational(request: bytes, writer: asyncio.StreamWriter) -> bool:
        writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        writer.write(answer(packed, extra="Content-Encoding: gzip\r\n"))
        return True

    async with serving(informational) as (_, base), client(base) as http:
        response = await http.post("a", json={"x": 1})
        again = await http.get("b")
    assert response.json() == {"ok": "unpacked"}
    assert again.json() == {"ok": "unpacked"}


# ---- the lean entry point: `HttpClient.call` -------------------------------------------------

AUTH = ((b"Authorization", b"Bearer tok-1"), (b"Accept", b"application/json"))


def _lines(request: bytes) -> tuple[str, list[bytes], bytes]:
    head, _, body = request.partition(b"\r\n\r\n")
    first, *headers = head.split(b"\r\n")
    return first.decode(), sorted(h.lower() for h in headers), body


async def test_call_sends_what_httpx_sends_without_building_its_models(
    no_httpx_models: list[str],
) -> None:
    body = {"items": [{"itemCode": "Wé", "qty": 1.5, "note": None}], "supplementaryMessages": []}
    async with serving(echo) as (server, base), client(base) as http:
        url = http.build_request("POST", "api/erp/items", params={"a": "1 2"}).url
        del no_httpx_models[:]
        answer = await http.call("POST", url, AUTH, json=body)
        read = await http.call("GET", url, AUTH)
        assert no_httpx_models == []
        await http.post(
            url, json=body, headers={"Authorization": "Bearer tok-1", "Accept": "application/json"}
        )
        await http.get(url, headers={"Authorization": "Bearer tok-1", "Accept": "application/json"})
    assert isinstance(answer, Answer)
    assert answer.json() == body
    assert read.json() == {}
    lean_post, lean_get, httpx_post, httpx_get = map(_lines, server.requests)
    assert lean_post == httpx_post
    assert lean_get == httpx_get
    assert lean_post[0] == "POST /api/erp/items?a=1+2 HTTP/1.1"
    assert b"content-type: application/json" in lean_post[1]
    assert not any(h.startswith(b"content-") for h in lean_get[1])
    assert server.connections == 1


async def test_call_with_bytes_or_no_body_sends_what_httpx_sends(
    no_httpx_models: list[str],
) -> None:
    soap = ((b"Content-Type", b"text/xml; charset=utf-8"), (b"SOAPAction", b'""'))
    qdoc = "<soapenv:Envelope>é</soapenv:Envelope>".encode()
    async with serving(echo) as (server, base), client(base) as http:
        url = httpx.URL(base + "qxi/services/QdocWebService")
        await http.call("POST", url, soap, content=qdoc)
        await http.call("POST", url, AUTH)
        await http.call("DELETE", url, AUTH)
        assert no_httpx_models == []
        await http.post(url, content=qdoc, headers=dict(soap))
        await http.post(url, headers=dict(AUTH))
        await http.delete(url, headers=dict(AUTH))
    lean_soap, lean_empty, lean_delete, *by_httpx = map(_lines, server.requests)
    assert [lean_soap, lean_empty, lean_delete] == by_httpx
    assert lean_soap[2] == qdoc
    assert b"content-length: 0" in lean_empty[1]
    assert not any(h.startswith(b"content-length") for h in lean_delete[1])


async def test_call_reads_status_headers_and_body() -> None:
    async def refuse(request: bytes, writer: asyncio.StreamWriter) -> bool:
        body = b'{"errors": [{"message": "no"}]}'
        writer.write(
            b"HTTP/1.1 422 Unprocessable\r\nX-Trace: abc\r\n"
            + f"Content-Length: {len(body)}\r\n\r\n".encode()
            + body
        )
        return True

    async with serving(refuse) as (_, base), client(base) as http:
        answer = await http.call("GET", httpx.URL(base + "a"), AUTH)
    assert answer.status_code == 422
    assert answer.header("x-trace") == answer.header("X-Trace") == "abc"
    assert answer.header("set-cookie") is None
    assert answer.content == b'{"errors": [{"message": "no"}]}'
    assert answer.json() == {"errors": [{"message": "no"}]}


async def test_call_answers_that_are_not_json_raise_value_error() -> None:
    async def html(request: bytes, writer: asyncio.StreamWriter) -> bool:
        writer.write(answer(b"<html>maintenance</html>"))
        return True

    async with serving(html) as (_, base), client(base) as http:
        got = await http.call("GET", httpx.URL(base + "a"), AUTH)
    with pytest.raises(ValueError, match="Expecting value"):
        got.json()


async def test_call_reads_chunked_informational_and_compressed_answers_on_one_connection() -> None:
    packed = gzip.compress(b'{"ok": "unpacked"}')

    async def varied(request: bytes, writer: asyncio.StreamWriter) -> bool:
        if b"GET /chunked" in request:
            writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
            writer.write(b'7\r\n{"ok": \r\n5\r\ntrue}\r\n0\r\n\r\n')
        else:
            writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            writer.write(answer(packed, extra="Content-Encoding: gzip\r\n"))
        return True

    async with serving(varied) as (server, base), client(base) as http:
        chunked = await http.call("GET", httpx.URL(base + "chunked"), AUTH)
        packed_answer = await http.call("POST", httpx.URL(base + "packed"), AUTH, json={})
        again = await http.call("GET", httpx.URL(base + "chunked"), AUTH)
    assert chunked.json() == again.json() == {"ok": True}
    assert packed_answer.json() == {"ok": "unpacked"}
    assert server.connections == 1


async def test_call_fails_as_httpx_fails() -> None:
    async def cut(request: bytes, writer: asyncio.StreamWriter) -> bool:
        if b"GET /silent" in request:
            await asyncio.sleep(1)
        else:
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{")
        return False

    async with (
        serving(cut) as (_, base),
        qad_http_client(base, timeout=0.2, max_connections=2) as http,
    ):
        with pytest.raises(httpx.RemoteProtocolError):
            await http.call("GET", httpx.URL(base + "cut"), AUTH)
        with pytest.raises(httpx.ReadTimeout):
            await http.call("GET", httpx.URL(base + "silent"), AUTH)
        with pytest.raises(httpx.LocalProtocolError):
            await http.call("GET", httpx.URL(base + "a"), ((b"Authorization", b"x\r\ny"),))
        with pytest.raises(httpx.UnsupportedProtocol):
            await http.call("GET", httpx.URL("ftp://127.0.0.1/a"), AUTH)
    listener = await asyncio.start_server(echo, "127.0.0.1", 0)  # type: ignore[arg-type]
    port = listener.sockets[0].getsockname()[1]
    listener.close()
    await listener.wait_closed()
    async with client(f"http://127.0.0.1:{port}/") as http:
        with pytest.raises(httpx.ConnectError):
            await http.call("GET", httpx.URL(f"http://127.0.0.1:{port}/a"), AUTH)
    with pytest.raises(RuntimeError, match="closed"):
        await http.call("GET", httpx.URL(f"http://127.0.0.1:{port}/a"), AUTH)


async def test_call_waits_for_a_slot_and_times_out_as_a_pool_timeout() -> None:
    async def slow(request: bytes, writer: asyncio.StreamWriter) -> bool:
        await asyncio.sleep(0.3)
        writer.write(answer())
        return True

    transport = HttpTransport(httpx.Limits(max_connections=1))
    async with (
        serving(slow) as (server, base),
        HttpClient(transport=transport, timeout=httpx.Timeout(5, pool=0.1)) as http,
    ):
        url = httpx.URL(base + "a")
        first = asyncio.create_task(http.call("GET", url, AUTH))
        await asyncio.sleep(0.05)
        with pytest.raises(httpx.PoolTimeout):
            await http.call("GET", url, AUTH)
        http.timeout = httpx.Timeout(5)
        waiting = asyncio.create_task(http.call("GET", url, AUTH))  # gets the slot when freed
        assert [(await first).status_code, (await waiting).status_code] == [200, 200]
    assert server.connections == 1


async def test_call_with_another_transport_goes_through_httpx() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(201, json={"n": len(seen)}, headers={"Set-Cookie": "lb=7; Path=/"})

    async with qad_http_client(
        "http://qad.test/", timeout=5, max_connections=2, transport=httpx.MockTransport(handler)
    ) as http:
        first = await http.call("POST", httpx.URL("http://qad.test/a"), AUTH, json={"x": "é"})
        await http.call("GET", httpx.URL("http://qad.test/b"), AUTH)
    assert (first.status_code, first.json(), first.header("content-type")) == (
        201,
        {"n": 1},
        "application/json",
    )
    assert seen[0].content == '{"x":"é"}'.encode()
    assert seen[0].headers["authorization"] == "Bearer tok-1"
    assert seen[1].headers["cookie"] == "lb=7"


async def test_the_rest_channel_reads_and_writes_over_the_lean_path(
    no_httpx_models: list[str],
) -> None:
    sandbox = create_qad_sandbox(tenants=("acme",), seed=7)
    spec = ItemSpec(
        code="MTR-075", description="Électric Motor", uom="EA", gl_account="630", unit_cost=1
    )
    with ServerThread(sandbox.app) as server:
        async with RestChannel(sandbox_settings(sandbox, server.url), sleep=no_sleep) as qad:
            assert await qad.get_item("WID-100") is not None
            assert no_httpx_models == ["Request", "Response"]  # the token request, via httpx
            sandbox.tenant("acme").expire_tokens()
            await qad.create_item(spec)
            created = await qad.get_item("MTR-075")
            calls = qad.calls
    # the 401 renewed the token (httpx again); no API call built an httpx model
    assert no_httpx_models == ["Request", "Response"] * 2
    assert created is not None
    assert created.description == "Électric Motor"
    assert calls >= 4
    assert sandbox.tenant("acme").stats()["unauthorized"] == 1


async def test_the_qxtend_channel_posts_qdocs_over_the_lean_path(
    no_httpx_models: list[str],
) -> None:
    sandbox = create_qad_sandbox(tenants=("acme",), seed=7)
    with ServerThread(sandbox.app) as server:
        settings = sandbox_settings(sandbox, server.url)
        async with build_channel(settings, BUILT_IN["qxtend"], sleep=no_sleep) as qad:
            ops = QadOperations(qad, sleep=no_sleep)
            await ops.ensure_supplier(supplier_spec())
            po = await ops.ensure_purchase_order(po_spec("QX000009", lines=2))
    assert no_httpx_models == ["Request", "Response"]  # the token request, via httpx
    assert po.number == "QX000009"
    by_path = sandbox.tenant("acme").stats()["by_path"]
    assert by_path["POST /qxi/services/QdocWebService maintainPurchaseOrder"] == 1
