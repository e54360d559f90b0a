"""Fixtures for the use-case tests: see tests/support/usecase_world.py."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from usecase_world import Setup, open_setup


@pytest.fixture
async def setup(database_url: str) -> AsyncIterator[Setup]:
    async with open_setup(database_url) as s:
        yield s
