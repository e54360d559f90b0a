"""The CLI on PostgreSQL (`ML_CONNECTOR_DATABASE_URL`): the same commands, the same answers."""

from __future__ import annotations

import psycopg
import pytest
from cli_helpers import Cli, Sandboxes
from sqlalchemy.engine import make_url


@pytest.fixture
def postgres_url(postgres_database: str) -> str:
    """The session's PostgreSQL test database with an empty ``public`` schema."""
    libpq = make_url(postgres_database).set(drivername="postgresql")
    with psycopg.connect(libpq.render_as_string(hide_password=False), autocommit=True) as conn:
        conn.execute("DROP SCHEMA public CASCADE")
        conn.execute("CREATE SCHEMA public")
    return postgres_database


@pytest.mark.postgres
def test_flow_on_postgres(cli: Cli, sandboxes: Sandboxes, postgres_url: str) -> None:
    cli.env["ML_CONNECTOR_DATABASE_URL"] = postgres_url
    cli.ok("db", "upgrade")
    cli.ok("connection", "add", *sandboxes.add_args("acme"))
    cli.ok("mapping", "suggest", "acme", "--apply")
    synced = cli.json("sync", "acme", expect=1)
    assert synced["counters"]["purchase_orders"] == sandboxes.qad_counts()["purchase_orders"] > 0
    # of the 40 purchases, drafts and voids never posted are not fetched: no record
    assert synced["counters"]["not_fetched"] > 0
    records = cli.json("records", "acme", "--limit", "0")["records"]
    assert len(records) == 40 - synced["counters"]["not_fetched"]
    assert cli.json("holds", "acme")["holds"]
    assert cli.json("reconcile", "acme")["totals"]
    assert cli.json("audit", "verify", "acme")["intact"] is True

    cli.ok("mapping", "set", "acme", "item", "MTR-0.75KW", "WID-100")
    cli.ok("mapping", "set", "acme", "location", "Production Floor", "10-300")
    replayed = cli.json("replay", "acme", "--blocked")
    assert replayed["counters"]["blocked"] == 0
    cli.ok("keys", "rotate")
    assert cli("connection", "test", "acme").exit_code == 0
    assert not cli.database.exists()  # nothing went to the SQLite default
