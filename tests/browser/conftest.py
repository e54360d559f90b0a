"""Browser tier: the web console driven in a real browser. Every test beneath this folder is
marked `browser`."""

from __future__ import annotations

from pathlib import Path

import pytest
from tiers import mark_tier


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    mark_tier(items, Path(__file__).parent)
