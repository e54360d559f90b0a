"""The operator console as one FastAPI app: pages, the JSON API, metrics and health.

:func:`create_app` takes an open :class:`~ml_connector.store.sql.SqlStore` (the caller opens and
closes it: `ml-connector serve`, the demo, a test on SQLite or PostgreSQL), so the app holds no
global state and several apps can run in one process.

Routes call use cases (`ml_connector.usecases`) and shape their results; they hold no logic of
their own. Answers by path:

- pages (``/``, ``/connections/…``): HTML; not signed in → 303 to ``/login``;
- ``/api/…``: JSON; not signed in → 401, also for paths that do not exist;
- ``/healthz``, ``/readyz``, ``/metrics``, ``/openapi.json``, ``/static/…``: no sign-in.

A wrong or missing CSRF token, or a role too low for the action, answers 403. Use-case errors
become 400 (bad input, unknown names), 409 (the connection is busy) or 502/503 (a remote).
Every response carries a strict Content-Security-Policy: the pages load nothing from anywhere
but the console itself.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from importlib.resources import files

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from ml_connector.errors import AuthRejected, ConfigError, StoreError, TransientError
from ml_connector.masking import SecretScopes, scrub
from ml_connector.passwords import Passwords
from ml_connector.store.sql import SqlStore
from ml_connector.store.users import SqlUsers
from ml_connector.web import api, health, metrics, pages
from ml_connector.web.auth import NotSignedIn
from ml_connector.web.context import Console, ConsoleConfig
from ml_connector.web.render import page

__all__ = ["create_app"]

_SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


def _is_api(request: Request) -> bool:
    return request.url.path == "/api" or request.url.path.startswith("/api/")


def create_app(
    store: SqlStore,
    config: ConsoleConfig | None = None,
    *,
    passwords: Passwords | None = None,
    clock: Callable[[], datetime] | None = None,
) -> FastAPI:
    """The console over ``store``. ``passwords`` and ``clock`` exist so tests can be quick."""
    app = FastAPI(
        title="ml-connector console",
        version="1",
        summary="Operate Cin7 Core → QAD syncs: overview, runs, records, error queue, mappings.",
        docs_url=None,  # the Swagger and ReDoc pages load scripts from a CDN: not here
        redoc_url=None,
    )
    users = SqlUsers(store.engine, clock=clock) if clock else SqlUsers(store.engine)
    state = Console(store, users, passwords or Passwords(), config or ConsoleConfig())
    if clock is not None:
        state.clock = clock
    app.state.console = state

    app.include_router(health.router)
    app.include_router(metrics.router)
    app.include_router(api.router)
    app.include_router(pages.router)
    app.add_middleware(SecretScopes)  # each request masks only what it handled itself
    app.mount(
        "/static",
        StaticFiles(directory=str(files("ml_connector.web").joinpath("static"))),
        name="static",
    )

    @app.middleware("http")
    async def security_headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        for name, value in _SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    @app.exception_handler(NotSignedIn)
    async def not_signed_in(request: Request, _exc: NotSignedIn) -> Response:
        if _is_api(request):
            return JSONResponse({"detail": "sign in first"}, status_code=401)
        target = request.url.path
        if request.url.query:
            target += "?" + request.url.query
        url = "/login" if target == "/" else f"/login?next={_quote_path(target)}"
        return RedirectResponse(url, status_code=303)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if _is_api(request) or request.url.path in ("/metrics", "/readyz", "/healthz"):
            return JSONResponse(
                {"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers
            )
        return page(
            request,
            "error.html",
            {"status": exc.status_code, "detail": exc.detail},
            status=exc.status_code,
        )

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err.get('loc', ())[1:])}: {err.get('msg')}"
            for err in exc.errors()
        )
        if _is_api(request):
            return JSONResponse({"detail": problems}, status_code=422)
        return page(request, "error.html", {"status": 422, "detail": problems}, status=422)

    for error, status in (
        (ConfigError, 400),
        (StoreError, 500),
        (AuthRejected, 502),
        (TransientError, 503),
    ):
        app.add_exception_handler(error, _use_case_error(status))
    return app


def _use_case_error(status: int) -> Callable[[Request, Exception], Awaitable[Response]]:
    async def handle(request: Request, exc: Exception) -> Response:
        # Messages carry no secret by construction; masking them again costs nothing.
        detail = scrub(" ".join((str(exc) or type(exc).__name__).split()))
        if _is_api(request):
            return JSONResponse({"detail": detail}, status_code=status)
        return page(request, "error.html", {"status": status, "detail": detail}, status=status)

    return handle


def _quote_path(path: str) -> str:
    from urllib.parse import quote

    return quote(path, safe="/")
