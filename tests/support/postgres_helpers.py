"""PostgreSQL helpers for tests that need the shared database itself (throttles, workers)."""

from __future__ import annotations

import psycopg
from sqlalchemy.engine import make_url

from ml_connector.store import upgrade


def empty_public_schema(url: str) -> str:
    """Drop and recreate ``public`` in the database at ``url``; returns ``url``."""
    libpq = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(libpq, autocommit=True) as conn:
        conn.execute("DROP SCHEMA public CASCADE")
        conn.execute("CREATE SCHEMA public")
    return url


async def migrated(url: str) -> str:
    """An empty ``public`` schema with every migration applied; returns ``url``."""
    empty_public_schema(url)
    await upgrade(url)
    return url
