"""What every request of the console works with: the store, the users, the settings, a clock.

One :class:`Console` is built by :func:`ml_connector.web.app.create_app` and kept on
``app.state``; routes reach it through the :func:`console` dependency, so tests can build an
app on any store (SQLite, PostgreSQL) and pin the clock.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from fastapi import Request
from pydantic import SecretStr

from ml_connector.passwords import Passwords
from ml_connector.store.sql import SqlStore
from ml_connector.store.users import SqlUsers
from ml_connector.usecases.access import SignInPolicy
from ml_connector.usecases.choices import ChoiceCache

__all__ = ["Console", "ConsoleConfig", "console"]


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class ConsoleConfig:
    """How the console is served.

    ``behind_https``: a TLS proxy fronts the console, so cookies are marked ``Secure``.
    ``metrics_token``: when set, `/metrics` wants ``Authorization: Bearer <token>``.
    """

    behind_https: bool = False
    metrics_token: SecretStr | None = None
    policy: SignInPolicy = field(default_factory=SignInPolicy)


@dataclass
class Console:
    store: SqlStore
    users: SqlUsers
    passwords: Passwords
    config: ConsoleConfig
    clock: Callable[[], datetime] = _now
    choices: ChoiceCache = field(default_factory=ChoiceCache)


def console(request: Request) -> Console:
    """The console this request is served by (a FastAPI dependency)."""
    found: Console = request.app.state.console
    return found
