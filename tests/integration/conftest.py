"""Integration tier: clients against the sandboxes (HTTP or ASGI), the store on SQLite and
PostgreSQL, the CLI. Every test beneath this folder is marked `integration`."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from tiers import mark_tier


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    mark_tier(items, Path(__file__).parent)


@pytest.fixture
def no_httpx_models(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Records every `httpx.Request` and `httpx.Response` built while the test runs."""
    built: list[str] = []
    for model in (httpx.Request, httpx.Response):
        original = model.__init__

        def counting(self: object, *args: object, _init=original, **kwargs: object) -> None:  # type: ignore[no-untyped-def]
            built.append(type(self).__name__)
            _init(self, *args, **kwargs)

        monkeypatch.setattr(model, "__init__", counting)
    return built
