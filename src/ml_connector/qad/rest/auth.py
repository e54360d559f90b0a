"""The QAD token manager: one cached bearer token per client, refreshed once for everyone.

QAD's OAuth endpoint (`{base}/oauth/token`) takes a password grant and, where the tenant issues
refresh tokens, a refresh grant. The manager

- caches the token and refreshes it shortly before `expires_in` runs out (margin
  `min(60 s, ttl / 4)`, so a 2-second test token is still used for 1.5 s);
- uses the refresh grant when it holds a refresh token and falls back to the password grant when
  that is refused;
- after a 401, refreshes once on behalf of every caller that saw the same token (single-flight:
  an `asyncio.Lock` plus a generation number, so eight calls hitting one expiry cost one token
  request, not eight).

Token, refresh token and password never appear in a message or repr.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from ml_connector import backoff
from ml_connector.backoff import Sleep
from ml_connector.errors import AuthRejected, Unavailable, WrongTenantUrl
from ml_connector.qad.settings import QadSettings

TOKEN_PATH = "oauth/token"
DEFAULT_TTL = 300.0  # what QAD clients assume when `expires_in` is missing
MAX_MARGIN = 60.0
NOT_JSON = "not-json"


@dataclass(frozen=True)
class Token:
    """A bearer token and when to stop using it; `generation` counts tokens obtained."""

    value: str = field(repr=False)
    refresh_token: str | None = field(repr=False)
    expires_at: float
    refresh_at: float
    generation: int


def refresh_margin(ttl: float) -> float:
    """How long before expiry a token is replaced: 60 s, or a quarter of a short lifetime."""
    return min(MAX_MARGIN, ttl / 4)


class TokenManager:
    """Hands out a valid token; `renew(stale)` after a 401 fetches at most one new token.

    `requests` counts every request sent to the token endpoint (retries included);
    `renewals` counts refreshes forced by a 401.
    """

    def __init__(
        self,
        settings: QadSettings,
        http: httpx.AsyncClient,
        *,
        retries: int = 4,
        sleep: Sleep = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
    ) -> None:
        self._settings = settings
        self._http = http
        self._retries = retries
        self._sleep = sleep
        self._clock = clock
        self._rng = rng or random.Random()
        self._lock = asyncio.Lock()
        self._token: Token | None = None
        self._generation = 0
        self.requests = 0
        self.renewals = 0

    def __repr__(self) -> str:
        held = "none" if self._token is None else f"generation {self._token.generation}"
        return f"<TokenManager {self._settings.base_url} token={held}>"

    def _fresh(self, token: Token | None) -> bool:
        return token is not None and self._clock() < token.refresh_at

    async def get(self) -> Token:
        """A token that is not due for refresh, fetching one if needed (one fetch at a time)."""
        token = self._token
        if self._fresh(token):
            assert token is not None
            return token
        async with self._lock:
            token = self._token
            if self._fresh(token):
                assert token is not None
                return token
            try:
                return await self._obtain(token)
            except Unavailable:
                # The endpoint is down but the old token has not expired yet: keep using it.
                if token is not None and self._clock() < token.expires_at:
                    return token
                raise

    async def renew(self, stale: Token) -> Token:
        """Replace `stale` after QAD answered 401 to it, unless another caller already did."""
        async with self._lock:
            current = self._token
            if current is not None and current.generation != stale.generation:
                return current
            self.renewals += 1
            return await self._obtain(current)

    def forget(self) -> None:
        """Drop the cached token (the next call logs in again)."""
        self._token = None

    async def _obtain(self, previous: Token | None) -> Token:
        started = self._clock()
        payload: dict[str, Any] | None = None
        if previous is not None and previous.refresh_token:
            try:
                payload = await self._grant(
                    {
                        "grant_type": "refresh_token",
                        "client_id": self._settings.client_id,
                        "refresh_token": previous.refresh_token,
                    },
                    refresh=True,
                )
            except AuthRejected:
                payload = None
        if payload is None:
            payload = await self._grant(
                {
                    "grant_type": "password",
                    "client_id": self._settings.client_id,
                    "username": self._settings.username,
                    "password": self._settings.password.get_secret_value(),
                },
                refresh=False,
            )
        ttl = _ttl(payload.get("expires_in"))
        refresh_token = payload.get("refresh_token")
        self._generation += 1
        token = Token(
            value=str(payload["access_token"]),
            refresh_token=str(refresh_token) if refresh_token else None,
            expires_at=started + ttl,
            refresh_at=started + ttl - refresh_margin(ttl),
            generation=self._generation,
        )
        self._token = token
        return token

    async def _grant(self, form: dict[str, str], *, refresh: bool) -> dict[str, Any]:
        reason = "no answer"
        not_json = False
        status: int | None = None
        for attempt in range(self._retries + 1):
            if attempt:
                await self._sleep(backoff.QAD.delay(attempt, self._rng))
            self.requests += 1
            try:
                response = await self._http.post(TOKEN_PATH, data=form)
            except httpx.TransportError as exc:
                reason, not_json, status = type(exc).__name__, False, None
                continue
            status = response.status_code
            if 300 <= status < 400:
                raise WrongTenantUrl(
                    f"QAD token endpoint answered a redirect (HTTP {status}): wrong tenant URL? "
                    f"({self._settings.base_url})"
                )
            if status == 404:
                raise WrongTenantUrl(
                    "QAD token endpoint not found (HTTP 404): wrong tenant URL or context root? "
                    f"({self._settings.base_url})"
                )
            try:
                body = response.json()
            except ValueError:
                reason, not_json = "answered with a body that is not JSON (HTML?)", True
                continue
            not_json = False
            if status >= 500 or status == 429:
                reason = f"HTTP {status}"
                continue
            if status in (400, 401):
                raise self._rejected(status, body, form, refresh=refresh)
            if status >= 400:
                raise AuthRejected(
                    f"QAD token endpoint refused the login (HTTP {status})",
                    system="qad",
                    status=status,
                )
            if not isinstance(body, dict) or not isinstance(body.get("access_token"), str):
                reason, not_json = "answered 200 without an access_token", True
                continue
            return body
        raise Unavailable(
            f"QAD token endpoint {reason} after {self._retries + 1} attempts",
            system="qad",
            status=status,
            code=NOT_JSON if not_json else None,
        )

    def _rejected(
        self, status: int, body: Any, form: dict[str, str], *, refresh: bool
    ) -> AuthRejected:
        error = body.get("error", "") if isinstance(body, dict) else ""
        detail = body.get("error_description", "") if isinstance(body, dict) else ""
        detail = _scrub(str(detail), form)
        if refresh:
            what = "QAD refused the refresh token"
        elif status == 400:
            what = "QAD does not know this client id (unknown client_id)"
        else:
            what = "QAD refused the username or password (bad credentials)"
        suffix = f": {error}" if error else ""
        suffix += f" - {detail}" if detail else ""
        return AuthRejected(what + suffix, system="qad", status=status, code=str(error) or None)


def _scrub(text: str, form: dict[str, str]) -> str:
    """Remove any secret we sent from text the server echoes back."""
    for key in ("password", "refresh_token"):
        secret = form.get(key)
        if secret:
            text = text.replace(secret, "***")
    return text


def _ttl(value: Any) -> float:
    try:
        ttl = float(value)
    except (TypeError, ValueError):
        return DEFAULT_TTL
    return ttl if ttl > 0 else DEFAULT_TTL
