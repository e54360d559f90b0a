"""Procrastinate's tables beside ours: its schema, then its migrations, each applied once.

Procrastinate ships the whole current schema (``schema.sql``) and one SQL file per change since
its first release (``sql/migrations/*.sql``, named so that sorting them orders them). A fresh
database gets the schema and every shipped migration is recorded as applied, since the schema
already contains them; a database that has it gets each shipped migration it has not recorded,
in order, each in its own transaction with its record. The record is our table
``mlc_procrastinate_migrations`` (one row per file name); Procrastinate keeps no version of its
own. A second run therefore changes nothing, and upgrading the ``procrastinate`` package applies
exactly the files it brought.

Several processes may start at once (``db upgrade``, workers, the scheduler): they serialise on
one advisory lock. A database that holds Procrastinate's tables without our record of them was
set up by hand; rather than guess which migrations it has, :func:`ensure_job_schema` stops with
a :class:`~ml_connector.errors.StoreError` saying so.

PostgreSQL only: Procrastinate does not run on SQLite, where ``ml-connector run`` is the
scheduler. Alembic owns our own tables (:mod:`ml_connector.store.db`); these are not in its
metadata.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import psycopg
from procrastinate.schema import SchemaManager
from sqlalchemy.engine import make_url

from ml_connector.errors import ConfigError, StoreError
from ml_connector.settings import normalise_database_url, safe_url

__all__ = ["JobSchemaState", "ensure_job_schema", "libpq_url", "shipped_migrations"]

RECORD_TABLE = "mlc_procrastinate_migrations"
_CREATE_RECORD = (
    "CREATE TABLE IF NOT EXISTS mlc_procrastinate_migrations ("
    " name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
)
_SELECT_RECORDED = "SELECT name FROM mlc_procrastinate_migrations"
_IS_RECORDED = "SELECT 1 FROM mlc_procrastinate_migrations WHERE name = %s"
_INSERT_RECORD = (
    "INSERT INTO mlc_procrastinate_migrations (name) VALUES (%s) ON CONFLICT DO NOTHING"
)
# Arbitrary constant, distinct from the Alembic migrators' lock.
_SCHEMA_LOCK = 7_311_204_519


@dataclass(frozen=True)
class JobSchemaState:
    """What one run did: ``created`` the schema, applied these migration files (in order)."""

    created: bool
    applied: tuple[str, ...]
    known: int

    def describe(self) -> str:
        if self.created:
            return f"job queue schema created ({self.known} Procrastinate migrations recorded)"
        if self.applied:
            return f"job queue: applied {', '.join(self.applied)}"
        return "job queue schema up to date"


def libpq_url(database_url: str) -> str:
    """The libpq form (``postgresql://…``) of a PostgreSQL store URL; ConfigError otherwise."""
    parsed = make_url(normalise_database_url(database_url))
    if parsed.get_backend_name() != "postgresql":
        raise ConfigError(
            f"{safe_url(database_url)} is not PostgreSQL: job workers and the job scheduler need "
            "ML_CONNECTOR_DATABASE_URL=postgresql+psycopg://…; on SQLite use `ml-connector run`"
        )
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


def shipped_migrations() -> list[tuple[str, str]]:
    """(file name, SQL) of every migration the installed Procrastinate ships, in order."""
    folder = Path(SchemaManager.get_migrations_path())
    return [(p.name, p.read_text(encoding="utf-8")) for p in sorted(folder.glob("*.sql"))]


async def ensure_job_schema(database_url: str) -> JobSchemaState:
    """Apply Procrastinate's schema or its missing migrations to the database; idempotent."""
    url = libpq_url(database_url)
    shipped = shipped_migrations()
    try:
        async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
            async with conn.transaction():
                await conn.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))
                await conn.execute(_CREATE_RECORD)
                rows = await (await conn.execute(_SELECT_RECORDED)).fetchall()
                done = {str(row[0]) for row in rows}
                present = await (
                    await conn.execute("SELECT to_regclass('procrastinate_jobs') IS NOT NULL")
                ).fetchone()
                if not done:
                    if present and present[0]:
                        raise StoreError(
                            "Procrastinate's tables are in this database but ml-connector did not "
                            f"create them (no rows in {RECORD_TABLE}); drop them or record the "
                            "migrations they hold before running `db upgrade`"
                        )
                    await conn.execute(_schema_sql())
                    await _record(conn, [name for name, _sql in shipped])
                    return JobSchemaState(True, (), len(shipped))
            applied: list[str] = []
            for name, sql in shipped:
                if name in done:
                    continue
                async with conn.transaction():
                    await conn.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))
                    if await _recorded(conn, name):
                        continue  # another process applied it meanwhile
                    await conn.execute(sql.encode())
                    await _record(conn, [name])
                applied.append(name)
            return JobSchemaState(False, tuple(applied), len(shipped))
    except psycopg.Error as exc:
        cause = " ".join(str(exc).split()) or type(exc).__name__
        raise StoreError(f"job queue schema on {safe_url(database_url)} failed: {cause}") from None


def _schema_sql() -> bytes:
    # Bytes, and no parameters: psycopg then sends the script as it is (no % placeholders).
    return (resources.files("procrastinate.sql") / "schema.sql").read_bytes()


async def _record(conn: psycopg.AsyncConnection[tuple[object, ...]], names: list[str]) -> None:
    async with conn.cursor() as cur:
        await cur.executemany(
            _INSERT_RECORD,
            [(name,) for name in names],
        )


async def _recorded(conn: psycopg.AsyncConnection[tuple[object, ...]], name: str) -> bool:
    row = await (await conn.execute(_IS_RECORDED, (name,))).fetchone()
    return row is not None
