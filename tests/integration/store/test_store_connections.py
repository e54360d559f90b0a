"""Connections on SQL only: what needs a database shared by two stores or no vault at all.

The rest of the connection behaviour is in the store contract (tests/support/store_contract.py).
"""

from __future__ import annotations

import pytest
from store_helpers import make_config

from ml_connector.errors import ConfigError
from ml_connector.store import SqlStore
from ml_connector.vault import Vault


async def test_another_vault_cannot_read_the_secrets(database_url: str) -> None:
    first = await SqlStore.open(database_url, Vault.ephemeral())
    await first.add_connection(make_config("acme"))
    await first.close()
    second = await SqlStore.open(database_url, Vault.ephemeral())
    try:
        with pytest.raises(ConfigError, match="cannot be decrypted"):
            await second.get_connection("acme")
        assert await second.connection_id("acme") > 0  # no secret needed for the id
    finally:
        await second.close()


async def test_a_store_without_vault_refuses_credential_verbs(database_url: str) -> None:
    store = await SqlStore.open(database_url)
    try:
        with pytest.raises(ConfigError, match="without a vault"):
            await store.add_connection(make_config())
    finally:
        await store.close()
