"""Store fixtures: every contract test runs on a SQLite file and, when configured, PostgreSQL.

PostgreSQL: one fresh database ``mlc_test_<random>`` per session, created through the database
named in ML_CONNECTOR_TEST_POSTGRES_URL and dropped afterwards; each test starts from an empty
``public`` schema, so runs on a shared server never collide.
"""

from __future__ import annotations

import os
import secrets
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

from ml_connector.store import Store
from ml_connector.vault import Vault

# --import-mode=importlib: make the shared builders (`store_helpers`) importable.
if str(Path(__file__).parent) not in sys.path:
    sys.path.insert(0, str(Path(__file__).parent))

from store_helpers import make_config


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    base = os.environ["ML_CONNECTOR_TEST_POSTGRES_URL"]
    name = f"mlc_test_{secrets.token_hex(6)}"
    with psycopg.connect(_libpq(base), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(base).set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(_libpq(base), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database on each back-end."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'store.db'}"
    url: str = request.getfixturevalue("postgres_database")
    with psycopg.connect(_libpq(url), autocommit=True) as conn:
        conn.execute("DROP SCHEMA public CASCADE")
        conn.execute("CREATE SCHEMA public")
    return url


@pytest.fixture
def vault() -> Vault:
    return Vault.ephemeral()


@pytest.fixture
async def store(database_url: str, vault: Vault) -> AsyncIterator[Store]:
    opened = await Store.open(database_url, vault)
    try:
        yield opened
    finally:
        await opened.close()


@pytest.fixture
async def cid(store: Store) -> int:
    """The id of a freshly added connection named ``acme``."""
    added = await store.add_connection(make_config("acme"))
    assert added.id is not None
    return added.id
