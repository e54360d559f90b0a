"""The embedded scheduler syncs each connection when its schedule says, and skips sick ones."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from e2e_world import World

from ml_connector.errors import ConfigError
from ml_connector.runner import Turn, look_once, next_due

T0 = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


def test_next_due_follows_the_last_sync() -> None:
    assert next_due(None, T0, T0) is None
    assert next_due("every 15m", None, T0) == T0
    assert next_due("every 2h", T0, T0 + timedelta(minutes=5)) == T0 + timedelta(hours=2)
    with pytest.raises(ConfigError):
        next_due("hourly-ish", T0, T0)


async def test_scheduler_syncs_when_due_waits_otherwise_and_skips_unhealthy(
    world: World,
) -> None:
    world.cin7.state.create_purchase("STOCK", [{"sku": "BOX-S", "quantity": 3}])
    turns: list[Turn] = []
    await look_once(world.store, on_turn=turns.append)
    assert [(t.name, t.action) for t in turns] == [("acme", "skipped")]  # no schedule yet

    config = world.config.with_settings({"schedule": "every 15m"})
    world.config = await world.store.update_connection(config)
    turns.clear()
    soonest = await look_once(world.store, on_turn=turns.append)
    assert turns[0].action == "synced"
    assert turns[0].report is not None
    assert turns[0].report.counters.purchase_orders == 1
    assert soonest is not None
    assert timedelta(minutes=14) < soonest - datetime.now(UTC) <= timedelta(minutes=15)

    turns.clear()
    await look_once(world.store, on_turn=turns.append)
    assert turns[0].action == "waiting"

    await world.store.set_health(world.cid, False, "QAD refused the password")
    turns.clear()
    later = lambda: datetime.now(UTC) + timedelta(hours=1)  # noqa: E731
    await look_once(world.store, now=later, on_turn=turns.append)
    assert turns[0].action == "skipped"
    assert "unhealthy" in turns[0].detail
