"""Who is asking, and may they: session cookies, CSRF tokens and roles.

- **Session.** The cookie ``mlc_session`` holds a random token (HttpOnly, SameSite=Lax, Secure
  behind HTTPS, no expiry date: the server ends it after idle time, see
  :mod:`ml_connector.usecases.access`). No cookie or a dead one: :class:`NotSignedIn`, which
  the app answers with 401 under ``/api`` and a 303 to ``/login`` elsewhere.
- **CSRF.** Every request that changes something (any method but GET, HEAD, OPTIONS) must carry
  the session's CSRF token, in the ``X-CSRF-Token`` header or a form field ``csrf_token``, or it
  is refused with 403 before any use case runs. The sign-in form, which has no session yet,
  uses a double-submit token: the ``mlc_login_csrf`` cookie must equal the form field.
- **Roles.** ``viewer`` < ``operator`` < ``admin``; :func:`at_least` makes the dependency that
  refuses a lesser role with 403.

Routes declare ``who: Viewer`` (or ``Operator``, ``Admin``); the dependency does all three
checks, so a route cannot forget one.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request, Response

from ml_connector.store.users import ROLES, ConsoleSession, Role, User
from ml_connector.usecases.access import resume_session
from ml_connector.web.context import Console, console

__all__ = [
    "CSRF_FIELD",
    "CSRF_HEADER",
    "LOGIN_CSRF_COOKIE",
    "SESSION_COOKIE",
    "Admin",
    "NotSignedIn",
    "Operator",
    "Viewer",
    "Visitor",
    "at_least",
    "check_login_csrf",
    "clear_session_cookie",
    "login_csrf_token",
    "remote_address",
    "set_login_csrf_cookie",
    "set_session_cookie",
    "signed_in",
]

SESSION_COOKIE = "mlc_session"
LOGIN_CSRF_COOKIE = "mlc_login_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


class NotSignedIn(Exception):
    """No live session came with the request."""


@dataclass(frozen=True)
class Visitor:
    """The signed-in person making this request."""

    session: ConsoleSession

    @property
    def user(self) -> User:
        return self.session.user

    @property
    def name(self) -> str:
        return self.session.user.name

    @property
    def role(self) -> Role:
        return self.session.user.role

    @property
    def csrf_token(self) -> str:
        return self.session.csrf_token

    @property
    def actor(self) -> str:
        """How this person appears in the audit trail."""
        return f"console:{self.name}"

    def may(self, role: Role) -> bool:
        return ROLES.index(self.role) >= ROLES.index(role)


def remote_address(request: Request) -> str | None:
    return request.client.host if request.client else None


async def _submitted_csrf(request: Request) -> str:
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(_FORM_TYPES):
        form = await request.form()
        value = form.get(CSRF_FIELD)
        return value if isinstance(value, str) else ""
    return ""


async def signed_in(request: Request, app: Annotated[Console, Depends(console)]) -> Visitor:
    """The live session of this request, its CSRF token checked when it changes something."""
    token = request.cookies.get(SESSION_COOKIE, "")
    session = await resume_session(app.users, token, policy=app.config.policy, now=app.clock)
    if session is None:
        raise NotSignedIn
    if request.method not in SAFE_METHODS:
        submitted = await _submitted_csrf(request)
        if not submitted or not hmac.compare_digest(submitted, session.csrf_token):
            raise HTTPException(403, "missing or wrong CSRF token")
    visitor = Visitor(session)
    request.state.visitor = visitor
    return visitor


def at_least(role: Role) -> Callable[[Visitor], Awaitable[Visitor]]:
    """A dependency that lets through signed-in visitors with ``role`` or a higher one."""

    async def check(visitor: Annotated[Visitor, Depends(signed_in)]) -> Visitor:
        if not visitor.may(role):
            raise HTTPException(
                403, f"this needs the {role} role; {visitor.name} is a {visitor.role}"
            )
        return visitor

    return check


Viewer = Annotated[Visitor, Depends(signed_in)]
Operator = Annotated[Visitor, Depends(at_least("operator"))]
Admin = Annotated[Visitor, Depends(at_least("admin"))]


# --- cookies ------------------------------------------------------------------------------------


def set_session_cookie(response: Response, token: str, *, secure: bool) -> None:
    response.set_cookie(
        SESSION_COOKIE, token, httponly=True, samesite="lax", secure=secure, path="/"
    )


def clear_session_cookie(response: Response, *, secure: bool) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=secure)


def login_csrf_token(request: Request) -> str:
    """The sign-in form's token: the one already in the browser's cookie, or a new one."""
    token = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    return token if 32 <= len(token) <= 128 else secrets.token_urlsafe(32)


def set_login_csrf_cookie(response: Response, token: str, *, secure: bool) -> None:
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=secure,
        path="/login",
        max_age=3600,
    )


def check_login_csrf(request: Request, submitted: str) -> None:
    """403 unless the form's token equals the cookie set with the form."""
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not expected or not submitted or not hmac.compare_digest(expected, submitted):
        raise HTTPException(403, "missing or wrong CSRF token; reload the sign-in page")
