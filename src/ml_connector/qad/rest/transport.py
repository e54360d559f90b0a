"""The send path to QAD: concurrency bound → retry → auth → HTTP, and envelope parsing.

Each layer is one function:

- `QadTransport._send` holds an in-flight slot of the tenant per attempt (`qad/inflight.py`)
  and retries what is safe to retry:
  timeouts, connection errors, 5xx and bodies that are not JSON, with jittered exponential
  backoff.
- `QadTransport._attempt` adds the bearer token; on a 401 it asks the token manager for one
  renewal (shared with every concurrent caller) and sends once more; a second 401 is
  `AuthRejected`. A 403 is `PermissionDenied` and is never retried.
- `QadTransport._request` sends one request through `HttpClient.call` (`ml_connector/wire.py`),
  with the bearer token's headers built once per token.
- `classify` turns one answer into JSON or an error.

Writes are not retried blindly. A POST marked `idempotent=False` is retried only when the failure
proves QAD never saw it (the connection was not made, or a 401). When it may have reached QAD
(read timeout, 5xx, garbage body) the transport raises `WriteOutcomeUnknown` and the operation
that issued it reads back before deciding to post again (`qad/operations.py`).
"""

from __future__ import annotations

import asyncio
import functools
import random
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import httpx

from ml_connector import backoff
from ml_connector.backoff import Sleep
from ml_connector.errors import (
    AlreadyExists,
    AuthRejected,
    FieldError,
    PermissionDenied,
    RecordRejected,
    StaleRecord,
    Unavailable,
    WriteOutcomeUnknown,
    WrongTenantUrl,
)
from ml_connector.qad.inflight import DEFAULT_IN_FLIGHT, InFlight, LocalInFlight
from ml_connector.qad.rest.auth import NOT_JSON, TokenManager
from ml_connector.wire import Answer, Header, HttpClient, Target, query_string

Params = dict[str, str] | list[tuple[str, str]]
URL_CACHE_SIZE = 256
DUPLICATE_CODE = "2040"


@dataclass
class _Retryable(Exception):
    """One attempt failed in a way worth retrying."""

    reason: str
    status: int | None = None
    maybe_applied: bool = True
    not_json: bool = False


# ---- envelopes ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SubmitResult:
    """QAD's `submitResult` read into errors (severity 1) and warnings (severity 0)."""

    success: bool
    errors: list[FieldError] = field(default_factory=list)
    warnings: list[FieldError] = field(default_factory=list)


def _is_warning(severity: Any) -> bool:
    if isinstance(severity, bool):
        return not severity
    if isinstance(severity, int | float):
        return severity == 0
    return str(severity).strip().lower() in ("0", "warning", "info", "information", "informational")


def _field_error(entry: Any, *, warning: bool) -> FieldError:
    if not isinstance(entry, dict):
        return FieldError(message=str(entry), severity="warning" if warning else "error")
    value = entry.get("fieldValue", entry.get("value", ""))
    return FieldError(
        message=str(entry.get("message") or ""),
        field=str(entry.get("fieldName") or ""),
        value="" if value is None else str(value),
        code="" if entry.get("code") is None else str(entry.get("code")),
        severity="warning" if warning else "error",
    )


def parse_submit_result(body: Any) -> SubmitResult:
    """Read QAD's `submitResult`; a body without one (a read) counts as success.

    Success needs `success: true`, `errorSeverity` 0 and no severity-1 entries; severity-0
    entries are warnings. A failure that carries only severity-0 entries reports them as errors.
    """
    if not isinstance(body, dict) or not isinstance(body.get("submitResult"), dict):
        return SubmitResult(success=True)
    result = body["submitResult"]
    entries = result.get("errors") or []
    if not isinstance(entries, list):
        entries = [entries]
    errors = [
        _field_error(e, warning=False)
        for e in entries
        if not _is_warning(e.get("severity", 1) if isinstance(e, dict) else 1)
    ]
    warnings = [
        _field_error(e, warning=True)
        for e in entries
        if _is_warning(e.get("severity", 1) if isinstance(e, dict) else 1)
    ]
    try:
        severity = int(result.get("errorSeverity") or 0)
    except (TypeError, ValueError):
        severity = 1
    success = result.get("success") is True and severity == 0 and not errors
    if not success and not errors:
        errors = [
            FieldError(message=w.message, field=w.field, value=w.value, code=w.code)
            for w in warnings
        ] or [FieldError(message="QAD reported a failure without a message")]
        warnings = []
    return SubmitResult(success=success, errors=errors, warnings=warnings)


