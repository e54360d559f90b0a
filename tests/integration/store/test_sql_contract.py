"""The store contract on :class:`ml_connector.store.SqlStore`: a SQLite file and, when
configured, PostgreSQL (the `store` fixture in conftest.py)."""

from __future__ import annotations

import pytest
from store_contract import StoreContract
from store_helpers import Backdoor, SqlBackdoor

from ml_connector.store import SqlStore


@pytest.fixture
def backdoor(store: SqlStore) -> Backdoor:
    return SqlBackdoor(store)


class TestSqlStore(StoreContract):
    pass
