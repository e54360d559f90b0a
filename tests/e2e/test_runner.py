"""The embedded scheduler syncs each connection when its schedule says (an interval, or cron in
the connection's zone), and skips sick and paused ones."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from e2e_world import World

from ml_connector.runner import Turn, look_once
from ml_connector.usecases import set_paused
from ml_connector.vocab import CONNECTION_TRAIL

T0 = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


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


async def test_a_paused_connection_is_skipped_until_resumed_and_both_are_in_its_trail(
    world: World,
) -> None:
    await world.change(schedule="every 15m")
    paused = await set_paused(world.store, "acme", True, actor="cli:ada")
    assert (paused.paused, paused.changed) == (True, True)
    again = await set_paused(world.store, "acme", True, actor="cli:ada")
    assert again.changed is False  # nothing recorded twice

    turns: list[Turn] = []
    assert await look_once(world.store, on_turn=turns.append) is None
    assert [(t.action, t.detail) for t in turns] == [
        ("skipped", "paused: `connection resume acme`")
    ]
    assert await world.store.list_runs(world.cid, kind="sync") == []

    await set_paused(world.store, "acme", False, actor="cli:bob")
    turns.clear()
    await look_once(world.store, on_turn=turns.append)
    assert turns[0].action == "synced"
    trail = await world.store.trail(world.cid, CONNECTION_TRAIL)
    assert [(e.event, e.actor) for e in trail] == [("paused", "cli:ada"), ("resumed", "cli:bob")]
    assert trail[0].data["schedule"] == "every 15m"
    assert await world.store.verify(world.cid) == []


async def test_a_cron_schedule_waits_for_its_fire_time_in_the_connection_zone(
    world: World,
) -> None:
    await world.change(schedule="0 0 1 1 *", timezone="Europe/Berlin")  # New Year, Berlin
    turns: list[Turn] = []
    now = datetime.now(UTC)
    soonest = await look_once(world.store, on_turn=turns.append)
    new_year = datetime(now.year + 1, 1, 1, tzinfo=ZoneInfo("Europe/Berlin"))
    assert turns[0].action == "waiting"
    assert soonest == new_year

    turns.clear()
    after = lambda: new_year + timedelta(seconds=30)  # noqa: E731
    soonest = await look_once(world.store, now=after, on_turn=turns.append)
    assert turns[0].action == "synced"
    assert soonest == datetime(now.year + 2, 1, 1, tzinfo=ZoneInfo("Europe/Berlin"))
