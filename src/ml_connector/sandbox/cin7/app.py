"""The sandbox's ASGI app: the Cin7 API under `/ExternalApi/v2/` and test controls under
`/_sandbox/`, both matched case-insensitively.

An API request goes through, in order: counting (statistics), authentication (both headers,
else 403 with the error array), the rolling rate limit per application key (429, or 503 in the
older mode, `text/plain` with the `x-ratelimit-*` and `Retry-After: N Seconds` headers), the
injected faults (500, a slow answer, HTML on 200), then the endpoint. Successful answers carry
no rate-limit headers. A refused rule is a 400 with `[{"ErrorCode": 400, "Exception": "..."}]`.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from ml_connector.sandbox.cin7.control import handle_control
from ml_connector.sandbox.cin7.endpoints import ENDPOINTS
from ml_connector.sandbox.cin7.model import Cin7SandboxError
from ml_connector.sandbox.cin7.ratelimit import Verdict
from ml_connector.sandbox.cin7.state import Cin7State

API_PREFIX = "/externalapi/v2/"
CONTROL_PREFIX = "/_sandbox/"
AUTH_FAILED = "Method authentication failed"
_METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH"]
_HTML = (
    "<!DOCTYPE html><html><head><title>Cin7 Core</title></head><body>"
    "<h1>Page not found</h1><p>Sorry, the page you requested could not be found.</p>"
    "</body></html>"
)


def error(status: int, message: str) -> JSONResponse:
    """Cin7's error body: an array of `{ErrorCode, Exception}`."""
    return JSONResponse([{"ErrorCode": status, "Exception": message}], status_code=status)


def rate_limited(verdict: Verdict, status: int) -> PlainTextResponse:
    wait = str(verdict.retry_after)
    return PlainTextResponse(
        f"You have reached {verdict.limit} calls per 60 seconds API limit.",
        status_code=status,
        headers={
            "x-ratelimit-limit": str(verdict.limit),
            "x-ratelimit-remaining": "0",
            "x-ratelimit-reset": wait,
            "Retry-After": f"{wait} Seconds",
        },
    )


async def read_json(request: Request) -> Any:
    """The request body as JSON (None when empty); ValueError when it is not JSON."""
    raw = await request.body()
    if not raw.strip():
        return None
    return json.loads(raw)


def _query(request: Request) -> dict[str, str]:
    query: dict[str, str] = {}
    for key, value in request.query_params.multi_items():
        query.setdefault(key.lower(), value)
    return query


async def _api(state: Cin7State, request: Request, rest: str) -> Response:
    path = rest.strip("/").lower()
    known = ENDPOINTS.get(path)
    account = request.headers.get("api-auth-accountid", "").strip().lower()
    key = request.headers.get("api-auth-applicationkey", "").strip().lower()
    with state.lock:
        state.count_call(known[0] if known else path)
        valid_keys = {k.lower() for k in state.application_keys}
        if account != state.account_id.lower() or key not in valid_keys:
            return error(403, AUTH_FAILED)
        verdict = state.admit(key)
        if not verdict.allowed:
            return rate_limited(verdict, state.faults.rate_limit_status)
        fault = state.draw_fault()
        if fault == "burst":
            limit = state.faults.rate_limit_per_minute
            return rate_limited(
                Verdict(False, limit, state.burst_left()), state.faults.rate_limit_status
            )
    if fault == "error":
        return error(500, "An unexpected error has occurred. Please try again later.")
    if fault == "html":
        return HTMLResponse(_HTML)
    if fault == "timeout":
        await asyncio.sleep(state.faults.timeout_seconds)
    if known is None:
        return error(404, f"Endpoint '{rest}' does not exist")
    handler = known[1].get(request.method)
    if handler is None:
        return error(
            405, f"The requested resource does not support http method '{request.method}'."
        )
    body: Any = None
    if request.method in ("POST", "PUT"):
        try:
            body = await read_json(request)
        except ValueError:
            return error(500, "Body could not be parsed")
    try:
        with state.lock:
            data = handler(state, _query(request), body)
        return JSONResponse(data)
    except Cin7SandboxError as exc:
        status = exc.status or 400
        return error(status, exc.message)


def build_app(state: Cin7State) -> Starlette:
    """The ASGI app over an already built state (no lifespan needed)."""

    async def dispatch(request: Request) -> Response:
        path = request.url.path
        lowered = path.lower()
        if lowered.startswith(API_PREFIX):
            return await _api(state, request, path[len(API_PREFIX) :])
        if lowered.startswith(CONTROL_PREFIX):
            try:
                return await handle_control(state, request, lowered[len(CONTROL_PREFIX) :])
            except Cin7SandboxError as exc:
                return error(exc.status or 400, exc.message)
        if lowered.startswith("/externalapi"):
            state.count_call(lowered.removeprefix("/externalapi").strip("/"))
        return error(404, f"Endpoint '{path}' does not exist")

    return Starlette(routes=[Route("/{path:path}", dispatch, methods=_METHODS)])
