"""QXtend transport: what each kind of answer raises, and when a QDoc is (never) sent again."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from lxml import etree
from pydantic import SecretStr

from ml_connector.errors import (
    AlreadyExists,
    AuthRejected,
    ConfigError,
    PermissionDenied,
    RecordRejected,
    Unavailable,
    WriteOutcomeUnknown,
)
from ml_connector.qad.qxtend.soap import SessionContext
from ml_connector.qad.qxtend.transport import (
    QdocTransport,
    QxtendNotExposed,
)
from ml_connector.wire import HttpClient

URL = "https://acme.example/clouderp/qxi/services/QdocWebService"
CONTEXT = SessionContext(username="integration", password=SecretStr("s3cret&"), domain="10USA")


def answer(result: str, *messages: tuple[str, str]) -> bytes:
    rows = "".join(
        f"<c:temp_err_msg><c:tt_msg_desc>{d}</c:tt_msg_desc><c:tt_msg_sev>{s}</c:tt_msg_sev>"
        "<c:tt_msg_nbr>2040</c:tt_msg_nbr></c:temp_err_msg>"
        for d, s in messages
    )
    return (
        '<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/" '
        'xmlns:q="urn:schemas-qad-com:xml-services" '
        'xmlns:c="urn:schemas-qad-com:xml-services:common"><e:Body><q:xResponse>'
        f"<q:result>{result}</q:result><c:dsExceptions>{rows}</c:dsExceptions>"
        "</q:xResponse></e:Body></e:Envelope>"
    ).encode()


def soap_fault(code: str, reason: str) -> bytes:
    return (
        '<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/"><e:Body><e:Fault>'
        f"<faultcode>e:{code}</faultcode><faultstring>{reason}</faultstring>"
        "</e:Fault></e:Body></e:Envelope>"
    ).encode()


Handler = Callable[[httpx.Request], httpx.Response]


async def post(handler: Handler, *, retries: int = 2) -> tuple[object, int, list[bytes]]:
    bodies: list[bytes] = []

    def recording(request: httpx.Request) -> httpx.Response:
        bodies.append(request.content)
        return handler(request)

    async def no_sleep(_: float) -> None:
        return None

    async with HttpClient(transport=httpx.MockTransport(recording)) as http:
        transport = QdocTransport(URL, CONTEXT, http, retries=retries, sleep=no_sleep)
        try:
            result: object = await transport.post("receivePurchaseOrder", etree.Element("doc"))
        except Exception as exc:
            result = exc
        return result, transport.calls, bodies


async def test_success_and_warning_are_returned_with_the_warnings() -> None:
    ok, calls, bodies = await post(lambda r: httpx.Response(200, content=answer("success")))
    assert getattr(ok, "result", None) == "success"
    assert calls == 1
    assert b"<qcom:propertyValue>s3cret&amp;</qcom:propertyValue>" in bodies[0]
    warned, _, _ = await post(
        lambda r: httpx.Response(200, content=answer("warning", ("Reference exists", "warning")))
    )
    assert [w.description for w in getattr(warned, "warnings", ())] == ["Reference exists"]


@pytest.mark.parametrize(
    ("body", "status", "kind"),
    [
        (answer("error", ("ERROR: Item X does not exist", "error")), 200, RecordRejected),
        (
            answer("error", ("ERROR: User viewer does not have access to x", "error")),
            200,
            PermissionDenied,
        ),
        (
            answer("error", ("ERROR: Purchase order P1 already exists", "error")),
            200,
            AlreadyExists,
        ),
        (answer("error"), 200, RecordRejected),
        (
            soap_fault("Client", "Authentication failed: invalid user name or password"),
            500,
            AuthRejected,
        ),
        (soap_fault("Client", "No API maintainX is registered"), 500, ConfigError),
        (soap_fault("Server", "Internal error"), 500, WriteOutcomeUnknown),
        (b"<html>502 Bad Gateway</html>", 502, WriteOutcomeUnknown),
        (b"<html>maintenance</html>", 200, WriteOutcomeUnknown),
        (b"", 404, QxtendNotExposed),
        (b"", 302, ConfigError),
        (b"", 401, AuthRejected),
        (b"", 403, PermissionDenied),
    ],
)
async def test_each_answer_raises_its_class_and_is_not_sent_again(
    body: bytes, status: int, kind: type[Exception]
) -> None:
    raised, calls, _ = await post(lambda r: httpx.Response(status, content=body))
    assert type(raised) is kind
    assert calls == 1
    assert "s3cret" not in str(raised)


async def test_refusal_messages_become_field_errors() -> None:
    raised, _, _ = await post(
        lambda r: httpx.Response(
            200,
            content=answer(
                "error", ("ERROR: Item X does not exist", "error"), ("note", "information")
            ),
        )
    )
    assert isinstance(raised, RecordRejected)
    assert raised.message == "ERROR: Item X does not exist"
    assert [(e.message, e.code) for e in raised.errors] == [
        ("ERROR: Item X does not exist", "2040")
    ]


async def test_a_connection_never_made_is_retried_then_unavailable() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    raised, calls, _ = await post(refuse, retries=2)
    assert isinstance(raised, Unavailable)
    assert not isinstance(raised, WriteOutcomeUnknown)
    assert calls == 3


async def test_a_lost_answer_is_never_sent_again() -> None:
    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    raised, calls, _ = await post(slow)
    assert isinstance(raised, WriteOutcomeUnknown)
    assert calls == 1


async def test_the_wsdl_probe_is_a_get() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=b"<definitions/>")

    async with HttpClient(transport=httpx.MockTransport(handler)) as http:
        transport = QdocTransport(URL, CONTEXT, http)
        assert await transport.wsdl() == (200, b"<definitions/>")
    assert (seen[0].method, seen[0].url.query) == ("GET", b"wsdl=")
