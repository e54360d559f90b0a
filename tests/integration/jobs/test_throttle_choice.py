"""Where the database is PostgreSQL, the engine's clients get the throttles every worker
shares; on SQLite, this process's."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from store_helpers import make_config

from ml_connector.cin7.pacer import LocalPacer, key_fingerprint
from ml_connector.jobs.pacer import SharedPacer
from ml_connector.jobs.slots import SharedInFlight
from ml_connector.qad.inflight import LocalInFlight
from ml_connector.qad.profile import QadProfile
from ml_connector.store import SqlStore
from ml_connector.testing import MemoryStore
from ml_connector.usecases.remotes import Remotes, open_engine
from ml_connector.usecases.throttles import cin7_pacer, qad_in_flight
from ml_connector.vault import Vault


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[SqlStore]:
    opened = await SqlStore.open(database_url, Vault.ephemeral())
    try:
        yield opened
    finally:
        await opened.close()


async def test_the_store_picks_the_throttles(store: SqlStore) -> None:
    config = make_config(cin7_rate_limit="30")
    config = await store.add_connection(
        config.model_copy(update={"qad": config.qad.model_copy(update={"profile": _profile(5)})})
    )
    pacer = cin7_pacer(store, config)
    bound = qad_in_flight(store, config)
    assert pacer.limit == 30
    assert bound.size == 5
    if store.dialect == "postgresql":
        assert isinstance(pacer, SharedPacer)
        assert isinstance(bound, SharedInFlight)
    else:
        assert isinstance(pacer, LocalPacer)
        assert isinstance(bound, LocalInFlight)
    async with open_engine(store, config, actor="test", remotes=Remotes()) as engine:
        assert engine.cin7 is not None
        assert type(engine.cin7.pacer) is type(pacer)


def test_a_store_no_other_process_can_open_keeps_the_local_throttles() -> None:
    config = make_config()
    assert isinstance(cin7_pacer(MemoryStore(), config), LocalPacer)
    assert isinstance(qad_in_flight(MemoryStore(), config), LocalInFlight)
    assert key_fingerprint("app-key-0001") not in repr(qad_in_flight(MemoryStore(), config))


def _profile(in_flight: int) -> QadProfile:
    return QadProfile.model_validate({"name": "tight", "limits": {"in_flight": in_flight}})
