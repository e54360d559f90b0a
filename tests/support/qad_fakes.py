"""Small fakes for the QAD REST channel's tests: a QAD tenant on MockTransport.

`FakeQad` answers the token endpoint itself (tokens `tok-1`, `tok-2`, ...) and hands every
authorised `/api/**` request to `api`, a function the test sets. It counts what it saw.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs

import httpx

from ml_connector.qad import QadSettings
from ml_connector.qad.rest import RestChannel

BASE = "https://acme.qad.com/clouderp"
PASSWORD = "s3cret-Passw0rd"


async def no_sleep(_: float) -> None:
    await asyncio.sleep(0)


def settings(**overrides: Any) -> QadSettings:
    values: dict[str, Any] = {
        "base_url": BASE,
        "client_id": "client-1",
        "username": "integration",
        "password": PASSWORD,
    }
    values.update(overrides)
    return QadSettings(**values)


def ok(data: Any = None, **extra: Any) -> httpx.Response:
    return httpx.Response(200, json={"data": data if data is not None else {}, **extra})


def submit(
    key: str,
    records: list[dict[str, Any]],
    *,
    errors: list[dict[str, Any]] | None = None,
    success: bool = True,
) -> httpx.Response:
    errors = errors or []
    severity = 0 if success else 1
    return httpx.Response(
        200,
        json={
            "data": {key: records},
            "submitResult": {"success": success, "errorSeverity": severity, "errors": errors},
        },
    )


Api = Callable[[httpx.Request], httpx.Response | Awaitable[httpx.Response]]


class FakeQad:
    """A QAD tenant on MockTransport. Set `api`; inspect `token_forms`, `api_calls`, `paths`."""

    def __init__(self, *, ttl: float = 1800, refresh_tokens: bool = True) -> None:
        self.ttl = ttl
        self.refresh_tokens = refresh_tokens
        self.valid: set[str] = set()
        self.issued = 0
        self.token_forms: list[dict[str, str]] = []
        self.token_reply: Callable[[dict[str, str]], httpx.Response | None] = lambda form: None
        self.api: Api = lambda request: ok()
        self.api_calls = 0
        self.unauthorized = 0
        self.paths: Counter[str] = Counter()
        self.seen_auth: list[str] = []

    @property
    def token_requests(self) -> int:
        return len(self.token_forms)

    def expire_all(self) -> None:
        self.valid.clear()

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def client(self, **kwargs: Any) -> RestChannel:
        kwargs.setdefault("sleep", no_sleep)
        the_settings = kwargs.pop("settings", None) or settings()
        return RestChannel(the_settings, transport=self.transport(), **kwargs)

    async def handle(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path.removeprefix("/clouderp/")
        if path == "oauth/token":
            form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
            self.token_forms.append(form)
            scripted = self.token_reply(form)
            if scripted is not None:
                return scripted
            self.issued += 1
            token = f"tok-{self.issued}"
            self.valid.add(token)
            body: dict[str, Any] = {
                "access_token": token,
                "token_type": "bearer",
                "expires_in": self.ttl,
            }
            if self.refresh_tokens:
                body["refresh_token"] = f"refresh-{self.issued}"
            return httpx.Response(200, json=body)
        self.api_calls += 1
        self.paths[path] += 1
        await asyncio.sleep(0)  # let concurrent callers interleave as on a network
        auth = request.headers.get("Authorization", "")
        self.seen_auth.append(auth)
        if auth.removeprefix("Bearer ") not in self.valid:
            self.unauthorized += 1
            return httpx.Response(
                401,
                json={
                    "errors": [
                        {"severity": 1, "code": "401", "message": "Unauthorized", "fieldName": ""}
                    ]
                },
            )
        answer = self.api(request)
        if not isinstance(answer, httpx.Response):
            answer = await answer
        return answer


def body_of(request: httpx.Request) -> Any:
    return json.loads(request.content.decode()) if request.content else None


# ---- helpers for the contract tests against the QAD sandbox ------------------------------------

ITEMS = (
    ("WID-100", "12.5"),
    ("WID-150", "14.75"),
    ("BRK-20", "1.75"),
    ("BRK-40", "2.3"),
    ("NUT-M8", "6.4"),
)


def sandbox_settings(
    sandbox: Any, root_url: str, tenant: str = "acme", **overrides: Any
) -> QadSettings:
    t = sandbox.tenant(tenant)
    values: dict[str, Any] = {
        "base_url": sandbox.base_url(root_url, tenant),
        "client_id": t.client_id,
        "username": t.username,
        "password": t.password,
        "domain": t.domain,
        "entity": t.entity,
        "default_site": "10-100",
        "allow_local": True,
    }
    values.update(overrides)
    return QadSettings(**values)


def sandbox_client(sandbox: Any, **kwargs: Any) -> RestChannel:
    """A client on the sandbox in-process (ASGITransport), with backoff sleeps skipped."""
    overrides = kwargs.pop("settings_overrides", {})
    kwargs.setdefault("sleep", no_sleep)
    return RestChannel(
        sandbox_settings(sandbox, "http://127.0.0.1", **overrides),
        transport=httpx.ASGITransport(app=sandbox.app),
        **kwargs,
    )


def supplier_spec(code: str = "S1001", **overrides: Any) -> Any:
    from ml_connector.qad import SupplierSpec

    values: dict[str, Any] = {
        "code": code,
        "name": "Acme Fasteners",
        "currency": "USD",
        "credit_terms": "N30",
        "city": "Springfield",
        "country": "US",
    }
    values.update(overrides)
    return SupplierSpec(**values)


def po_spec(number: str, supplier: str = "S1001", lines: int = 5, **overrides: Any) -> Any:
    import datetime as dt
    from decimal import Decimal

    from ml_connector.qad import PurchaseOrderLineSpec, PurchaseOrderSpec

    values: dict[str, Any] = {
        "number": number,
        "supplier_code": supplier,
        "currency": "USD",
        "order_date": dt.date(2026, 3, 2),
        "due_date": dt.date(2026, 3, 16),
        "remarks": f"Cin7 purchase {number}",
        "lines": [
            PurchaseOrderLineSpec(
                line=n + 1,
                item_code=ITEMS[n % len(ITEMS)][0],
                quantity=Decimal(10 * (n + 1)),
                unit_cost=Decimal(ITEMS[n % len(ITEMS)][1]),
            )
            for n in range(lines)
        ],
    }
    values.update(overrides)
    return PurchaseOrderSpec(**values)


def receipt_spec(po: Any, slip: str | None = None, fraction: int = 1) -> Any:
    import datetime as dt

    from ml_connector.qad import ReceiptSpec

    return ReceiptSpec(
        po_number=po.number,
        packing_slip=slip or f"PS-{po.number}",
        effective_date=dt.date(2026, 3, 10),
        lines=[(line.line, line.quantity / fraction) for line in po.lines],
    )


class LoseResponses(httpx.AsyncBaseTransport):
    """Forwards every request; for those `match` picks, reads QAD's answer and then raises a
    timeout instead, as when the answer is lost on the way back. `after` runs on each hit."""

    def __init__(
        self,
        inner: httpx.AsyncBaseTransport,
        match: Callable[[httpx.Request], bool],
        *,
        times: int = 1,
        after: Callable[[], None] | None = None,
        lose: bool = True,
    ) -> None:
        self._inner = inner
        self._match = match
        self.remaining = times
        self._after = after
        self._lose = lose
        self.hits = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self._inner.handle_async_request(request)
        if self.remaining > 0 and self._match(request):
            self.remaining -= 1
            self.hits += 1
            if self._after is not None:
                self._after()
            if self._lose:
                await response.aread()
                await response.aclose()
                raise httpx.ReadTimeout("response lost", request=request)
        return response

    async def aclose(self) -> None:
        await self._inner.aclose()


def posts_to(path_end: str) -> Callable[[httpx.Request], bool]:
    return lambda request: request.method == "POST" and request.url.path.endswith(path_end)


class Scripted(httpx.AsyncBaseTransport):
    """Answers the first request each rule matches with the rule's response (once per rule,
    or `times`), and forwards everything else to `inner` (the sandbox)."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self._inner = inner
        self._rules: list[list[Any]] = []
        self.forwarded_before: list[bool] = []

    def once(
        self,
        match: Callable[[httpx.Request], bool],
        reply: Callable[[httpx.Request], httpx.Response],
        *,
        times: int = 1,
        forward: bool = False,
    ) -> None:
        """`forward=True` passes the request to the sandbox first, then answers `reply`."""
        self._rules.append([match, reply, times, forward])

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        for rule in self._rules:
            match, reply, times, forward = rule
            if times > 0 and match(request):
                rule[2] -= 1
                if forward:
                    await request.aread()
                    real = await self._inner.handle_async_request(request)
                    await real.aread()
                return reply(request)
        return await self._inner.handle_async_request(request)


def writes(path_end: str, operation: str | None = None) -> Callable[[httpx.Request], bool]:
    def match(request: httpx.Request) -> bool:
        if request.method != "POST" or not request.url.path.endswith(path_end):
            return False
        if operation is None:
            return True
        return f'"dataOperation":"{operation}"' in request.content.decode().replace(" ", "")

    return match


def reads(path_end: str) -> Callable[[httpx.Request], bool]:
    return lambda request: request.method == "GET" and request.url.path.endswith(path_end)


def refusal(message: str, field: str = "", code: str = "") -> httpx.Response:
    return httpx.Response(
        200,
        json={
            "data": {},
            "submitResult": {
                "success": False,
                "errorSeverity": 1,
                "errors": [
                    {
                        "fieldName": field,
                        "message": message,
                        "fieldValue": "",
                        "code": code,
                        "severity": 1,
                    }
                ],
            },
        },
    )
