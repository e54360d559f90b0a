"""Small fakes for the QAD client's unit tests: a clock, and a QAD tenant on httpx.MockTransport.

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

from ml_connector.qad import QadClient, QadSettings

BASE = "https://acme.qad.com/clouderp"
PASSWORD = "s3cret-Passw0rd"


class FakeClock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


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


def submit(key: str, records: list[dict[str, Any]], *, errors: list[dict[str, Any]] | None = None,
           success: bool = True) -> httpx.Response:
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

    def client(self, **kwargs: Any) -> QadClient:
        kwargs.setdefault("sleep", no_sleep)
        the_settings = kwargs.pop("settings", None) or settings()
        return QadClient(the_settings, transport=self.transport(), **kwargs)

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
        await asyncio.sleep(0.001)  # let concurrent callers interleave as on a network
        auth = request.headers.get("Authorization", "")
        self.seen_auth.append(auth)
        if auth.removeprefix("Bearer ") not in self.valid:
            self.unauthorized += 1
            return httpx.Response(
                401,
                json={"errors": [{"severity": 1, "code": "401", "message": "Unauthorized",
                                  "fieldName": ""}]},
            )
        answer = self.api(request)
        if not isinstance(answer, httpx.Response):
            answer = await answer
        return answer


def body_of(request: httpx.Request) -> Any:
    return json.loads(request.content.decode()) if request.content else None
