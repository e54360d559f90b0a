"""Signing in to the console, resuming a session from its cookie, signing out.

A sign-in is refused without looking at the password when the user name has had
``max_failures_per_user`` refused sign-ins within ``window``, or the address
``max_failures_per_remote`` (counted in the access log, so every console process sees the same
count); the refusal says when to retry. Otherwise the password is verified (a dummy hash is
verified for an unknown name, so timing tells nothing) and, on success, a session is created:
a random token for the cookie, of which only the SHA-256 is stored, and a CSRF token.

A session ends after ``idle`` without use or ``lifetime`` after sign-in, whichever comes first.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from ml_connector.errors import AccessDenied, SignInThrottled
from ml_connector.passwords import Passwords
from ml_connector.store.users import ConsoleEventKind, ConsoleSession, SqlUsers, User

__all__ = [
    "SignInPolicy",
    "SignedIn",
    "resume_session",
    "sign_in",
    "sign_out",
    "token_hash",
]

# Touch a session's last-seen time at most this often: one write per minute, not per request.
_TOUCH_EVERY = timedelta(seconds=60)


@dataclass(frozen=True, slots=True)
class SignInPolicy:
    """How sign-ins are limited and how long a session lives."""

    max_failures_per_user: int = 5
    max_failures_per_remote: int = 20
    window: timedelta = timedelta(minutes=15)
    idle: timedelta = timedelta(minutes=30)
    lifetime: timedelta = timedelta(hours=12)


@dataclass(frozen=True, slots=True)
class SignedIn:
    """A new session: the cookie token (shown once, never stored) and the CSRF token."""

    user: User
    token: str
    csrf_token: str


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _now() -> datetime:
    return datetime.now(UTC)


async def sign_in(
    users: SqlUsers,
    passwords: Passwords,
    name: str,
    password: str,
    *,
    remote: str | None,
    policy: SignInPolicy = SignInPolicy(),
    now: Callable[[], datetime] = _now,
) -> SignedIn:
    """Check the name and password; AccessDenied or SignInThrottled when refused."""
    name = name.strip()[:64]
    since = now() - policy.window
    refused: tuple[ConsoleEventKind, ...] = ("sign-in-refused",)
    by_user = await users.count_events(refused, since, username=name)
    by_remote = await users.count_events(refused, since, remote=remote) if remote is not None else 0
    if by_user >= policy.max_failures_per_user or by_remote >= policy.max_failures_per_remote:
        await users.log_event("sign-in-throttled", name, "console", remote=remote)
        raise SignInThrottled(
            "too many refused sign-ins; wait a few minutes and try again",
            retry_after=policy.window.total_seconds(),
        )
    user = await users.get_user(name) if name else None
    if user is None:
        await asyncio.to_thread(passwords.verify_none, password)
        ok = False
    else:
        ok = await asyncio.to_thread(passwords.verify, user.password_hash, password)
    if user is None or not ok:
        await users.log_event(
            "sign-in-refused",
            name,
            "console",
            remote=remote,
            detail="unknown user" if user is None else "wrong password",
        )
        raise AccessDenied("wrong user name or password")
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    # Sessions nobody resumed again would otherwise stay forever; each sign-in sweeps them.
    await users.end_idle_sessions(now() - policy.idle)
    await users.create_session(token_hash(token), user, csrf)
    await users.log_event("signed-in", name, "console", remote=remote)
    return SignedIn(user, token, csrf)


async def resume_session(
    users: SqlUsers,
    token: str,
    *,
    policy: SignInPolicy = SignInPolicy(),
    now: Callable[[], datetime] = _now,
) -> ConsoleSession | None:
    """The live session behind a cookie token, or None (unknown, idle too long, too old)."""
    if not token or len(token) > 128:
        return None
    digest = token_hash(token)
    session = await users.get_session(digest)
    if session is None:
        return None
    moment = now()
    if moment - session.last_seen_at > policy.idle or moment - session.created_at > policy.lifetime:
        await users.end_session(digest)
        return None
    if moment - session.last_seen_at > _TOUCH_EVERY:
        await users.touch_session(digest)
    return session


async def sign_out(users: SqlUsers, session: ConsoleSession, *, remote: str | None) -> None:
    await users.end_session(session.token_hash)
    await users.log_event("signed-out", session.user.name, "console", remote=remote)
