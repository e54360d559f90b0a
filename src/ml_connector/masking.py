"""Secrets to mask in anything a person reads, scoped to one command or one request.

The clients never put a secret in a message, but a last line of defence costs little: every
secret a command or request handles (a typed option, a decrypted connection credential) is
remembered with :func:`keep_secret`, and :func:`scrub` masks them all in the line shown.

What is remembered belongs to the innermost :func:`secret_scope`, held in a context variable:
the CLI opens one per command, the console one per request, a job worker one per job
(`jobs/tasks.py`) and the embedded scheduler one per connection's turn (`runner.py`). A nested
scope sees its parents' secrets; concurrent tasks in different scopes never see each other's;
and a scope's secrets are dropped when it closes, so a long-running server neither grows a set
forever nor masks one tenant's text with another's secrets. Outside every scope nothing is
remembered.

    with secret_scope():
        keep_secret(config.qad.password.get_secret_value())
        ...
        line = scrub(str(exc))
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

__all__ = ["MASK", "SecretScopes", "keep_secret", "kept_secrets", "scrub", "secret_scope"]

MASK = "**********"
_MIN_LENGTH = 4  # shorter strings would mask ordinary words


@dataclass
class _Scope:
    parent: _Scope | None
    secrets: set[str] = field(default_factory=set)


_current: ContextVar[_Scope | None] = ContextVar("ml_connector_secret_scope", default=None)


@contextmanager
def secret_scope() -> Iterator[None]:
    """Remember secrets for the block (and what it awaits or starts); forget them after."""
    scope = _Scope(_current.get())
    token = _current.set(scope)
    try:
        yield
    finally:
        _current.reset(token)
        scope.secrets.clear()  # a task that outlives the block keeps no secret alive


def keep_secret(*values: str | None) -> None:
    """Remember secret strings in the current scope, so that no line shown can carry them."""
    scope = _current.get()
    if scope is not None:
        scope.secrets.update(v for v in values if v and len(v) >= _MIN_LENGTH)


def kept_secrets() -> frozenset[str]:
    """What the current scope and its parents remember."""
    found: set[str] = set()
    scope = _current.get()
    while scope is not None:
        found |= scope.secrets
        scope = scope.parent
    return frozenset(found)


def scrub(text: str) -> str:
    """``text`` with every secret the current scopes remember masked (longest first)."""
    for secret in sorted(kept_secrets(), key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text


ASGIApp = Callable[
    [MutableMapping[str, Any], Callable[[], Awaitable[Any]], Callable[[Any], Awaitable[None]]],
    Awaitable[None],
]


class SecretScopes:
    """ASGI middleware: each request runs in a scope of its own."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(
        self,
        scope: MutableMapping[str, Any],
        receive: Callable[[], Awaitable[Any]],
        send: Callable[[Any], Awaitable[None]],
    ) -> None:
        with secret_scope():
            await self.app(scope, receive, send)
