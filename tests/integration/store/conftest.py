"""Store fixtures: every contract test runs on a SQLite file and, when configured, PostgreSQL
(`database_url` in tests/conftest.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from store_helpers import make_config

from ml_connector.store import SqlStore
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
