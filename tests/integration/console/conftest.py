"""Console fixtures: a migrated store on each back-end, its users, a fake clock, cheap hashes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from console_helpers import PASSWORD
from console_world import ConsoleWorld, build_console_world
from fastapi import FastAPI

from ml_connector.passwords import Passwords
from ml_connector.store import SqlStore
from ml_connector.store.users import SqlUsers
from ml_connector.testing import FakeClock
from ml_connector.usecases.users import add_user
from ml_connector.vault import Vault
from ml_connector.web import create_app


@pytest.fixture
def clock() -> FakeClock:
    """Virtual time from 2026-12-01 09:00 UTC: ``clock.advance(seconds)`` moves it for the
    users store and the sign-in use cases (``clock.utcnow``)."""
    return FakeClock(0, epoch=datetime(2026, 12, 1, 9, 0, tzinfo=UTC))


@pytest.fixture
def passwords() -> Passwords:
    return Passwords(time_cost=1, memory_cost=8)


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[SqlStore]:
    opened = await SqlStore.open(database_url, Vault.ephemeral())
    try:
        yield opened
    finally:
        await opened.close()


@pytest.fixture
def users(store: SqlStore, clock: FakeClock) -> SqlUsers:
    return SqlUsers(store.engine, clock=clock.utcnow)


# --- the console app over that store ------------------------------------------------------------


@pytest.fixture
def app(store: SqlStore, passwords: Passwords) -> FastAPI:
    """The console on the real clock (the store stamps runs and records with it too)."""
    return create_app(store, passwords=passwords)


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50123))
    async with httpx.AsyncClient(transport=transport, base_url="http://console.test") as c:
        yield c


@pytest.fixture
async def people(users: SqlUsers, passwords: Passwords) -> dict[str, str]:
    """One user per role, all with PASSWORD: name → role."""
    roles = {"vera": "viewer", "otto": "operator", "ada": "admin"}
    for name, role in roles.items():
        await add_user(users, passwords, name, role, PASSWORD, actor="test")
    return roles


@pytest.fixture
async def synced(tmp_path: Path) -> AsyncIterator[ConsoleWorld]:
    """Connection acme synced with a posted, a held, a blocked and a failed purchase (SQLite:
    the console's flows; `synced_everywhere` repeats the dialect-specific reads on both)."""
    async with build_console_world(f"sqlite+aiosqlite:///{tmp_path / 'console.db'}") as built:
        yield built


@pytest.fixture
async def synced_everywhere(database_url: str) -> AsyncIterator[ConsoleWorld]:
    """The same world on SQLite and PostgreSQL."""
    async with build_console_world(database_url) as built:
        yield built


@asynccontextmanager
async def _client_of(world: ConsoleWorld, passwords: Passwords) -> AsyncIterator[httpx.AsyncClient]:
    users = SqlUsers(world.store.engine)
    for name, role in {"vera": "viewer", "otto": "operator", "ada": "admin"}.items():
        await add_user(users, passwords, name, role, PASSWORD, actor="test")
    app = create_app(world.store, passwords=passwords)
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50124))
    async with httpx.AsyncClient(transport=transport, base_url="http://console.test") as c:
        yield c


@pytest.fixture
async def synced_client(
    synced: ConsoleWorld, passwords: Passwords
) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the synced world's console; users vera, otto and ada exist (one per role)."""
    async with _client_of(synced, passwords) as client:
        yield client


@pytest.fixture
async def everywhere_client(
    synced_everywhere: ConsoleWorld, passwords: Passwords
) -> AsyncIterator[httpx.AsyncClient]:
    async with _client_of(synced_everywhere, passwords) as client:
        yield client
