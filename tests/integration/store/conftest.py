"""Store fixtures: every contract test runs on a SQLite file and, when configured, PostgreSQL
(`database_url` in tests/conftest.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from store_helpers import make_config

from ml_connector.store import SqlStore
from ml_connector.store.sqlite_driver import SqliteConnection, run_statement
from ml_connector.vault import Vault


@pytest.fixture
def vault() -> Vault:
    return Vault.ephemeral()


@pytest.fixture
async def store(database_url: str, vault: Vault) -> AsyncIterator[SqlStore]:
    opened = await SqlStore.open(database_url, vault)
    try:
        yield opened
    finally:
        await opened.close()


@pytest.fixture
async def cid(store: SqlStore) -> int:
    """The id of a freshly added connection named ``acme``."""
    added = await store.add_connection(make_config("acme"))
    assert added.id is not None
    return added.id


@pytest.fixture
def trips(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """What each trip to a SQLite connection's thread ran: a statement's first two words, or
    the name of the call (``commit``, ``rollback``, ...)."""
    seen: list[str] = []
    real = SqliteConnection.send

    async def counted(self: SqliteConnection, fn: Any, *args: Any, patient: bool = False) -> Any:
        is_statement = fn is run_statement
        seen.append(" ".join(args[2].split()[:2]) if is_statement else getattr(fn, "__name__", ""))
        return await real(self, fn, *args, patient=patient)

    monkeypatch.setattr(SqliteConnection, "send", counted)
    return seen
