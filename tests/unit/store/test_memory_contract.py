"""The store contract on :class:`ml_connector.testing.MemoryStore` (virtual time, no database)."""

from __future__ import annotations

import pytest
from store_contract import StoreContract
from store_helpers import Backdoor, MemoryBackdoor, make_config

from ml_connector.testing import FakeClock, MemoryStore
from ml_connector.vault import Vault


@pytest.fixture
def vault() -> Vault:
    return Vault.ephemeral()


@pytest.fixture
def store(vault: Vault) -> MemoryStore:
    return MemoryStore(vault, clock=FakeClock().utcnow)


@pytest.fixture
async def cid(store: MemoryStore) -> int:
    added = await store.add_connection(make_config("acme"))
    assert added.id is not None
    return added.id


@pytest.fixture
def backdoor(store: MemoryStore) -> Backdoor:
    return MemoryBackdoor(store)


class TestMemoryStore(StoreContract):
    pass