def is_duplicate(result: SubmitResult) -> bool:
    """QAD's "already exists" answer to a create on an existing key."""
    return any(
        e.code == DUPLICATE_CODE or "already exist" in e.message.lower() for e in result.errors
    )


def is_stale(result: SubmitResult) -> bool:
    """QAD's answer to an update carrying an old `concurrencyHash`."""
    return any("changed by another user" in e.message.lower() for e in result.errors)


def rejected(
    result: SubmitResult, what: str, kind: type[RecordRejected] = RecordRejected
) -> RecordRejected:
    """`RecordRejected` whose message is QAD's own text (joined when there are several)."""
    message = "; ".join(e.message for e in result.errors if e.message) or f"QAD refused {what}"
    code = next((e.code for e in result.errors if e.code), None)
    return kind(message, system="qad", code=code, errors=result.errors)


def check(result: SubmitResult, what: str) -> None:
    """Raise what a refused write means: `AlreadyExists`, `StaleRecord` or `RecordRejected`."""
    if result.success:
        return
    if is_duplicate(result):
        raise rejected(result, what, AlreadyExists)
    if is_stale(result):
        raise rejected(result, what, StaleRecord)
    raise rejected(result, what)


def data_records(body: Any, key: str) -> list[dict[str, Any]]:
    """The records under `data.<key>` of a read or write answer (empty when absent)."""
    data = body.get("data") if isinstance(body, dict) else None
    records = data.get(key) if isinstance(data, dict) else None
    if not isinstance(records, list):
        return []
    return [r for r in records if isinstance(r, dict)]


def _remote_errors(body: Any) -> list[FieldError]:
    entries = body.get("errors") if isinstance(body, dict) else None
    if isinstance(entries, list):
        return [_field_error(e, warning=False) for e in entries]
    return []


def classify(response: Answer, *, method: str, path: str) -> Any:
    """JSON of a usable answer, or the error it stands for (`_Retryable` when worth retrying)."""
    status = response.status_code
    where = f"{method} {path}"
    if status == 403:
        errors = _remote_errors(_json_or_none(response))
        text = "; ".join(e.message for e in errors if e.message) or "Access is denied"
        raise PermissionDenied(
            f"the QAD user lacks permission for {where}: {text}",
            system="qad",
            status=403,
            code="403",
            errors=errors,
        )
    if status == 404:
        raise WrongTenantUrl(
            f"QAD answered 404 to {where}: wrong tenant URL or context root, "
            "or a route this tenant does not have"
        )
    if 300 <= status < 400:
        raise WrongTenantUrl(
            f"QAD answered {where} with a redirect (HTTP {status}), which is not followed: "
            "wrong tenant URL, or a login page in front of the API?"
        )
    body = _json_or_none(response)
    if body is None:
        raise _Retryable("answered with a body that is not JSON (HTML?)", status, not_json=True)
    if status >= 500:
        raise _Retryable(f"HTTP {status}", status)
    if status == 429:
        raise _Retryable("HTTP 429", status, maybe_applied=False)
    if status >= 400:
        if isinstance(body, dict) and "submitResult" in body:
            return body
        errors = _remote_errors(body)
        text = "; ".join(e.message for e in errors if e.message) or f"HTTP {status}"
        raise RecordRejected(
            f"QAD refused {where}: {text}", system="qad", status=status, errors=errors
        )
    if not isinstance(body, dict):
        raise _Retryable("answered JSON that is not an object", status, not_json=True)
    return body


def _json_or_none(response: Answer) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


# ---- the send path ------------------------------------------------------------------------------

# Failures that prove the request never left this process or never reached the server.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


