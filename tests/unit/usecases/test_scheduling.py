"""The scheduler's turn on a fake clock and the memory store: cron in the connection's zone,
pause and resume, and a next run that stays put while nothing runs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ml_connector.errors import ConnectionPaused
from ml_connector.store.models import ConnectionConfig
from ml_connector.testing import FakeClock, MemoryStore
from ml_connector.usecases.passes import sync_connection
from ml_connector.usecases.scheduling import (
    in_zone,
    next_run_of,
    scheduler_turn,
    set_paused,
    zoned_text,
)
from ml_connector.vocab import CONNECTION_TRAIL

SATURDAY = datetime(2026, 1, 10, 15, 0, tzinfo=UTC)
MONDAY_6_BERLIN = datetime(2026, 1, 12, 5, 0, tzinfo=UTC)
SUMMER = datetime(2026, 7, 1, 5, 0, tzinfo=UTC)


async def _store(schedule: str, timezone: str = "UTC") -> tuple[FakeClock, MemoryStore]:
    clock = FakeClock(0, epoch=SATURDAY)
    store = MemoryStore(clock=clock.utcnow)
    await store.add_connection(
        ConnectionConfig.from_settings(
            "acme",
            {
                "cin7_account_id": "acc-1",
                "cin7_application_key": "key",
                "qad_url": "https://qad.invalid/clouderp",
                "qad_client_id": "0" * 32,
                "qad_username": "integration",
                "qad_password": "not-used",
                "qad_domain": "10USA",
                "qad_entity": "10USACO",
                "schedule": schedule,
                "timezone": timezone,
            },
        )
    )
    return clock, store


async def test_a_cron_connection_waits_for_its_first_fire_in_its_zone() -> None:
    clock, store = await _store("*/15 6-20 * * 1-5", "Europe/Berlin")
    for hours in (0, 20, 17):  # Saturday 16:00, Sunday 12:00, Monday 05:00 in Berlin
        clock.advance(hours * 3600)
        config = await store.get_connection("acme")
        turn, due = await scheduler_turn(store, config, clock.utcnow())
        assert (turn.action, due) == ("waiting", MONDAY_6_BERLIN)
        assert turn.detail == "next sync at 2026-01-12 06:00:00 CET (UTC+01:00)"


async def test_a_new_interval_connection_is_due_since_it_was_created() -> None:
    clock, store = await _store("every 15m")
    config = await store.get_connection("acme")
    clock.advance(600)
    assert next_run_of(config, None, clock.utcnow()) == SATURDAY
    clock.advance(6000)
    assert next_run_of(config, None, clock.utcnow()) == SATURDAY  # the same slot: it waits


async def test_pause_skips_the_turn_records_once_and_resume_brings_the_schedule_back() -> None:
    clock, store = await _store("0 9 * * *", "Europe/Berlin")
    paused = await set_paused(store, "acme", True, actor="cli:ada")
    assert (paused.paused, paused.changed) == (True, True)
    assert (await set_paused(store, "acme", True, actor="cli:ada")).changed is False

    config = await store.get_connection("acme")
    assert config.sync.paused is True
    assert next_run_of(config, None, clock.utcnow()) is None
    turn, due = await scheduler_turn(store, config, clock.utcnow())
    assert (turn.action, turn.detail, due) == ("skipped", "paused: `connection resume acme`", None)

    clock.advance(3 * 86400)  # three fire times missed while paused
    resumed = await set_paused(store, "acme", False, actor="cli:bob")
    sunday_9 = datetime(2026, 1, 11, 8, 0, tzinfo=UTC)
    assert next_run_of(resumed.config, None, clock.utcnow()) == sunday_9  # caught up once
    assert resumed.config.sync.schedule == "0 9 * * *"

    cid = resumed.config.id
    assert cid is not None
    trail = await store.trail(cid, CONNECTION_TRAIL)
    assert [(e.event, e.actor, e.at) for e in trail] == [
        ("paused", "cli:ada", SATURDAY),
        ("resumed", "cli:bob", SATURDAY + timedelta(days=3)),
    ]
    assert trail[1].data == {"schedule": "0 9 * * *", "timezone": "Europe/Berlin"}
    assert await store.verify(cid) == []


async def test_a_pause_after_the_look_read_the_connection_still_stops_its_pass() -> None:
    clock, store = await _store("every 15m")
    stale = await store.get_connection("acme")  # read by a look (or a job deferred) before...
    await set_paused(store, "acme", True, actor="cli:ada")  # ...the pause
    turn, due = await scheduler_turn(store, stale, clock.utcnow())
    assert (turn.action, turn.detail, due) == ("skipped", "paused: `connection resume acme`", None)
    assert stale.id is not None
    assert await store.list_runs(stale.id) == []
    with pytest.raises(ConnectionPaused, match="connection acme is paused"):
        await sync_connection(store, "acme", actor="worker", scheduled=True)


@pytest.mark.parametrize(
    ("moment", "zone", "text"),
    [
        (MONDAY_6_BERLIN, "Europe/Berlin", "2026-01-12 06:00:00 CET (UTC+01:00)"),
        (SUMMER, "Europe/Berlin", "2026-07-01 07:00:00 CEST (UTC+02:00)"),
        (MONDAY_6_BERLIN, "America/New_York", "2026-01-12 00:00:00 EST (UTC-05:00)"),
        (MONDAY_6_BERLIN, "Asia/Kolkata", "2026-01-12 10:30:00 IST (UTC+05:30)"),
        (MONDAY_6_BERLIN, "America/Sao_Paulo", "2026-01-12 02:00:00 UTC-03:00"),
        (MONDAY_6_BERLIN, "UTC", "2026-01-12 05:00:00 UTC"),
        (MONDAY_6_BERLIN, "Europe/London", "2026-01-12 05:00:00 GMT"),
        (MONDAY_6_BERLIN, "Mars/Olympus", "2026-01-12 05:00:00 UTC"),
    ],
)
def test_a_moment_reads_in_the_connections_zone_with_its_name_and_offset(
    moment: datetime, zone: str, text: str
) -> None:
    assert zoned_text(moment, zone) == text


def test_in_zone_keeps_the_instant_and_carries_the_offset() -> None:
    local = in_zone(MONDAY_6_BERLIN, "Europe/Berlin")
    assert local == MONDAY_6_BERLIN
    assert local.isoformat() == "2026-01-12T06:00:00+01:00"
