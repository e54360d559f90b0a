"""Migrations build the schema the code expects, on both back-ends."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from ml_connector.store import SqlStore, create_engine, current_revision, head_revision, upgrade
from ml_connector.store.db import HEAD_REVISION, alembic_config
from ml_connector.store.tables import metadata


async def _diff(url: str) -> list[object]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(
                lambda sync: compare_metadata(
                    MigrationContext.configure(sync, opts={"compare_type": True}), metadata
                )
            )
    finally:
        await engine.dispose()


async def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            return set(await conn.run_sync(lambda sync: inspect(sync).get_table_names()))
    finally:
        await engine.dispose()


async def test_migrations_build_every_table_on_an_empty_database(database_url: str) -> None:
    assert await current_revision(database_url) is None
    assert await _tables(database_url) == set()

    await upgrade(database_url)

    assert await current_revision(database_url) == head_revision()
    assert await _tables(database_url) == set(metadata.tables) | {"alembic_version"}


async def test_alembic_head_matches_the_sqlalchemy_metadata(database_url: str) -> None:
    await upgrade(database_url)
    assert await _diff(database_url) == []


async def test_upgrade_is_idempotent_and_safe_to_run_concurrently(database_url: str) -> None:
    await asyncio.gather(upgrade(database_url), upgrade(database_url), upgrade(database_url))
    await upgrade(database_url)
    assert await current_revision(database_url) == head_revision()
    assert await _diff(database_url) == []


async def test_downgrade_to_base_removes_everything(database_url: str) -> None:
    await upgrade(database_url)
    engine = create_engine(database_url)
    try:
        async with engine.begin() as conn:

            def down(sync: object) -> None:
                cfg = alembic_config()
                cfg.attributes["connection"] = sync
                command.downgrade(cfg, "base")

            await conn.run_sync(down)
    finally:
        await engine.dispose()
    assert await _tables(database_url) == {"alembic_version"}
    await upgrade(database_url)
    assert await _diff(database_url) == []


async def test_open_applies_migrations_unless_told_not_to(database_url: str) -> None:
    store = await SqlStore.open(database_url, migrate=False)
    await store.close()
    assert await current_revision(database_url) is None
    store = await SqlStore.open(database_url)
    await store.close()
    assert await current_revision(database_url) == head_revision()


def test_the_head_revision_constant_is_alembics_head() -> None:
    assert head_revision() == HEAD_REVISION


async def test_a_database_part_way_up_is_brought_to_the_head(database_url: str) -> None:
    await upgrade(database_url, "0005_keyed_audit")
    assert await current_revision(database_url) == "0005_keyed_audit"
    await upgrade(database_url)
    assert await current_revision(database_url) == HEAD_REVISION
    assert await _diff(database_url) == []


def test_a_store_at_the_head_opens_without_loading_alembic(tmp_path: Path) -> None:
    """Each start of a process opens the store: at the head it needs no Alembic at all."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'store.db'}"
    probe = (
        "import asyncio, sys\n"
        "from ml_connector.store import SqlStore\n"
        "async def main():\n"
        f"    store = await SqlStore.open({url!r})\n"
        "    await store.close()\n"
        "asyncio.run(main())\n"
        "print('alembic' in sys.modules)\n"
    )

    def alembic_loaded() -> str:
        run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
        assert run.returncode == 0, run.stderr
        return run.stdout.strip()

    assert alembic_loaded() == "True"  # a new file: migrated
    assert alembic_loaded() == "False"  # at the head: opened as it is


async def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path: object) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/nested/folder/store.db"
    store = await SqlStore.open(url)
    try:
        async with store.engine.connect() as conn:
            assert (await conn.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
            assert (await conn.execute(text("PRAGMA foreign_keys"))).scalar() == 1
    finally:
        await store.close()


async def test_a_new_sqlite_file_is_in_wal_mode_before_any_connection(tmp_path: object) -> None:
    # Several migrators opening a fresh file at once must not race to switch it to WAL (SQLite
    # may answer that switch with "database is locked" without waiting): the engine does it first.
    path = f"{tmp_path}/fresh.db"
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    try:
        connection = sqlite3.connect(path)
        try:
            assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        finally:
            connection.close()
    finally:
        await engine.dispose()
