"""The console's HTML pages. Each route: check who asks (``Viewer``/``Operator``/``Admin``),
call one or two use cases, render a template. No logic lives here.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ml_connector.errors import AccessDenied, SignInThrottled
from ml_connector.usecases.access import resume_session, sign_in, sign_out
from ml_connector.usecases.overview import overview
from ml_connector.web.auth import (
    SESSION_COOKIE,
    Viewer,
    check_login_csrf,
    clear_session_cookie,
    login_csrf_token,
    remote_address,
    set_login_csrf_cookie,
    set_session_cookie,
)
from ml_connector.web.context import Console, console
from ml_connector.web.render import page

__all__ = ["router"]

router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)

App = Annotated[Console, Depends(console)]


def _safe_next(target: str | None) -> str:
    """Only local paths: ``next`` must never send a signed-in browser to another site."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


# --- signing in and out ---------------------------------------------------------------------------


def _login_page(
    request: Request, app: Console, *, next_url: str, error: str | None, status: int = 200
) -> Response:
    token = login_csrf_token(request)
    response = page(
        request,
        "login.html",
        {"next": next_url, "error": error, "csrf_token": token},
        status=status,
    )
    set_login_csrf_cookie(response, token, secure=app.config.behind_https)
    return response


@router.get("/login")
async def login_form(request: Request, app: App, next: str | None = None) -> Response:
    session = await resume_session(
        app.users, request.cookies.get(SESSION_COOKIE, ""), policy=app.config.policy, now=app.clock
    )
    if session is not None:
        return RedirectResponse(_safe_next(next), status_code=303)
    return _login_page(request, app, next_url=_safe_next(next), error=None)


@router.post("/login")
async def login(
    request: Request,
    app: App,
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    check_login_csrf(request, csrf_token)
    target = _safe_next(next)
    try:
        signed = await sign_in(
            app.users,
            app.passwords,
            username,
            password,
            remote=remote_address(request),
            policy=app.config.policy,
            now=app.clock,
        )
    except SignInThrottled as exc:
        response = _login_page(request, app, next_url=target, error=str(exc), status=429)
        response.headers["Retry-After"] = str(int(exc.retry_after))
        return response
    except AccessDenied as exc:
        return _login_page(request, app, next_url=target, error=str(exc), status=401)
    response = RedirectResponse(target, status_code=303)
    set_session_cookie(response, signed.token, secure=app.config.behind_https)
    return response


@router.post("/logout")
async def logout(request: Request, app: App, who: Viewer) -> Response:
    await sign_out(app.users, who.session, remote=remote_address(request))
    response = RedirectResponse("/login", status_code=303)
    clear_session_cookie(response, secure=app.config.behind_https)
    return response


# --- the overview -------------------------------------------------------------------------------


@router.get("/")
async def overview_page(request: Request, app: App, who: Viewer) -> Response:
    seen = await overview(app.store, now=app.clock)
    return page(request, "overview.html", {"overview": seen})
