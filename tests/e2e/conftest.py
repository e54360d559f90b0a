"""End-to-end fixtures: both sandboxes over real HTTP, a store on SQLite or PostgreSQL, one
connection with the suggested mappings applied, and the use cases between them (the same ones
the CLI runs, so the engine is built the way it is built in production). Every test beneath
this folder is marked `e2e`."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from e2e_world import World
from sandbox_config import sandbox_config
from tiers import mark_tier

from ml_connector.qad.profile import BUILT_IN
from ml_connector.sandbox.cin7 import Cin7Sandbox, create_cin7_sandbox
from ml_connector.sandbox.qad import QadSandbox, create_qad_sandbox
from ml_connector.serve import ServerThread
from ml_connector.store.sql import SqlStore
from ml_connector.vault import Vault


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    mark_tier(items, Path(__file__).parent)
    # The QAD profile and the database are independent: the mixed profile runs on SQLite only,
    # which keeps the e2e tier's time in check without losing a combination that matters.
    both = [item for item in items if _params(item).get("qad_profile") == "mixed"]
    dropped = [item for item in both if _params(item).get("database_url") == "postgres"]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = [item for item in items if item not in dropped]


def _params(item: pytest.Item) -> dict[str, object]:
    callspec = getattr(item, "callspec", None)
    return dict(callspec.params) if callspec is not None else {}


@pytest.fixture
def qad_profile(request: pytest.FixtureRequest) -> str:
    """The connection's QAD profile: `rest`, or what a module parametrizes (`mixed`)."""
    return str(getattr(request, "param", "rest"))


@pytest.fixture
def sandboxes() -> Iterator[tuple[Cin7Sandbox, QadSandbox, str, str]]:
    cin7 = create_cin7_sandbox(seed=11, suppliers=6, purchases=0, rate_limit=100_000)
    qad = create_qad_sandbox(seed=11)
    with ServerThread(cin7.app) as cin7_server, ServerThread(qad.app) as qad_server:
        yield cin7, qad, cin7_server.url, qad.base_url(qad_server.url, "acme")


@pytest.fixture
async def world(
    sandboxes: tuple[Cin7Sandbox, QadSandbox, str, str], database_url: str, qad_profile: str
) -> AsyncIterator[World]:
    cin7, qad, cin7_url, qad_url = sandboxes
    store = await SqlStore.open(database_url, Vault.ephemeral())
    config = await store.add_connection(
        sandbox_config(
            "acme",
            cin7,
            qad,
            cin7_url=cin7_url,
            qad_url=qad_url,
            qad_profile=BUILT_IN[qad_profile],
        )
    )
    w = World(cin7, qad, cin7_url, qad_url, store, config)
    await w.apply_suggestions()
    try:
        yield w
    finally:
        await store.close()
