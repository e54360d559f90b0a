"""The console's people: users with a role, their signed-in sessions, and the sign-in log.

Kept apart from the sync state (`store/sql/`): nothing here touches a connection, and the engine
never reads it. :class:`SqlUsers` works on the store's engine, so it shares its database, its
migrations and (on SQLite) its ``BEGIN IMMEDIATE`` writes.

What is stored, and why:

- ``users``: name, role and an Argon2id hash (hashing lives in :mod:`ml_connector.passwords`;
  this module never sees a password).
- ``console_sessions``: the SHA-256 of each session token and the session's CSRF token. The
  token itself exists only in the browser's cookie, so a copy of the database signs nobody in.
  Removing a user or changing a password ends that user's sessions.
- ``console_events``: an access log (sign-ins accepted, refused or throttled, sign-outs, user
  changes). Rate limiting counts refused sign-ins here, so the limit holds across every process
  serving the console.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.sql import ColumnElement, Executable

from ml_connector.errors import ConfigError, StoreError
from ml_connector.store import tables as t
from ml_connector.store.db import BEGIN_MODE

__all__ = [
    "CONSOLE_EVENTS",
    "ROLES",
    "ConsoleEvent",
    "ConsoleEventKind",
    "ConsoleSession",
    "Role",
    "SqlUsers",
    "User",
]

Role = Literal["viewer", "operator", "admin"]
ROLES: tuple[Role, ...] = ("viewer", "operator", "admin")

ConsoleEventKind = Literal[
    "signed-in",
    "sign-in-refused",
    "sign-in-throttled",
    "signed-out",
    "user-added",
    "user-removed",
    "password-changed",
]
CONSOLE_EVENTS: tuple[ConsoleEventKind, ...] = (
    "signed-in",
    "sign-in-refused",
    "sign-in-throttled",
    "signed-out",
    "user-added",
    "user-removed",
    "password-changed",
)


@dataclass(frozen=True, slots=True)
class User:
    """A console user. ``password_hash`` is an Argon2id PHC string, kept out of the repr."""

    id: int
    name: str
    role: Role
    created_at: datetime
    updated_at: datetime
    password_hash: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class ConsoleSession:
    """A signed-in browser: whose it is, its CSRF token and when it was last used."""

    token_hash: str
    user: User
    csrf_token: str = field(repr=False)
    created_at: datetime
    last_seen_at: datetime


@dataclass(frozen=True, slots=True)
class ConsoleEvent:
    """One line of the access log."""

    id: int
    at: datetime
    event: ConsoleEventKind
    username: str
    actor: str
    remote: str | None
    detail: str | None


def _utcnow() -> datetime:
    return datetime.now(UTC)


class SqlUsers:
    """Users, sessions and the access log on the store's database.

    ``SqlUsers(store.engine)``; ``clock`` returns aware UTC datetimes (tests pin it).
    """

    def __init__(self, engine: AsyncEngine, *, clock: Callable[[], datetime] = _utcnow) -> None:
        self._engine = engine
        # Reads must not take SQLite's write lock (see store/db.py on BEGIN IMMEDIATE).
        self._reader = (
            engine.execution_options(**{BEGIN_MODE: "DEFERRED"})
            if engine.dialect.name == "sqlite"
            else engine
        )
        self._clock = clock

    # --- users --------------------------------------------------------------------------------

    async def add_user(self, name: str, role: Role, password_hash: str) -> User:
        """Store a new user; ConfigError when the name is taken."""
        now = self._clock()
        try:
            async with self._engine.begin() as c:
                new_id = await c.scalar(
                    t.users.insert()
                    .values(
                        name=name,
                        role=role,
                        password_hash=password_hash,
                        created_at=now,
                        updated_at=now,
                    )
                    .returning(t.users.c.id)
                )
        except IntegrityError:
            raise ConfigError(f"a user named {name!r} already exists") from None
        except SQLAlchemyError as exc:
            raise _store_error(exc) from None
        return User(int(new_id), name, role, now, now, password_hash)

    async def get_user(self, name: str) -> User | None:
        rows = await self._users(t.users.c.name == name)
        return rows[0] if rows else None

    async def list_users(self) -> list[User]:
        """Every user, by name."""
        return await self._users()

    async def remove_user(self, name: str) -> bool:
        """Delete a user and (by cascade, and explicitly for SQLite) their sessions."""
        try:
            async with self._engine.begin() as c:
                user_id = await c.scalar(select(t.users.c.id).where(t.users.c.name == name))
                if user_id is None:
                    return False
                await c.execute(
                    delete(t.console_sessions).where(t.console_sessions.c.user_id == user_id)
                )
                await c.execute(delete(t.users).where(t.users.c.id == user_id))
        except SQLAlchemyError as exc:
            raise _store_error(exc) from None
        return True

    async def set_password_hash(self, name: str, password_hash: str) -> bool:
        """Replace a user's hash and end every session they have; False for an unknown user."""
        try:
            async with self._engine.begin() as c:
                user_id = await c.scalar(select(t.users.c.id).where(t.users.c.name == name))
                if user_id is None:
                    return False
                await c.execute(
                    update(t.users)
                    .where(t.users.c.id == user_id)
                    .values(password_hash=password_hash, updated_at=self._clock())
                )
                await c.execute(
                    delete(t.console_sessions).where(t.console_sessions.c.user_id == user_id)
                )
        except SQLAlchemyError as exc:
            raise _store_error(exc) from None
        return True

    async def _users(self, *where: ColumnElement[bool]) -> list[User]:
        stmt = select(t.users).where(*where).order_by(t.users.c.name)
        try:
            async with self._reader.connect() as c:
                rows = (await c.execute(stmt)).mappings().all()
        except SQLAlchemyError as exc:
            raise _store_error(exc) from None
        return [
            User(
                id=int(row["id"]),
                name=row["name"],
                role=row["role"],
                created_at=row["created_at"],
                updated_at=row["updated_at"],
                password_hash=row["password_hash"],
            )
            for row in rows
        ]

    # --- sessions -----------------------------------------------------------------------------

    async def create_session(self, token_hash: str, user: User, csrf_token: str) -> ConsoleSession:
        now = self._clock()
        try:
            async with self._engine.begin() as c:
                await c.execute(
                    t.console_sessions.insert().values(
                        token_hash=token_hash,
                        user_id=user.id,
                        csrf_token=csrf_token,
                        created_at=now,
                        last_seen_at=now,
                    )
                )
        except SQLAlchemyError as exc:
            raise _store_error(exc) from None
        return ConsoleSession(token_hash, user, csrf_token, now, now)

    async def get_session(self, token_hash: str) -> ConsoleSession | None:
        """The session with this token hash and its user, or None."""
        s = t.console_sessions.c
        u = t.users.c
        stmt = (
            select(
                s.token_hash,
                s.csrf_token,
                s.created_at,
                s.last_seen_at,
                u.id,
                u.name,
                u.role,
                u.password_hash,
                u.created_at.label("user_created_at"),
                u.updated_at.label("user_updated_at"),
            )
            .join(t.users, u.id == s.user_id)
            .where(s.token_hash == token_hash)
        )
        try:
            async with self._reader.connect() as c:
                row = (await c.execute(stmt)).mappings().first()
        except SQLAlchemyError as exc:
            raise _store_error(exc) from None
        if row is None:
            return None
        user = User(
            id=int(row["id"]),
            name=row["name"],
            role=row["role"],
            created_at=row["user_created_at"],
            updated_at=row["user_updated_at"],
            password_hash=row["password_hash"],
        )
        return ConsoleSession(
            row["token_hash"], user, row["csrf_token"], row["created_at"], row["last_seen_at"]
        )

    async def touch_session(self, token_hash: str) -> None:
        """Note that the session was just used (its idle time starts again)."""
        s = t.console_sessions.c
        await self._write(
            update(t.console_sessions)
            .where(s.token_hash == token_hash)
            .values(last_seen_at=self._clock())
        )

    async def end_session(self, token_hash: str) -> None:
        s = t.console_sessions.c
        await self._write(delete(t.console_sessions).where(s.token_hash == token_hash))

    async def end_idle_sessions(self, idle_since: datetime) -> int:
        """Delete sessions not used since ``idle_since``; return how many."""
        s = t.console_sessions.c
        try:
            async with self._engine.begin() as c:
                result = await c.execute(
                    delete(t.console_sessions).where(s.last_seen_at < idle_since)
                )
        except SQLAlchemyError as exc:
            raise _store_error(exc) from None
        return int(result.rowcount or 0)

    # --- the access log -----------------------------------------------------------------------

    async def log_event(
        self,
        event: ConsoleEventKind,
        username: str,
        actor: str,
        *,
        remote: str | None = None,
        detail: str | None = None,
    ) -> ConsoleEvent:
        now = self._clock()
        try:
            async with self._engine.begin() as c:
                new_id = await c.scalar(
                    t.console_events.insert()
                    .values(
                        at=now,
                        event=event,
                        username=username[:64],
                        actor=actor[:128],
                        remote=remote[:64] if remote else None,
                        detail=detail,
                    )
                    .returning(t.console_events.c.id)
                )
        except SQLAlchemyError as exc:
            raise _store_error(exc) from None
        return ConsoleEvent(int(new_id), now, event, username, actor, remote, detail)

    async def count_events(
        self,
        events: Sequence[ConsoleEventKind],
        since: datetime,
        *,
        username: str | None = None,
        remote: str | None = None,
    ) -> int:
        """How many of these events happened since ``since`` (for a user, from an address)."""
        e = t.console_events.c
        where = [e.event.in_(list(events)), e.at >= since]
        if username is not None:
            where.append(e.username == username)
        if remote is not None:
            where.append(e.remote == remote)
        try:
            async with self._reader.connect() as c:
                count = await c.scalar(
                    select(func.count()).select_from(t.console_events).where(*where)
                )
        except SQLAlchemyError as exc:
            raise _store_error(exc) from None
        return int(count or 0)

    async def list_events(
        self, *, limit: int = 50, username: str | None = None
    ) -> list[ConsoleEvent]:
        """The newest events first."""
        e = t.console_events.c
        stmt = select(t.console_events).order_by(e.id.desc()).limit(limit)
        if username is not None:
            stmt = stmt.where(e.username == username)
        try:
            async with self._reader.connect() as c:
                rows = (await c.execute(stmt)).mappings().all()
        except SQLAlchemyError as exc:
            raise _store_error(exc) from None
        return [
            ConsoleEvent(
                id=int(row["id"]),
                at=row["at"],
                event=row["event"],
                username=row["username"],
                actor=row["actor"],
                remote=row["remote"],
                detail=row["detail"],
            )
            for row in rows
        ]

    async def _write(self, stmt: Executable) -> None:
        try:
            async with self._engine.begin() as c:
                await c.execute(stmt)
        except SQLAlchemyError as exc:
            raise _store_error(exc) from None


def _store_error(exc: SQLAlchemyError) -> StoreError:
    orig = getattr(exc, "orig", None)
    text = " ".join(str(orig).split()) if orig is not None else type(exc).__name__
    return StoreError(f"store error: {text}")
