"""Server-rendered pages: one Jinja2 environment over the packaged templates, and flash notes.

Templates autoescape everything; no page takes HTML from data. Every page's main content is in
its first response (the small script in ``static/console.js`` only adds conveniences such as
"select all" and confirmations). A flash note is the one line shown after a form's redirect
("Replayed 3 records"); it travels in a short-lived HttpOnly cookie, never in the URL.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from urllib.parse import quote, unquote

from fastapi import Request, Response
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.responses import HTMLResponse, RedirectResponse

from ml_connector.ages import format_age
from ml_connector.masking import scrub
from ml_connector.usecases.runs import stop_reason
from ml_connector.usecases.scheduling import zoned_text
from ml_connector.web.auth import CSRF_FIELD
from ml_connector.web.context import console
from ml_connector.web.views import when

__all__ = ["FLASH_COOKIE", "flash", "page", "redirect", "templates"]

FLASH_COOKIE = "mlc_flash"

_env = Environment(
    loader=PackageLoader("ml_connector.web", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)
_env.filters["when"] = when
_env.filters["zoned"] = zoned_text
_env.filters["pretty"] = lambda value: json.dumps(value, indent=2, ensure_ascii=False, default=str)
_env.filters["short"] = lambda value, n=80: (
    value if len(str(value)) <= n else str(value)[: n - 1] + "…"
)
_env.globals["CSRF_FIELD"] = CSRF_FIELD
templates = Jinja2Templates(env=_env)


def _age(value: datetime | None, now: datetime) -> str:
    return "" if value is None else format_age((now - value).total_seconds())


_env.globals["age"] = _age
_env.globals["DOCUMENT_NAMES"] = {
    "supplier": "supplier",
    "item": "item",
    "create_po": "purchase order",
    "update_po": "purchase order change",
    "close_po": "purchase order close",
    "receipt": "goods receipt",
    "reverse_receipt": "receipt reversal",
    "invoice": "supplier invoice",
    "credit_note": "supplier credit note",
}
_env.globals["stop_reason"] = stop_reason


def page(
    request: Request, name: str, context: dict[str, Any] | None = None, *, status: int = 200
) -> HTMLResponse:
    """Render template ``name`` with the visitor, the clock and any flash note."""
    app = console(request)
    values: dict[str, Any] = {
        "visitor": getattr(request.state, "visitor", None),
        "now": app.clock(),
        "flash": None,
        "flash_kind": "ok",
    }
    raw = request.cookies.get(FLASH_COOKIE)
    if raw:
        kind, _, text = unquote(raw).partition(":")
        values["flash"], values["flash_kind"] = text[:500], kind if kind == "error" else "ok"
    values.update(context or {})
    response = templates.TemplateResponse(request, name, values, status_code=status)
    response.headers["Cache-Control"] = "no-store"
    if raw:
        response.delete_cookie(FLASH_COOKIE, path="/")
    return response


def flash(response: Response, text: str, *, error: bool = False, secure: bool = False) -> None:
    """Show ``text`` once on the next page this browser loads (secrets masked)."""
    value = quote(f"{'error' if error else 'ok'}:{scrub(text)[:500]}", safe="")
    response.set_cookie(
        FLASH_COOKIE, value, max_age=60, httponly=True, samesite="lax", secure=secure, path="/"
    )


def redirect(
    request: Request, url: str, note: str | None = None, *, error: bool = False
) -> RedirectResponse:
    """303 to ``url`` (a local path), with a flash note."""
    response = RedirectResponse(url if url.startswith("/") else "/", status_code=303)
    if note:
        flash(response, note, error=error, secure=console(request).config.behind_https)
    return response
