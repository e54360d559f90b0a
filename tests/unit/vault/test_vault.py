"""The vault: master key from the environment or a 0600 key file, and key rotation."""

from __future__ import annotations

import os
import pickle
import stat
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from ml_connector.errors import ConfigError
from ml_connector.settings import load_settings
from ml_connector.vault import Vault


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_key_file_is_created_0600_in_a_0700_home(tmp_path: Path) -> None:
    home = tmp_path / "home"
    settings = load_settings({"ML_CONNECTOR_HOME": str(home)})
    vault = Vault.from_settings(settings)
    assert vault.source == "file"
    assert _mode(home) == 0o700
    assert _mode(settings.key_file) == 0o600
    token = vault.encrypt("s3cret")
    assert token != "s3cret"
    # A second process reads the same key.
    assert Vault.from_settings(settings).decrypt(token) == "s3cret"


def test_key_file_readable_by_others_is_refused(tmp_path: Path) -> None:
    settings = load_settings({"ML_CONNECTOR_HOME": str(tmp_path)})
    Vault.from_settings(settings)
    os.chmod(settings.key_file, 0o644)
    with pytest.raises(ConfigError, match="chmod 600"):
        Vault.from_settings(settings)


def test_env_key_wins_and_no_file_is_written(tmp_path: Path) -> None:
    key = Vault.generate_key()
    settings = load_settings({"ML_CONNECTOR_HOME": str(tmp_path), "ML_CONNECTOR_MASTER_KEY": key})
    vault = Vault.from_settings(settings)
    assert vault.source == "env"
    assert not settings.key_file.exists()
    assert Fernet(key.encode()).decrypt(vault.encrypt("x").encode()) == b"x"


def test_env_may_hold_old_keys_after_the_new_one(tmp_path: Path) -> None:
    old, new = Vault.generate_key(), Vault.generate_key()
    token = Vault([old], source="memory").encrypt("legacy")
    env = {"ML_CONNECTOR_HOME": str(tmp_path), "ML_CONNECTOR_MASTER_KEY": f"{new}, {old}"}
    vault = Vault.from_settings(load_settings(env))
    assert vault.decrypt(token) == "legacy"
    assert Fernet(new.encode()).decrypt(vault.encrypt("fresh").encode()) == b"fresh"


def test_a_bad_env_key_is_refused_without_echoing_it(tmp_path: Path) -> None:
    env = {"ML_CONNECTOR_HOME": str(tmp_path), "ML_CONNECTOR_MASTER_KEY": "PLANTED-SECRET-9f3b"}
    with pytest.raises(ConfigError) as caught:
        Vault.from_settings(load_settings(env))
    assert "PLANTED-SECRET-9f3b" not in str(caught.value)


def test_wrong_key_and_garbage_tokens_raise_config_error() -> None:
    token = Vault.ephemeral().encrypt("PLANTED-SECRET-9f3b")
    with pytest.raises(ConfigError) as caught:
        Vault.ephemeral().decrypt(token)
    assert token not in str(caught.value)
    with pytest.raises(ConfigError):
        Vault.ephemeral().decrypt("not a token ü")


def test_the_vault_shows_no_key_material() -> None:
    key = Vault.generate_key()
    vault = Vault([key], source="memory")
    assert key not in repr(vault)
    assert key not in str(vault)
    with pytest.raises(TypeError):
        pickle.dumps(vault)


class _FailingStore:
    """Stands in for a store whose re-encryption transaction fails (or the process dies)."""

    def __init__(self, tokens: list[str]) -> None:
        self.tokens = tokens

    async def reencrypt_secrets(self, transform: Callable[[str], str]) -> int:
        [transform(token) for token in self.tokens]
        raise ConnectionError("database went away before commit")


async def test_rotation_interrupted_before_commit_keeps_every_secret_readable(
    tmp_path: Path,
) -> None:
    settings = load_settings({"ML_CONNECTOR_HOME": str(tmp_path)})
    vault = Vault.from_settings(settings)
    tokens = [vault.encrypt("pw-1"), vault.encrypt("pw-2")]
    with pytest.raises(ConnectionError):
        await vault.rotate(_FailingStore(tokens))
    # The file now holds the new key and the old one: the untouched tokens still open.
    assert len(settings.key_file.read_text().split()) == 2
    assert _mode(settings.key_file) == 0o600
    reloaded = Vault.from_settings(settings)
    assert [reloaded.decrypt(t) for t in tokens] == ["pw-1", "pw-2"]
    assert not [name for name in os.listdir(tmp_path) if name.endswith(".tmp")]


def test_derived_keys_follow_a_key_file_rotated_by_another_process(tmp_path: Path) -> None:
    settings = load_settings({"ML_CONNECTOR_HOME": str(tmp_path)})
    vault = Vault.from_settings(settings)
    before = vault.derive(b"audit-link")
    assert vault.derive(b"audit-link") == before  # remembered: the same bytes again
    old = settings.key_file.read_text().strip()
    new = Vault.generate_key()
    # As `keys rotate` in another process leaves it: the new key first, the old one after.
    settings.key_file.write_text(f"{new}\n{old}\n")
    after = vault.derive(b"audit-link")
    assert after != before
    assert after == Vault([new], source="env").derive(b"audit-link")
    assert vault.derive(b"other") != after
