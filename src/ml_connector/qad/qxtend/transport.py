"""The send path to QXtend Inbound: one QDoc per POST, and what each answer means to the caller.

Every QDoc ml-connector posts is a write, and QXtend has no idempotency key, so a QDoc is
retried only when it provably never reached QXtend (the connection was not made). Anything else
that fails after the request left — a read timeout, a 5xx, a gateway's HTML page, a body that is
not a QDoc answer — raises `WriteOutcomeUnknown`, and the operation that posted reads back
before it decides to post again (`qad/operations.py`).

An answer becomes one of the project's error classes here, once (`classify`):

- `result` success or warning: returned, warnings kept (warning still means processed; D1);
- `result` error with a message about access: `PermissionDenied` (the user lacks the menu of the
  program the QDoc drives; D1);
- `result` error with "already exists": `AlreadyExists` (`A` on an existing key; D1 .31.33);
- any other `result` error: `RecordRejected` carrying the messages as field errors;
- a SOAP `Client` fault about credentials: `AuthRejected` (the session was refused);
- another `Client` fault: `ConfigError` (envelope, receiver or QDoc version do not fit);
- a SOAP `Server` fault, a 5xx, HTML or garbage: `WriteOutcomeUnknown` (it may have applied);
- HTTP 404: `QxtendNotExposed`, a `ConfigError` (use the `rest` profile);
- HTTP 401 / 403 from a gateway: `AuthRejected` / `PermissionDenied`.

The message texts matched are our reading of QXtend's (D1 describes the conditions, not the
wording): [INF]. The request body carries the password (session context), so no message, log
line or exception here ever includes it; errors name the QDoc and the URL.

QDocs go out through `HttpClient.call` (`ml_connector/wire.py`), like the REST API's requests.
"""

from __future__ import annotations

import asyncio
import random

import httpx
from lxml import etree

from ml_connector import backoff
from ml_connector.backoff import Sleep
from ml_connector.errors import (
    AlreadyExists,
    AuthRejected,
    ConfigError,
    FieldError,
    PermissionDenied,
    RecordRejected,
    Unavailable,
    WriteOutcomeUnknown,
)
from ml_connector.qad.inflight import DEFAULT_IN_FLIGHT, InFlight, LocalInFlight
from ml_connector.qad.qxtend.soap import (
    MalformedAnswer,
    QdocAnswer,
    QdocMessage,
    SessionContext,
    SoapFault,
    describe,
    parse_answer,
    request,
)
from ml_connector.wire import Answer, HttpClient

_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
_AUTH_WORDS = ("password", "authenticat", "credential", "login", "log in", "user name")
_ACCESS_WORDS = ("access to", "not authorized", "not authorised", "permission")
_DUPLICATE_WORDS = ("already exist",)


class QxtendNotExposed(ConfigError):
    """The tenant has no QdocWebService at the configured URL (a normal finding for clouds)."""

    @classmethod
    def at(cls, url: str) -> QxtendNotExposed:
        return cls(
            f"no QXtend QdocWebService at {url} (HTTP 404): this tenant does not expose "
            "QXtend Inbound; use the rest profile or set [qxtend] url"
        )


def _field_error(message: QdocMessage) -> FieldError:
    return FieldError(
        message=message.description,
        field=message.field,
        code=message.number,
        severity="error" if message.severity == "error" else "warning",
    )


def _has(text: str, words: tuple[str, ...]) -> bool:
    lowered = text.lower()
    return any(word in lowered for word in words)


