"""Test tiers by folder: each tier's conftest marks every test collected beneath it.

`unit` (tests/unit) needs no database, server, socket, subprocess or real sleep and is the inner
loop (`pytest -m unit`); `integration` (tests/integration) drives clients against the sandboxes
over HTTP or ASGI, the store on SQLite and PostgreSQL, and the CLI; `e2e` (tests/e2e) runs whole
flows and crash tests; `browser` (tests/browser) drives the web console in a real browser.
tests/conftest.py refuses a test that lies outside every tier folder.
"""

from __future__ import annotations

from pathlib import Path

import pytest

TIERS = ("unit", "integration", "e2e", "browser")


def mark_tier(items: list[pytest.Item], folder: Path) -> None:
    """Add the marker named after `folder` to every item collected beneath it."""
    marker = getattr(pytest.mark, folder.name)
    for item in items:
        if item.path.is_relative_to(folder):
            item.add_marker(marker)
