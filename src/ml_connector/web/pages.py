"""The console's HTML pages. Each route: check who asks (``Viewer``/``Operator``/``Admin``),
call one or two use cases, render a template. No logic lives here.
"""

from __future__ import annotations

from typing import Annotated, Literal
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ml_connector.errors import AccessDenied, ConfigError, ConnectorError, SignInThrottled
from ml_connector.jobs.asking import replay_or_queue
from ml_connector.store.models import DEFAULT_CIN7_BASE_URL
from ml_connector.usecases.access import resume_session, sign_in, sign_out
from ml_connector.usecases.choices import Choice, qad_choices
from ml_connector.usecases.connections import (
    add_connection,
    build_connection,
    edit_connection,
    list_connections,
    ping_connection,
    show_connection,
)
from ml_connector.usecases.error_queue import error_queue
from ml_connector.usecases.fit import fit_connection
from ml_connector.usecases.holds import held_invoice_lines
from ml_connector.usecases.mappings import list_mappings, remove_mapping, set_mapping
from ml_connector.usecases.overview import overview
from ml_connector.usecases.records import parse_statuses, record_detail, search_records
from ml_connector.usecases.reports import audit_head, reconcile, verify_audit
from ml_connector.usecases.runs import run_history
from ml_connector.usecases.scheduling import set_paused
from ml_connector.usecases.triage import settle_records
from ml_connector.usecases.users import access_log, list_users
from ml_connector.vocab import MAPPING_KINDS, RECORD_STATUSES, MappingKind
from ml_connector.web.auth import (
    SESSION_COOKIE,
    Admin,
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
from ml_connector.web.forms import EDITABLE, PAGE_SIZE, form_changes, parse_day, parse_month
from ml_connector.web.render import page, redirect
from ml_connector.web.views import (
    connection_doc,
    reconcile_csv,
    reconcile_totals,
    replay_note,
)

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
    choices: dict[str, tuple[Choice, ...]] = {}
    choice_error = None
    if who.may("operator"):
        try:
            for kind in dict.fromkeys(g.mapping.kind for g in queue.groups if g.mapping):
                choices[kind] = await qad_choices(app.store, name, kind, cache=app.choices)
        except ConnectorError as exc:
            choice_error = f"QAD's lists could not be read ({exc}); type the QAD code instead."
    return page(
        request,
        "errors.html",
        {
            "name": name,
            "queue": queue,
            "tab": "errors",
            "choices": choices,
            "choice_error": choice_error,
        },
    )


@router.post("/connections/{name}/errors/map")
async def map_from_queue(
    request: Request,
    app: App,
    who: Operator,
    name: str,
    kind: Annotated[MappingKind, Form()],
    cin7_value: Annotated[str, Form()],
    qad_value: Annotated[str, Form()],
    group: Annotated[str, Form()] = "",
    replay: Annotated[str, Form()] = "",
) -> Response:
    back = _conn_url(name, "/errors")
    try:
        await set_mapping(app.store, name, kind, cin7_value, qad_value.strip())
        note = f"Mapped {kind.replace('_', ' ')} {cin7_value} to {qad_value.strip()}."
        if replay and group:
            result = await replay_or_queue(app.store, name, group=group, actor=who.actor)
            note += " " + replay_note(result)
    except ConfigError as exc:
        return redirect(request, back, str(exc), error=True)
    return redirect(request, back, note)


@router.post("/connections/{name}/errors/act")
async def act_on_queue(
    request: Request,
    app: App,
    who: Operator,
    name: str,
    action: Annotated[str, Form()],
    note: Annotated[str, Form()] = "",
    group: Annotated[str, Form()] = "",
    record_id: Annotated[list[int] | None, Form()] = None,
) -> Response:
    back = _conn_url(name, "/errors")
    try:
        if action in ("replay-group", "replay-selected"):
            result = await replay_or_queue(
                app.store,
                name,
                group=group if action == "replay-group" else None,
                record_ids=record_id or [],
                actor=who.actor,
            )
            return redirect(request, back, replay_note(result))
        done = await settle_records(app.store, name, record_id or [], action, note, actor=who.actor)
    except ConfigError as exc:
        return redirect(request, back, str(exc), error=True)
    word = "Resolved" if done.action == "resolve" else "Ignored"
    note_text = f"{word} {len(done.settled)} record(s)"
    if done.skipped:
        note_text += f"; skipped {len(done.skipped)} no longer in the queue"
    return redirect(request, back, note_text + ".")


@router.get("/connections/{name}/holds")
async def holds_page(request: Request, app: App, who: Viewer, name: str) -> Response:
    holds = await held_invoice_lines(app.store, name, now=app.clock)
    return page(request, "holds.html", {"name": name, "holds": holds, "tab": "holds"})


@router.get("/connections/{name}/mappings")
async def mappings_page(
    request: Request, app: App, who: Viewer, name: str, kind: MappingKind | None = None
) -> Response:
    listed = await list_mappings(app.store, name, kind)
    return page(
        request,
        "mappings.html",
        {"name": name, "listed": listed, "tab": "mappings", "kinds": MAPPING_KINDS, "kind": kind},
    )


@router.post("/connections/{name}/mappings")
async def mapping_change(
    request: Request,
    app: App,
    who: Operator,
    name: str,
    kind: Annotated[MappingKind, Form()],
    cin7_value: Annotated[str, Form()],
    qad_value: Annotated[str, Form()] = "",
    action: Annotated[Literal["set", "remove"], Form()] = "set",
) -> Response:
    back = _conn_url(name, "/mappings")
    try:
        if action == "remove":
            await remove_mapping(app.store, name, kind, cin7_value)
            note = f"Removed the {kind.replace('_', ' ')} mapping of {cin7_value}."
        else:
            await set_mapping(app.store, name, kind, cin7_value.strip(), qad_value.strip())
            note = f"Mapped {kind.replace('_', ' ')} {cin7_value.strip()} to {qad_value.strip()}."
    except ConfigError as exc:
        return redirect(request, back, str(exc), error=True)
    return redirect(request, back, note)


@router.get("/connections/{name}/reconcile")
async def reconcile_page(
    request: Request, app: App, who: Viewer, name: str, month: str = ""
) -> Response:
    figures = await reconcile(app.store, name, parse_month(month))
    return page(
        request,
        "reconcile.html",
        {"name": name, "r": figures, "tab": "reconcile", "totals": reconcile_totals(figures)},
    )


@router.get("/connections/{name}/reconcile.csv")
async def reconcile_csv_download(app: App, who: Viewer, name: str, month: str = "") -> Response:
    figures = await reconcile(app.store, name, parse_month(month))
    filename = f"reconcile-{name}-{figures.month or 'all'}.csv"
    return Response(
        reconcile_csv(figures),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get("/connections/{name}/audit")
async def audit_page(
    request: Request, app: App, who: Viewer, name: str, verify: str = "", expect: str = ""
) -> Response:
    """The audit chain head to keep elsewhere; on request, a check of the whole chain."""
    head = await audit_head(app.store, name)
    check = await verify_audit(app.store, name, expect.strip() or None) if verify else None
    return page(
        request,
        "audit.html",
        {"name": name, "head": head, "check": check, "expect": expect, "tab": "audit"},
    )


@router.get("/connections/{name}/settings")
async def settings_page(request: Request, app: App, who: Viewer, name: str) -> Response:
    config = await show_connection(app.store, name)
    return page(
        request,
        "settings.html",
        {
            "name": name,
            "c": connection_doc(config),
            "tab": "settings",
            "editable": EDITABLE,
            "current": config.public(),
        },
    )


@router.post("/connections/{name}/test")
async def test_connection(request: Request, app: App, who: Operator, name: str) -> Response:
    result = await ping_connection(app.store, name)
    app.choices.forget(name)
    note = "; ".join(f"{v.system}: {'ok' if v.ok else v.message}" for v in result.verdicts)
    return redirect(
        request, _conn_url(name, "/settings"), f"Connection test: {note}", error=not result.ok
    )


@router.post("/connections/{name}/pause")
async def pause_connection(request: Request, app: App, who: Operator, name: str) -> Response:
    return await _set_paused(request, app, who, name, True)


@router.post("/connections/{name}/resume")
async def resume_connection(request: Request, app: App, who: Operator, name: str) -> Response:
    return await _set_paused(request, app, who, name, False)


async def _set_paused(
    request: Request, app: Console, who: Operator, name: str, paused: bool
) -> Response:
    change = await set_paused(app.store, name, paused, actor=who.actor)
    if not change.changed:
        note = f"{name} was already {'paused' if change.paused else 'on its schedule'}."
    elif change.paused:
        note = f"Paused {name}: the scheduler leaves it alone until it is resumed."
    else:
        note = f"Resumed {name}: it syncs on its schedule again."
    return redirect(request, _conn_url(name, "/settings"), note)


# --- every connection ---------------------------------------------------------------------------


@router.get("/connections")
async def connections_page(request: Request, app: App, who: Viewer) -> Response:
    configs = await list_connections(app.store)
    return page(
        request,
        "connections.html",
        {
            "connections": [connection_doc(c) for c in configs],
            "default_cin7": DEFAULT_CIN7_BASE_URL,
        },
    )


@router.post("/connections")
async def add_connection_form(
    request: Request,
    app: App,
    who: Admin,
    name: Annotated[str, Form()],
    cin7_account_id: Annotated[str, Form()],
    cin7_application_key: Annotated[str, Form()],
    qad_url: Annotated[str, Form()],
    qad_client_id: Annotated[str, Form()],
    qad_username: Annotated[str, Form()],
    qad_password: Annotated[str, Form()],
    qad_domain: Annotated[str, Form()],
    qad_entity: Annotated[str, Form()],
    cin7_base_url: Annotated[str, Form()] = DEFAULT_CIN7_BASE_URL,
    qad_site: Annotated[str, Form()] = "",
    schedule: Annotated[str, Form()] = "",
    timezone: Annotated[str, Form()] = "",
    allow_local: Annotated[str, Form()] = "",
) -> Response:
    try:
        config = build_connection(
            name.strip(),
            {
                "cin7_account_id": cin7_account_id.strip(),
                "cin7_application_key": cin7_application_key,
                "cin7_base_url": cin7_base_url.strip() or DEFAULT_CIN7_BASE_URL,
                "qad_url": qad_url.strip(),
                "qad_client_id": qad_client_id.strip(),
                "qad_username": qad_username.strip(),
                "qad_password": qad_password,
                "qad_domain": qad_domain.strip(),
                "qad_entity": qad_entity.strip(),
                "qad_site": qad_site.strip() or None,
                "schedule": schedule.strip() or None,
                **({"timezone": timezone.strip()} if timezone.strip() else {}),
                "allow_local": bool(allow_local),
            },
        )
        added = await add_connection(app.store, config)
    except ConfigError as exc:
        return redirect(request, "/connections", str(exc), error=True)
    return redirect(
        request,
        _conn_url(added.name, "/settings"),
        f"Added connection {added.name}; its credentials are stored encrypted. Test it next.",
    )


@router.post("/connections/{name}/fit")
async def fit_page(request: Request, app: App, who: Operator, name: str) -> Response:
    """Probe, read-only, whether the tenant fits the connection's profile; show the findings."""
    report = await fit_connection(app.store, name)
    return page(request, "fit.html", {"name": name, "report": report, "tab": "settings"})


@router.post("/connections/{name}/settings")
async def edit_settings(request: Request, app: App, who: Admin, name: str) -> Response:
    """Change the settings typed into the form; an empty secret field keeps the stored one."""
    form = await request.form()
    back = _conn_url(name, "/settings")
    try:
        changes = form_changes(
            {key: value for key, value in form.items() if isinstance(value, str)}
        )
        edit = await edit_connection(app.store, name, changes)
    except ConfigError as exc:
        return redirect(request, back, str(exc), error=True)
    app.choices.forget(name)
    if not edit.settings:
        return redirect(request, back, "Nothing changed.")
    shown = ", ".join(edit.settings)
    return redirect(request, back, f"Changed {shown}; records, trail and mappings are kept.")


@router.get("/users")
async def users_page(request: Request, app: App, who: Admin) -> Response:
    """Who may sign in, and the access log (sign-ins accepted, refused, throttled; changes)."""
    people = await list_users(app.users)
    events = await access_log(app.users, limit=100)
    return page(request, "users.html", {"people": people, "events": events})
