"""Application settings, read once from the environment at the edge and passed down.

    ML_CONNECTOR_HOME           data folder (default ``~/.ml-connector``)
    ML_CONNECTOR_DATABASE_URL   store URL (default SQLite ``<home>/ml-connector.db``)
    ML_CONNECTOR_MASTER_KEY     Fernet key(s) for credentials; else ``<home>/master.key``

Nothing here reads ``os.environ`` at import time: call :func:`load_settings` in the CLI, the web
app factory or a job runner, and hand the :class:`AppSettings` to whatever needs it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from pydantic import SecretStr
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from ml_connector.errors import ConfigError

__all__ = [
    "DATABASE_FILE",
    "KEY_FILE",
    "AppSettings",
    "ensure_home",
    "load_settings",
    "normalise_database_url",
    "safe_url",
]

HOME_ENV = "ML_CONNECTOR_HOME"
DATABASE_URL_ENV = "ML_CONNECTOR_DATABASE_URL"
MASTER_KEY_ENV = "ML_CONNECTOR_MASTER_KEY"

DATABASE_FILE = "ml-connector.db"
KEY_FILE = "master.key"

_DRIVERS = {
    "sqlite": "sqlite+aiosqlite",
    "sqlite+aiosqlite": "sqlite+aiosqlite",
    "postgres": "postgresql+psycopg",
    "postgresql": "postgresql+psycopg",
    "postgresql+psycopg": "postgresql+psycopg",
}


@dataclass(frozen=True, repr=False)
class AppSettings:
    """Where ml-connector keeps its data and how it unlocks credentials.

    ``master_key`` is ``None`` when the key lives in :attr:`key_file` instead of the environment.
    The repr hides the master key and any password inside the database URL.
    """

    home: Path
    database_url: str
    master_key: SecretStr | None = None

    @property
    def key_file(self) -> Path:
        """The key file used when ``ML_CONNECTOR_MASTER_KEY`` is not set."""
        return self.home / KEY_FILE

    def __repr__(self) -> str:
        key = "set" if self.master_key is not None else "from key file"
        return (
            f"AppSettings(home={str(self.home)!r}, database_url={safe_url(self.database_url)!r}, "
            f"master_key={key})"
        )

    __str__ = __repr__


def load_settings(environ: Mapping[str, str] | None = None) -> AppSettings:
    """Read the settings from ``environ`` (``os.environ`` when omitted).

    Empty variables count as unset. ``postgresql://`` and ``sqlite:///`` URLs are given the async
    drivers ml-connector uses (psycopg 3, aiosqlite); any other database is refused with a
    :class:`~ml_connector.errors.ConfigError`.

    >>> load_settings({"ML_CONNECTOR_HOME": "/srv/mlc"}).database_url
    'sqlite+aiosqlite:////srv/mlc/ml-connector.db'
    """
    env = os.environ if environ is None else environ
    raw_home = env.get(HOME_ENV, "").strip()
    home = Path(raw_home or "~/.ml-connector").expanduser().absolute()
    raw_url = env.get(DATABASE_URL_ENV, "").strip()
    url = (
        normalise_database_url(raw_url)
        if raw_url
        else f"sqlite+aiosqlite:///{home / DATABASE_FILE}"
    )
    raw_key = env.get(MASTER_KEY_ENV, "").strip()
    return AppSettings(
        home=home, database_url=url, master_key=SecretStr(raw_key) if raw_key else None
    )


def normalise_database_url(url: str) -> str:
    """Return ``url`` with the async driver ml-connector uses, or raise ConfigError."""
    parsed = _parse(url)
    driver = _DRIVERS.get(parsed.drivername)
    if driver is None:
        raise ConfigError(
            f"unsupported database URL {safe_url(url)!r}: use sqlite+aiosqlite:///<file> "
            "or postgresql+psycopg://user@host/db"
        )
    if driver.startswith("sqlite") and parsed.database in (None, "", ":memory:"):
        raise ConfigError(
            "an in-memory SQLite database cannot hold ml-connector's state; use a file"
        )
    return parsed.set(drivername=driver).render_as_string(hide_password=False)


def safe_url(url: str | URL) -> str:
    """The URL with its password masked, for messages and reprs."""
    try:
        parsed = url if isinstance(url, URL) else make_url(url)
    except ArgumentError:
        return "<unparseable URL>"
    return parsed.render_as_string(hide_password=True)


def ensure_home(home: Path) -> Path:
    """Create the data folder (mode 0700) if it does not exist yet; return it."""
    home.mkdir(mode=0o700, parents=True, exist_ok=True)
    return home


def _parse(url: str) -> URL:
    try:
        return make_url(url)
    except ArgumentError:
        raise ConfigError(f"cannot parse database URL {safe_url(url)!r}") from None