class QadTransport:
    """Sends QAD API calls. `calls` counts HTTP requests sent to `/api/**`."""

    def __init__(
        self,
        http: HttpClient,
        tokens: TokenManager,
        *,
        retries: int = 4,
        max_concurrency: int = DEFAULT_IN_FLIGHT,
        in_flight: InFlight | None = None,
        sleep: Sleep = asyncio.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self._http = http
        self._tokens = tokens
        self._retries = max(0, retries)
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._slots = in_flight or LocalInFlight(max_concurrency)
        self.calls = 0
        self._urls: dict[tuple[str, tuple[tuple[str, str], ...]], Target] = {}
        self._paths: dict[str, tuple[Target, str]] = {}
        self._token = ""
        self._auth: tuple[Header, ...] = ()

    def __repr__(self) -> str:
        return f"<QadTransport calls={self.calls}>"

    async def get(
        self, path: str, params: Params | None = None, *, headers: dict[str, str] | None = None
    ) -> Any:
        """GET and return the JSON object; retried on transient failures."""
        return await self._send("GET", path, params=params, headers=headers, idempotent=True)

    async def post(
        self,
        path: str,
        body: Any,
        params: Params | None = None,
        *,
        idempotent: bool,
    ) -> Any:
        """POST and return the JSON object.

        `idempotent=True` is for POSTs that change nothing in QAD (fieldChangeV2 defaulting);
        everything else passes False and handles `WriteOutcomeUnknown` with a read-back.
        """
        return await self._send("POST", path, params=params, json=body, idempotent=idempotent)

    async def submit(
        self,
        path: str,
        key: str,
        record: dict[str, Any],
        params: Params | None = None,
        *,
        idempotent: bool = False,
    ) -> tuple[list[dict[str, Any]], SubmitResult]:
        """POST one record in QAD's write envelope; return the saved records and the result."""
        body = {"supplementaryMessages": [], key: [record]}
        answer = await self.post(path, body, params, idempotent=idempotent)
        return data_records(answer, key), parse_submit_result(answer)

    async def _send(
        self,
        method: str,
        path: str,
        *,
        params: Params | None = None,
        json: Any = None,
        headers: dict[str, str] | None = None,
        idempotent: bool,
    ) -> Any:
        failure = _Retryable("no attempt made")
        for attempt in range(self._retries + 1):
            if attempt:
                await self._sleep(backoff.QAD.delay(attempt, self._rng))
            try:
                async with self._slots.slot():
                    response = await self._attempt(method, path, params, json, headers)
                return classify(response, method=method, path=path)
            except _Retryable as exc:
                failure = exc
            except httpx.TransportError as exc:
                failure = _Retryable(
                    type(exc).__name__, maybe_applied=not isinstance(exc, _NOT_SENT)
                )
            if failure.maybe_applied and not idempotent:
                raise WriteOutcomeUnknown(
                    f"QAD {method} {path}: {failure.reason}; the write may or may not have "
                    "been applied",
                    system="qad",
                    status=failure.status,
                )
        raise Unavailable(
            f"QAD {method} {path}: {failure.reason} after {self._retries + 1} attempts",
            system="qad",
            status=failure.status,
            code=NOT_JSON if failure.not_json else None,
        )

    async def _attempt(
        self,
        method: str,
        path: str,
        params: Params | None,
        json: Any,
        headers: dict[str, str] | None,
    ) -> Answer:
        token = await self._tokens.get()
        response = await self._request(method, path, params, json, headers, token.value)
        if response.status_code != 401:
            return response
        token = await self._tokens.renew(token)
        response = await self._request(method, path, params, json, headers, token.value)
        if response.status_code == 401:
            raise AuthRejected(
                f"QAD answered 401 to {method} {path} with a freshly issued token",
                system="qad",
                status=401,
            )
        return response

    async def _request(
        self,
        method: str,
        path: str,
        params: Params | None,
        json: Any,
        headers: dict[str, str] | None,
        token: str,
    ) -> Answer:
        self.calls += 1
        if token != self._token:
            self._token = token
            self._auth = (
                (b"Authorization", f"Bearer {token}".encode()),
                (b"Accept", b"application/json"),
            )
        sent = self._auth
        if headers:
            extra = {name.lower() for name in headers}
            sent = (
                *(pair for pair in sent if pair[0].decode().lower() not in extra),
                *((name.encode(), value.encode()) for name, value in headers.items()),
            )
        return await self._http.call(method, self._url(path, params), sent, json=json)

    def _url(self, path: str, params: Params | None) -> Target:
        """Where `path` with `params` is sent, kept for the next call.

        Encoded as httpx encodes `params=` (`urlencode`). The URL of `path` is parsed once
        (httpx's parsing checks every character) and the query is added to its target; the same
        few URLs recur (a PO read before and after its writes, the field changes of every line).
        """
        pairs = tuple(params.items() if isinstance(params, dict) else params) if params else ()
        key = (path, pairs)
        url = self._urls.get(key)
        if url is None:
            known = self._paths.get(path)
            if known is None:
                text = f"{self._http.base_url}{path}"
                known = self._paths[path] = (Target(httpx.URL(text)), text)
                if len(self._paths) > URL_CACHE_SIZE:
                    del self._paths[next(iter(self._paths))]
            base, text = known
            if not pairs:
                url = base
            elif base.bare:
                query = query_string(pairs)
                url = base.with_query(query, functools.partial(httpx.URL, f"{text}?{query}"))
            else:  # a path with a query or fragment of its own: as httpx reads it
                url = Target(httpx.URL(f"{text}?{urlencode(pairs)}"))
            if len(self._urls) >= URL_CACHE_SIZE:
                del self._urls[next(iter(self._urls))]  # the oldest first
            self._urls[key] = url
        return url
