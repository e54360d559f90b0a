"""Console fixtures: a migrated store on each back-end, its users, a pinned clock, cheap hashes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from ml_connector.passwords import Passwords
from ml_connector.store import Store
from ml_connector.store.users import SqlUsers
from ml_connector.vault import Vault


class Clock:
    """A settable clock: ``clock.now += timedelta(...)`` moves time for the store and use cases."""

    def __init__(self) -> None:
        self.now = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def passwords() -> Passwords:
    return Passwords(time_cost=1, memory_cost=8)


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[Store]:
    opened = await Store.open(database_url, Vault.ephemeral())
    try:
        yield opened
    finally:
        await opened.close()


@pytest.fixture
def users(store: Store, clock: Clock) -> SqlUsers:
    return SqlUsers(store.engine, clock=clock)
