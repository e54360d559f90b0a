"""Users, bearer tokens and the OAuth password / refresh grants of one sandbox tenant."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ml_connector.sandbox.qad.envelope import num


@dataclass
class User:
    """A tenant user. `can_write=False` reads only; `denied` lists resources it may not touch."""

    name: str
    password: str = field(repr=False)
    can_write: bool = True
    denied: frozenset[str] = frozenset()

    def may(self, resource: str, *, write: bool) -> bool:
        if resource in self.denied:
            return False
        return self.can_write or not write


@dataclass
class _Access:
    username: str
    expires_at: float


class TokenStore:
    """Access tokens that expire after `ttl` seconds on `clock`; refresh tokens that do not.

    `expire_all()` drops every access token (the next API call is a 401); refresh tokens stay
    valid, so a client may recover with either grant.
    """

    def __init__(self, *, ttl: float, clock: Callable[[], float]) -> None:
        self.ttl = ttl
        self._clock = clock
        self._access: dict[str, _Access] = {}
        self._refresh: dict[str, str] = {}

    def __repr__(self) -> str:
        return f"TokenStore(ttl={self.ttl}, active={len(self._access)})"

    def issue(self, username: str, refresh_token: str | None = None) -> dict[str, Any]:
        self._drop_expired()
        access = secrets.token_urlsafe(32)
        self._access[access] = _Access(username, self._clock() + self.ttl)
        if refresh_token is None:
            refresh_token = secrets.token_urlsafe(32)
            self._refresh[refresh_token] = username
        return {
            "access_token": access,
            "token_type": "bearer",
            "refresh_token": refresh_token,
            "expires_in": num_ttl(self.ttl),
        }

    def user_for(self, access_token: str) -> str | None:
        """The user behind a live access token; None when unknown or expired."""
        grant = self._access.get(access_token)
        if grant is None:
            return None
        if self._clock() >= grant.expires_at:
            del self._access[access_token]
            return None
        return grant.username

    def refresh_user(self, refresh_token: str) -> str | None:
        return self._refresh.get(refresh_token)

    def expire_all(self) -> None:
        self._access.clear()

    def _drop_expired(self) -> None:
        now = self._clock()
        for token in [t for t, g in self._access.items() if now >= g.expires_at]:
            del self._access[token]


def num_ttl(ttl: float) -> int | float:
    return num(Decimal(str(ttl)))


def grant(
    params: Mapping[str, str], *, client_id: str, users: Mapping[str, User], tokens: TokenStore
) -> tuple[int, dict[str, Any]]:
    """Answer `POST {base}/oauth/token`: the status and JSON body."""
    grant_type = params.get("grant_type", "")
    if grant_type not in ("password", "refresh_token"):
        return 400, _oauth_error(
            "unsupported_grant_type", "grant_type must be password or refresh_token"
        )
    if not secrets.compare_digest(params.get("client_id", ""), client_id):
        return 400, _oauth_error("invalid_grant", "Unknown client_id")
    if grant_type == "refresh_token":
        refresh = params.get("refresh_token", "")
        username = tokens.refresh_user(refresh) if refresh else None
        if username is None or username not in users:
            return 401, _oauth_error("invalid_grant", "Invalid refresh token")
        return 200, tokens.issue(username, refresh)
    user = users.get(params.get("username", ""))
    if user is None or not secrets.compare_digest(params.get("password", ""), user.password):
        return 401, _oauth_error("invalid_grant", "Bad credentials")
    return 200, tokens.issue(user.name)


def _oauth_error(error: str, description: str) -> dict[str, Any]:
    return {"error": error, "error_description": description}
