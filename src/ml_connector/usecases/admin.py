"""Looking after the installation: the database schema and the master key.

Both act on the settings (the database URL, where the key lives) rather than on a connection.
On PostgreSQL the schema includes the job queue's (Procrastinate's, see
:mod:`ml_connector.jobs.schema`), loaded only there so a SQLite installation never imports it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

from ml_connector.settings import AppSettings, normalise_database_url, safe_url
from ml_connector.store.db import current_revision, upgrade
from ml_connector.usecases.opening import open_store
from ml_connector.vault import Vault

__all__ = ["DatabaseState", "KeyRotation", "rotate_keys", "upgrade_database"]


@dataclass(frozen=True)
class DatabaseState:
    """The database (its URL with any password masked), the revision it is at and, on
    PostgreSQL, what happened to the job queue's schema (None on SQLite)."""

    url: str
    revision: str | None
    job_queue: str | None = None


@dataclass(frozen=True)
class KeyRotation:
    """How many secrets were re-encrypted; ``key_file`` when the key lives in a file."""

    reencrypted: int
    key_file: Path | None


async def upgrade_database(settings: AppSettings) -> DatabaseState:
    """Apply every pending migration, ours and (on PostgreSQL) the job queue's."""
    await upgrade(settings.database_url)
    revision = await current_revision(settings.database_url)
    job_queue = None
    if make_url(normalise_database_url(settings.database_url)).get_backend_name() == "postgresql":
        from ml_connector.jobs.schema import ensure_job_schema

        job_queue = (await ensure_job_schema(settings.database_url)).describe()
    return DatabaseState(safe_url(settings.database_url), revision, job_queue)


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
