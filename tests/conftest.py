"""Shared fixtures; PostgreSQL tests run when ML_CONNECTOR_TEST_POSTGRES_URL is set (CI sets it)."""

from __future__ import annotations

import os

import pytest


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
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
