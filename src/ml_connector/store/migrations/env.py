"""Alembic environment for the ml-connector store.

Normally ml_connector.store.db.upgrade() hands in an open connection (``config.attributes``), so
migrations run inside the caller's transaction and event loop. Run from the alembic command line,
it opens its own async engine from ML_CONNECTOR_DATABASE_URL or ``sqlalchemy.url``.
"""

from __future__ import annotations

import asyncio
import os
from logging.config import fileConfig

from alembic import context
from sqlalchemy.engine import Connection

from ml_connector.settings import load_settings
from ml_connector.store.tables import metadata

config = context.config
target_metadata = metadata


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_online() -> None:
    from ml_connector.store.db import create_engine

    url = config.get_main_option("sqlalchemy.url") or load_settings(os.environ).database_url
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(_configure)
    finally:
        await engine.dispose()


def _run_offline() -> None:
    url = config.get_main_option("sqlalchemy.url") or load_settings(os.environ).database_url
    context.configure(url=url, target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


_given = config.attributes.get("connection")
if _given is not None:
    _configure(_given)
else:
    if config.config_file_name is not None:
        fileConfig(config.config_file_name, disable_existing_loggers=False)
    if context.is_offline_mode():
        _run_offline()
    else:
        asyncio.run(_run_online())
