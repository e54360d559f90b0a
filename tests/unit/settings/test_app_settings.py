"""Settings are read once from an injectable environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from ml_connector.errors import ConfigError
from ml_connector.settings import load_settings, normalise_database_url


def test_defaults_live_in_the_home_folder(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    settings = load_settings({})
    assert settings.home == tmp_path / ".ml-connector"
    assert settings.database_url == f"sqlite+aiosqlite:///{tmp_path}/.ml-connector/ml-connector.db"
    assert settings.master_key is None
    assert settings.key_file == tmp_path / ".ml-connector" / "master.key"


def test_environment_overrides_and_empty_values_count_as_unset(tmp_path: Path) -> None:
    settings = load_settings(
        {
            "ML_CONNECTOR_HOME": str(tmp_path),
            "ML_CONNECTOR_DATABASE_URL": "postgresql://mlc:pw@db.internal:5432/mlc",
            "ML_CONNECTOR_MASTER_KEY": "   ",
        }
    )
    assert settings.home == tmp_path
    assert settings.database_url == "postgresql+psycopg://mlc:pw@db.internal:5432/mlc"
    assert settings.master_key is None


def test_reading_os_environ_when_no_mapping_is_given(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("ML_CONNECTOR_HOME", str(tmp_path / "h"))
    monkeypatch.delenv("ML_CONNECTOR_DATABASE_URL", raising=False)
    assert load_settings().home == tmp_path / "h"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("sqlite:////data/x.db", "sqlite+aiosqlite:////data/x.db"),
        ("sqlite+aiosqlite:////data/x.db", "sqlite+aiosqlite:////data/x.db"),
        ("postgres://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
    ],
)
def test_database_urls_get_the_async_drivers(given: str, expected: str) -> None:
    assert normalise_database_url(given) == expected


@pytest.mark.parametrize(
    "url",
    [
        "mysql://u:PLANTED-SECRET-9f3b@h/db",
        "postgresql+asyncpg://u:PLANTED-SECRET-9f3b@h/db",
        "sqlite+aiosqlite://",
        "sqlite:///:memory:",
        "not a url PLANTED-SECRET-9f3b",
    ],
)
def test_unsupported_urls_are_refused_without_their_password(url: str) -> None:
    with pytest.raises(ConfigError) as caught:
        normalise_database_url(url)
    assert "PLANTED-SECRET-9f3b" not in str(caught.value)


def test_repr_hides_the_master_key_and_database_password(tmp_path: Path) -> None:
    settings = load_settings(
        {
            "ML_CONNECTOR_HOME": str(tmp_path),
            "ML_CONNECTOR_DATABASE_URL": "postgresql+psycopg://u:PLANTED-SECRET-9f3b@h/db",
            "ML_CONNECTOR_MASTER_KEY": "PLANTED-SECRET-9f3b",
        }
    )
    assert "PLANTED-SECRET-9f3b" not in repr(settings)
    assert "PLANTED-SECRET-9f3b" not in str(settings)
    assert "master_key=set" in repr(settings)
