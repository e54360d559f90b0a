"""Opening what a use case works on: the store of the settings, a stored connection.

Every entry point (the CLI, the scheduler, later a web console and job workers) reads the
settings once at its edge and opens the store here, so migrations, the vault and secret masking
are set up the same way everywhere.
"""

from __future__ import annotations

import getpass
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from ml_connector.masking import keep_secret
from ml_connector.settings import AppSettings, load_settings
from ml_connector.store.models import ConnectionConfig
from ml_connector.store.protocols import Store
from ml_connector.store.sql import SqlStore
from ml_connector.vault import Vault

__all__ = ["load_connection", "open_store", "os_user"]


@asynccontextmanager
async def open_store(
    settings: AppSettings | None = None, *, pool_size: int | None = None
) -> AsyncIterator[SqlStore]:
    """The store of these settings (default: from the environment), migrated, with its vault;
    on PostgreSQL keeping ``pool_size`` connections when given (a job worker's)."""
    settings = settings or load_settings()
    store = await SqlStore.open(
        settings.database_url, Vault.from_settings(settings), pool_size=pool_size
    )
    try:
        yield store
    finally:
        await store.close()


async def load_connection(store: Store, name: str) -> ConnectionConfig:
    """The named connection (ConfigError if none); its secrets are remembered for masking."""
    config = await store.get_connection(name)
    keep_secret(*config.secrets())
    return config


def os_user() -> str:
    """The operating-system user, for actors in the trail (``cli:alice``)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (containers)
        return "unknown"
