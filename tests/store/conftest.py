"""Store fixtures: every contract test runs on a SQLite file and, when configured, PostgreSQL
(`database_url` in tests/conftest.py)."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from ml_connector.store import Store
from ml_connector.vault import Vault

# --import-mode=importlib: make the shared builders (`store_helpers`) importable.
if str(Path(__file__).parent) not in sys.path:
    sys.path.insert(0, str(Path(__file__).parent))

from store_helpers import make_config


@pytest.fixture
def vault() -> Vault:
    return Vault.ephemeral()


@pytest.fixture
async def store(database_url: str, vault: Vault) -> AsyncIterator[Store]:
    opened = await Store.open(database_url, vault)
    try:
        yield opened
    finally:
        await opened.close()


@pytest.fixture
async def cid(store: Store) -> int:
    """The id of a freshly added connection named ``acme``."""
    added = await store.add_connection(make_config("acme"))
    assert added.id is not None
    return added.id
