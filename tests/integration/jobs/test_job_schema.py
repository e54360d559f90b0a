"""Procrastinate's schema beside ours: created once, migrated file by file, never twice."""

from __future__ import annotations

import asyncio

import psycopg
import pytest
from job_queue import libpq

from ml_connector.errors import StoreError
from ml_connector.jobs.app import job_app
from ml_connector.jobs.defer import defer_sync
from ml_connector.jobs.schema import ensure_job_schema, shipped_migrations

pytestmark = pytest.mark.postgres


def _recorded(url: str) -> list[str]:
    with psycopg.connect(libpq(url)) as conn:
        rows = conn.execute("SELECT name FROM mlc_procrastinate_migrations ORDER BY name")
        return [row[0] for row in rows.fetchall()]


def _objects(url: str) -> set[tuple[str, str]]:
    """Tables, functions and types Procrastinate owns, by name (not their bodies)."""
    with psycopg.connect(libpq(url)) as conn:
        rows = conn.execute(
            "SELECT 'table', tablename FROM pg_tables WHERE tablename LIKE 'procrastinate%%' "
            "UNION SELECT 'function', proname FROM pg_proc WHERE proname LIKE 'procrastinate%%' "
            "UNION SELECT 'type', typname FROM pg_type WHERE typname LIKE 'procrastinate%%' "
            "AND typname NOT LIKE '\\_%%'"
        ).fetchall()
    return {(kind, name) for kind, name in rows}


async def _queue_works(url: str) -> None:
    app = job_app(url)
    async with app.open_async():
        first = await defer_sync(app, "acme")
        second = await defer_sync(app, "acme")
    assert first.outcome == "deferred"
    assert second.outcome == "waiting"


async def test_a_fresh_database_gets_the_schema_and_a_second_run_changes_nothing(
    pg_url: str,
) -> None:
    first = await ensure_job_schema(pg_url)
    assert first.created
    assert _recorded(pg_url) == sorted(name for name, _sql in shipped_migrations())
    objects = _objects(pg_url)
    assert ("table", "procrastinate_jobs") in objects

    again = await ensure_job_schema(pg_url)
    assert not again.created
    assert again.applied == ()
    assert again.describe() == "job queue schema up to date"
    assert _objects(pg_url) == objects
    await _queue_works(pg_url)


async def test_concurrent_starts_apply_it_once(pg_url: str) -> None:
    states = await asyncio.gather(*(ensure_job_schema(pg_url) for _ in range(3)))
    assert sum(state.created for state in states) == 1
    assert all(state.applied == () for state in states)


async def test_an_older_queue_gets_exactly_the_migrations_it_lacks(pg_url: str) -> None:
    # A database set up by the first Procrastinate release, as recorded by us back then.
    (first_name, first_sql), *rest = shipped_migrations()
    with psycopg.connect(libpq(pg_url), autocommit=True) as conn:
        conn.execute(first_sql.encode())
        conn.execute(
            "CREATE TABLE mlc_procrastinate_migrations "
            "(name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
        )
        conn.execute("INSERT INTO mlc_procrastinate_migrations (name) VALUES (%s)", (first_name,))

    state = await ensure_job_schema(pg_url)

    assert not state.created
    assert list(state.applied) == [name for name, _sql in rest]
    assert (await ensure_job_schema(pg_url)).applied == ()
    await _queue_works(pg_url)


async def test_a_queue_set_up_by_hand_is_not_guessed_at(pg_url: str) -> None:
    with psycopg.connect(libpq(pg_url), autocommit=True) as conn:
        conn.execute("CREATE TABLE procrastinate_jobs (id bigint)")
    with pytest.raises(StoreError, match="did not create them"):
        await ensure_job_schema(pg_url)
