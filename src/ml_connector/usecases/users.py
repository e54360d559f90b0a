"""Console users: add, list, remove, change a password, read the access log.

The CLI (`ml-connector user …`) calls these; nothing else creates users. Every change is written
to the access log with its actor (``cli:<OS user>``). Names follow the connection-name rule;
roles are ``viewer`` (reads everything), ``operator`` (also replays, fixes mappings, resolves
records, tests connections) and ``admin`` (also adds, edits and removes connections).

Hashing runs in a worker thread: Argon2 is deliberately slow and must not stall an event loop.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from datetime import datetime

from ml_connector.errors import ConfigError
from ml_connector.passwords import Passwords
from ml_connector.store.users import ROLES, ConsoleEvent, Role, SqlUsers, User

__all__ = [
    "UserView",
    "access_log",
    "add_user",
    "change_password",
    "check_name",
    "check_role",
    "list_users",
    "remove_user",
]

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$")


@dataclass(frozen=True, slots=True)
class UserView:
    """A user as shown to people: never the hash."""

    name: str
    role: Role
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, user: User) -> UserView:
        return cls(user.name, user.role, user.created_at, user.updated_at)


def check_name(name: str) -> str:
    if not _NAME.match(name):
        raise ConfigError(
            f"user name {name!r} refused: use letters, digits and . _ @ - (at most 64, "
            "starting with a letter or digit)"
        )
    return name


def check_role(role: str) -> Role:
    for known in ROLES:
        if role == known:
            return known
    raise ConfigError(f"unknown role {role!r}: use one of {', '.join(ROLES)}")


async def add_user(
    users: SqlUsers, passwords: Passwords, name: str, role: str, password: str, *, actor: str
) -> UserView:
    """Create a user; ConfigError for a bad name or role, a weak password or a taken name."""
    checked_role = check_role(role)
    check_name(name)
    password_hash = await asyncio.to_thread(passwords.hash, password)
    user = await users.add_user(name, checked_role, password_hash)
    await users.log_event("user-added", name, actor, detail=f"role {checked_role}")
    return UserView.of(user)


async def list_users(users: SqlUsers) -> list[UserView]:
    return [UserView.of(user) for user in await users.list_users()]


async def remove_user(users: SqlUsers, name: str, *, actor: str) -> None:
    """Delete a user and sign them out everywhere; ConfigError when there is no such user."""
    if not await users.remove_user(name):
        raise ConfigError(f"no user named {name!r}")
    await users.log_event("user-removed", name, actor)


async def change_password(
    users: SqlUsers, passwords: Passwords, name: str, password: str, *, actor: str
) -> None:
    """Set a new password; every session of that user ends."""
    if await users.get_user(name) is None:
        raise ConfigError(f"no user named {name!r}")
    password_hash = await asyncio.to_thread(passwords.hash, password)
    if not await users.set_password_hash(name, password_hash):
        raise ConfigError(f"no user named {name!r}")
    await users.log_event("password-changed", name, actor)


async def access_log(
    users: SqlUsers, *, limit: int = 50, username: str | None = None
) -> list[ConsoleEvent]:
    """The newest sign-ins, refusals and user changes first."""
    return await users.list_events(limit=limit, username=username)
