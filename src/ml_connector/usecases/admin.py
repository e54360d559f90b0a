"""Looking after the installation: the database schema and the master key.

Both act on the settings (the database URL, where the key lives) rather than on a connection.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ml_connector.settings import AppSettings, safe_url
from ml_connector.store.db import current_revision, upgrade
from ml_connector.usecases.opening import open_store
from ml_connector.vault import Vault

__all__ = ["DatabaseState", "KeyRotation", "rotate_keys", "upgrade_database"]


@dataclass(frozen=True)
class DatabaseState:
    """The database (its URL with any password masked) and the revision it is at."""

    url: str
    revision: str | None


@dataclass(frozen=True)
class KeyRotation:
    """How many secrets were re-encrypted; ``key_file`` when the key lives in a file."""

    reencrypted: int
    key_file: Path | None


async def upgrade_database(settings: AppSettings) -> DatabaseState:
    """Apply every pending migration."""
    await upgrade(settings.database_url)
    revision = await current_revision(settings.database_url)
    return DatabaseState(safe_url(settings.database_url), revision)


async def rotate_keys(settings: AppSettings, *, show_new_key: Callable[[str], None]) -> KeyRotation:
    """Re-encrypt every stored secret under a new master key.

    With a key file the file is rewritten (crash-safe, see `vault.py`). With the key in
    ``ML_CONNECTOR_MASTER_KEY`` the new key goes to ``show_new_key`` before anything changes,
    because nothing else will ever show it.
    """
    vault = Vault.from_settings(settings)
    async with open_store(settings) as store:
        if vault.source == "env":
            new_key = Vault.generate_key()
            show_new_key(new_key)
            result = await vault.rotate(store, new_key=new_key)
        else:
            result = await vault.rotate(store)
    return KeyRotation(result.reencrypted, result.key_file)
