"""The SQLite file holds encrypted credentials and the audit trail: owner-only from birth."""

import stat
from pathlib import Path

from ml_connector.store import SqlStore
from ml_connector.vault import Vault


async def test_new_sqlite_database_file_is_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "home" / "ml-connector.db"
    store = await SqlStore.open(f"sqlite+aiosqlite:///{path}", Vault.ephemeral())
    await store.close()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
