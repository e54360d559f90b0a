"""Key rotation through a store: secrets re-encrypted in place, and other processes' vaults follow
the new key (on SQLite and PostgreSQL). The vault's own rules are in tests/unit/vault."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from cryptography.fernet import Fernet, InvalidToken
from store_helpers import make_config, raw

from ml_connector.errors import ConfigError
from ml_connector.settings import load_settings
from ml_connector.store import SqlStore
from ml_connector.vault import Vault


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def test_rotation_with_a_key_file_reencrypts_everything(
    database_url: str, tmp_path: Path
) -> None:
    settings = load_settings({"ML_CONNECTOR_HOME": str(tmp_path)})
    vault = Vault.from_settings(settings)
    old_key = settings.key_file.read_bytes().strip()
    store = await SqlStore.open(database_url, vault)
    try:
        await store.add_connection(make_config("a", qad_password="pw-a"))
        await store.add_connection(make_config("b", cin7_application_key="key-b"))
        before = await raw(
            store, "SELECT cin7_application_key_enc, qad_password_enc FROM connections"
        )

        result = await vault.rotate(store)

        assert result.reencrypted == 4
        assert result.key_file == settings.key_file
        new_key = settings.key_file.read_bytes().strip()
        assert new_key != old_key
        assert new_key.decode() == result.new_key.get_secret_value()
        assert _mode(settings.key_file) == 0o600
        after = await raw(
            store, "SELECT cin7_application_key_enc, qad_password_enc FROM connections"
        )
        old = Fernet(old_key)
        for row in after:
            for token in row:
                with pytest.raises(InvalidToken):
                    old.decrypt(token.encode())
        assert set(before).isdisjoint(after)
        assert (await store.get_connection("a")).qad.password.get_secret_value() == "pw-a"
        fresh = await SqlStore.open(database_url, Vault.from_settings(settings), migrate=False)
        try:
            got = await fresh.get_connection("b")
            assert got.cin7.application_key.get_secret_value() == "key-b"
        finally:
            await fresh.close()
    finally:
        await store.close()


async def test_rotation_with_an_env_key_returns_the_key_and_writes_nothing(
    database_url: str, tmp_path: Path
) -> None:
    old_key = Vault.generate_key()
    env = {"ML_CONNECTOR_HOME": str(tmp_path), "ML_CONNECTOR_MASTER_KEY": old_key}
    vault = Vault.from_settings(load_settings(env))
    store = await SqlStore.open(database_url, vault)
    try:
        await store.add_connection(make_config("a", qad_password="pw-a"))
        chosen = Vault.generate_key()
        result = await vault.rotate(store, new_key=chosen)
        assert result.key_file is None
        assert result.new_key.get_secret_value() == chosen
        assert not (tmp_path / "master.key").exists()
        operator = Vault.from_settings(load_settings({**env, "ML_CONNECTOR_MASTER_KEY": chosen}))
        reopened = await SqlStore.open(database_url, operator, migrate=False)
        try:
            assert (await reopened.get_connection("a")).qad.password.get_secret_value() == "pw-a"
        finally:
            await reopened.close()
        stale = await SqlStore.open(database_url, Vault([old_key], source="env"), migrate=False)
        try:
            with pytest.raises(ConfigError):
                await stale.get_connection("a")
        finally:
            await stale.close()
    finally:
        await store.close()


async def test_a_vault_picks_up_a_rotation_done_by_another_process(
    database_url: str, tmp_path: Path
) -> None:
    settings = load_settings({"ML_CONNECTOR_HOME": str(tmp_path)})
    worker_vault = Vault.from_settings(settings)
    admin_vault = Vault.from_settings(settings)
    admin = await SqlStore.open(database_url, admin_vault)
    worker = await SqlStore.open(database_url, worker_vault, migrate=False)
    try:
        await admin.add_connection(make_config("a", qad_password="pw-a"))
        await admin_vault.rotate(admin)
        assert (await worker.get_connection("a")).qad.password.get_secret_value() == "pw-a"
    finally:
        await worker.close()
        await admin.close()


async def test_a_vault_encrypts_with_the_key_another_process_rotated_to(
    database_url: str, tmp_path: Path
) -> None:
    settings = load_settings({"ML_CONNECTOR_HOME": str(tmp_path)})
    worker_vault = Vault.from_settings(settings)
    admin_vault = Vault.from_settings(settings)
    admin = await SqlStore.open(database_url, admin_vault)
    try:
        await admin.add_connection(make_config("a"))
        result = await admin_vault.rotate(admin)
    finally:
        await admin.close()
    token = worker_vault.encrypt("written after the rotation")
    newest = Fernet(result.new_key.get_secret_value().encode())
    assert newest.decrypt(token.encode()) == b"written after the rotation"
