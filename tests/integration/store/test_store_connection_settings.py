"""How a connection's typed settings are kept: settings with a column of their own in it, the
others (sync options, the tenant profile) as JSON by flat name where they differ from their
defaults, so a changed default reaches every connection that never chose otherwise."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from store_helpers import make_config, raw

from ml_connector.errors import ConfigError
from ml_connector.qad.profile import BUILT_IN
from ml_connector.store import Store


def _options(value: object) -> object:
    return json.loads(value) if isinstance(value, str) else value


async def test_options_hold_only_what_differs_from_the_defaults(store: Store) -> None:
    await store.add_connection(
        make_config(
            "acme",
            schedule="every 15m",
            cin7_rate_limit=120,
            over_receipt_pct="2.5",
            qad_profile=BUILT_IN["qxtend"],
            cin7_timeout=30.0,  # the default: not stored
        )
    )
    [(options, schedule, daybook)] = await raw(
        store, "SELECT options, schedule, qad_daybook FROM connections"
    )
    assert schedule == "every 15m"
    assert daybook == "SUPINV"
    stored = _options(options)
    assert isinstance(stored, dict)
    assert set(stored) == {"cin7_rate_limit", "over_receipt_pct", "qad_profile"}
    assert stored["over_receipt_pct"] == "2.5"
    assert stored["qad_profile"]["name"] == "qxtend"

    back = await store.get_connection("acme")
    assert back.sync.cin7_rate_limit == 120
    assert back.sync.over_receipt_pct == Decimal("2.5")
    assert back.qad.profile == BUILT_IN["qxtend"]


async def test_rows_written_before_typed_settings_still_read(store: Store, cid: int) -> None:
    await raw(
        store,
        "UPDATE connections SET options = :options, qad_daybook = NULL WHERE id = :id",
        options=json.dumps({"cin7_rate_limit": 100000, "create_missing_items": True}),
        id=cid,
    )
    config = await store.get_connection("acme")
    assert config.sync.cin7_rate_limit == 100000
    assert config.sync.create_missing_items is True
    assert config.qad.daybook == "SUPINV"


async def test_a_stored_setting_this_version_does_not_know_is_a_clear_error(
    store: Store, cid: int
) -> None:
    await raw(
        store,
        "UPDATE connections SET options = :options WHERE id = :id",
        options=json.dumps({"cin7_rate_limit": "lots"}),
        id=cid,
    )
    with pytest.raises(ConfigError, match="'acme' has stored settings refused: cin7_rate_limit"):
        await store.get_connection("acme")
