"""Shared fixtures; PostgreSQL tests run when ML_CONNECTOR_TEST_POSTGRES_URL is set (CI sets it).

Tiers: every test lives under one tier folder (unit, integration, e2e, browser; see
tests/support/tiers.py), whose conftest marks it; a test outside them fails collection.

PostgreSQL: one fresh database ``mlc_test_<random>`` per session, created through the database
named in ML_CONNECTOR_TEST_POSTGRES_URL and dropped afterwards; each test using `database_url`
starts from an empty ``public`` schema, so runs on a shared server never collide.

Event loop: async tests run on asyncio's loop; ``--event-loop uvloop`` runs them (and their async
fixtures) on uvloop, the loop the connector's own processes run on (`ml_connector.eventloop`):
``pytest --event-loop uvloop tests/integration/qad/test_wire.py tests/integration/store``. The CLI
tests run on uvloop either way, as the command line does.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url
from tiers import TIERS


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--event-loop",
        choices=("asyncio", "uvloop"),
        default="asyncio",
        help="the event loop async tests run on (default: asyncio)",
    )


class _OnUvloop:
    """pytest-asyncio's loop hook: every async test and fixture on a uvloop loop."""

    @staticmethod
    def pytest_asyncio_loop_factories(
        config: pytest.Config, item: pytest.Item
    ) -> Mapping[str, Callable[[], asyncio.AbstractEventLoop]]:
        import uvloop

        return {"uvloop": uvloop.new_event_loop}


def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("--event-loop") == "uvloop":
        config.pluginmanager.register(_OnUvloop(), "ml-connector-on-uvloop")


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    untiered = sorted({item.nodeid.split("::")[0] for item in items if not _tiers(item)})
    if untiered:
        raise pytest.UsageError(
            f"tests outside a tier folder ({', '.join(f'tests/{t}/' for t in TIERS)}): "
            + ", ".join(untiered)
        )
    if os.environ.get("ML_CONNECTOR_TEST_POSTGRES_URL"):
        return
    if os.environ.get("CI"):
        raise pytest.UsageError(
            "CI must set ML_CONNECTOR_TEST_POSTGRES_URL: PostgreSQL tests may not skip"
        )
    skip = pytest.mark.skip(reason="ML_CONNECTOR_TEST_POSTGRES_URL not set")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


def _tiers(item: pytest.Item) -> list[str]:
    return [tier for tier in TIERS if item.get_closest_marker(tier)]


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
