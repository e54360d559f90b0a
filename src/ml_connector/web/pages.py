"""The console's HTML pages. Each route: check who asks (``Viewer``/``Operator``/``Admin``),
call one or two use cases, render a template. No logic lives here.
"""

from __future__ import annotations

from typing import Annotated, Literal
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ml_connector.errors import AccessDenied, ConfigError, SignInThrottled
from ml_connector.usecases.access import resume_session, sign_in, sign_out
from ml_connector.usecases.error_queue import error_queue
from ml_connector.usecases.overview import overview
from ml_connector.usecases.records import parse_statuses, record_detail, search_records
from ml_connector.usecases.runs import run_history
from ml_connector.usecases.triage import settle_records
from ml_connector.vocab import RECORD_STATUSES
from ml_connector.web.auth import (
    SESSION_COOKIE,
    Operator,
    Viewer,
    check_login_csrf,
    clear_session_cookie,
    login_csrf_token,
    remote_address,
    set_login_csrf_cookie,
    set_session_cookie,
)
from ml_connector.web.context import Console, console
from ml_connector.web.forms import PAGE_SIZE, parse_day
from ml_connector.web.render import page, redirect

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


# --- one connection ---------------------------------------------------------------------------


def _conn_url(name: str, tail: str = "") -> str:
    return f"/connections/{quote(name, safe='')}{tail}"


@router.get("/connections/{name}")
async def connection_home(name: str, who: Viewer) -> Response:
    return RedirectResponse(_conn_url(name, "/records"), status_code=303)


@router.get("/connections/{name}/runs")
async def runs_page(request: Request, app: App, who: Viewer, name: str) -> Response:
    history = await run_history(app.store, name, now=app.clock)
    return page(request, "runs.html", {"name": name, "history": history, "tab": "runs"})


@router.get("/connections/{name}/records")
async def records_page(
    request: Request,
    app: App,
    who: Viewer,
    name: str,
    status: Annotated[list[str] | None, Query()] = None,
    supplier: str = "",
    reference: str = "",
    invoice: str = "",
    changed_from: Annotated[str, Query(alias="from")] = "",
    changed_to: Annotated[str, Query(alias="to")] = "",
    kind: Literal["purchase", "supplier"] = "purchase",
    page_number: Annotated[int, Query(alias="page", ge=1)] = 1,
) -> Response:
    found = await search_records(
        app.store,
        name,
        kind=kind,
        statuses=parse_statuses(status or []),
        supplier=supplier,
        reference=reference,
        invoice=invoice,
        changed_from=parse_day(changed_from, "from"),
        changed_to=parse_day(changed_to, "to"),
        limit=PAGE_SIZE,
        offset=(page_number - 1) * PAGE_SIZE,
        now=app.clock,
    )
    return page(
        request,
        "records.html",
        {
            "name": name,
            "found": found,
            "tab": "records",
            "statuses": RECORD_STATUSES,
            "form": {
                "status": status or [],
                "supplier": supplier,
                "reference": reference,
                "invoice": invoice,
                "from": changed_from,
                "to": changed_to,
                "kind": kind,
            },
            "page_number": page_number,
            "next_url": _page_url(request, page_number + 1) if found.has_more else None,
            "prev_url": _page_url(request, page_number - 1) if page_number > 1 else None,
        },
    )


def _page_url(request: Request, number: int) -> str:
    params = [(k, v) for k, v in request.query_params.multi_items() if k != "page"]
    params.append(("page", str(number)))
    return f"{request.url.path}?{urlencode(params)}"


@router.get("/connections/{name}/records/{record_id}")
async def record_page(
    request: Request,
    app: App,
    who: Viewer,
    name: str,
    record_id: int,
    a: int | None = None,
    b: int | None = None,
) -> Response:
    detail = await record_detail(
        app.store, name, record_id, compare=(a, b) if a and b else None, now=app.clock
    )
    return page(request, "record.html", {"name": name, "d": detail, "tab": "records"})


@router.get("/connections/{name}/errors")
async def errors_page(request: Request, app: App, who: Viewer, name: str) -> Response:
    queue = await error_queue(app.store, name, now=app.clock)
    return page(request, "errors.html", {"name": name, "queue": queue, "tab": "errors"})


@router.post("/connections/{name}/errors/act")
async def act_on_queue(
    request: Request,
    app: App,
    who: Operator,
    name: str,
    action: Annotated[str, Form()],
    note: Annotated[str, Form()] = "",
    record_id: Annotated[list[int] | None, Form()] = None,
) -> Response:
    back = _conn_url(name, "/errors")
    try:
        done = await settle_records(app.store, name, record_id or [], action, note, actor=who.actor)
    except ConfigError as exc:
        return redirect(request, back, str(exc), error=True)
    word = "Resolved" if done.action == "resolve" else "Ignored"
    note_text = f"{word} {len(done.settled)} record(s)"
    if done.skipped:
        note_text += f"; skipped {len(done.skipped)} no longer in the queue"
    return redirect(request, back, note_text + ".")
