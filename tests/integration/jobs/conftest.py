"""Fixtures for the throttles shared by workers: a migrated PostgreSQL database per test."""

from __future__ import annotations

import pytest
from postgres_helpers import migrated


@pytest.fixture
async def pg_url(postgres_database: str) -> str:
    """The session's PostgreSQL test database, emptied and migrated to the head."""
    return await migrated(postgres_database)