def classify(answer: QdocAnswer | SoapFault, what: str) -> QdocAnswer:
    """The answer when QXtend processed the QDoc; otherwise the error it stands for."""
    if isinstance(answer, SoapFault):
        text = f"{answer.reason} {answer.detail}".strip()
        if answer.client_side and _has(text, _AUTH_WORDS):
            raise AuthRejected(f"QXtend refused the session for {what}: {text}", system="qad")
        if answer.client_side:
            raise ConfigError(f"QXtend refused {what}: {text} (check the profile's [qxtend])")
        raise WriteOutcomeUnknown(
            f"QXtend failed on {what}: {text}; it may or may not have been applied", system="qad"
        )
    if answer.result != "error":
        return answer
    errors = [_field_error(m) for m in answer.errors] or [
        FieldError(message=f"QXtend answered error to {what} without a message")
    ]
    text = "; ".join(e.message for e in errors)
    code = next((e.code for e in errors if e.code), None)
    if _has(text, _ACCESS_WORDS):
        raise PermissionDenied(f"QXtend: {text}", system="qad", code=code, errors=errors)
    if _has(text, _DUPLICATE_WORDS):
        raise AlreadyExists(text, system="qad", code=code, errors=errors)
    raise RecordRejected(text, system="qad", code=code, errors=errors)


_SOAP = ((b"Content-Type", b"text/xml; charset=utf-8"), (b"SOAPAction", b'""'))


class QdocTransport:
    """Posts QDocs to one tenant's QdocWebService. `calls` counts the POSTs sent."""

    def __init__(
        self,
        url: str,
        context: SessionContext,
        http: HttpClient,
        *,
        retries: int = 4,
        max_concurrency: int = DEFAULT_IN_FLIGHT,
        in_flight: InFlight | None = None,
        sleep: Sleep = asyncio.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.url = url
        self._url = httpx.URL(url)
        self.context = context
        self._http = http
        self._retries = max(0, retries)
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._slots = in_flight or LocalInFlight(max_concurrency)
        self.calls = 0

    def __repr__(self) -> str:
        return f"<QdocTransport {self.url} calls={self.calls}>"

    async def post(
        self, qdoc: str, payload: etree._Element, context: SessionContext | None = None
    ) -> QdocAnswer:
        """Post one QDoc and return its answer (raises per `classify`)."""
        session = context or self.context
        what = describe(qdoc, session)
        body = request(qdoc, session, payload)
        reason = "no attempt made"
        for attempt in range(self._retries + 1):
            if attempt:
                await self._sleep(backoff.QAD.delay(attempt, self._rng))
            try:
                async with self._slots.slot():
                    self.calls += 1
                    response = await self._http.call("POST", self._url, _SOAP, content=body)
            except _NOT_SENT as exc:
                reason = type(exc).__name__
                continue
            except httpx.TransportError as exc:
                raise WriteOutcomeUnknown(
                    f"{what} at {self.url}: {type(exc).__name__}; it may or may not have been "
                    "applied",
                    system="qad",
                ) from None
            return classify(self._read(response, what), what)
        raise Unavailable(
            f"cannot reach QXtend at {self.url}: {reason} after {self._retries + 1} attempts",
            system="qad",
        )

    def _read(self, response: Answer, what: str) -> QdocAnswer | SoapFault:
        status = response.status_code
        if status == 404:
            raise QxtendNotExposed.at(self.url)
        if 300 <= status < 400:
            raise ConfigError(
                f"QXtend at {self.url} answered a redirect (HTTP {status}), which is not followed"
            )
        if status == 401:
            raise AuthRejected(f"a gateway refused {what} at {self.url} (HTTP 401)", system="qad")
        if status == 403:
            raise PermissionDenied(
                f"a gateway refused {what} at {self.url} (HTTP 403)", system="qad", status=403
            )
        try:
            return parse_answer(response.content)
        except MalformedAnswer as exc:
            raise WriteOutcomeUnknown(
                f"{what} at {self.url}: HTTP {status}, {exc}; it may or may not have been applied",
                system="qad",
                status=status,
            ) from None

    async def wsdl(self) -> tuple[int, bytes]:
        """GET `?wsdl`: (status, body). Read-only; used by `connection fit`."""
        self.calls += 1
        try:
            response = await self._http.get(self.url, params={"wsdl": ""})
        except httpx.TransportError as exc:
            raise Unavailable(
                f"cannot reach QXtend at {self.url}: {type(exc).__name__}", system="qad"
            ) from None
        return response.status_code, response.content
