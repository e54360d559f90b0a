"""The scheduler's slot: the latest fire time at or before now, from the moment a connection
became due, so one look's slot is the next look's, and a slot whose job vanished gives way to
the next fire time instead of stalling the connection."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from ml_connector.connection import ConnectionConfig
from ml_connector.jobs.scheduler import latest_slot

DUE = datetime(2026, 12, 2, 9, 15, tzinfo=UTC)  # a Wednesday


def _config(schedule: str, timezone: str = "UTC") -> ConnectionConfig:
    settings: dict[str, Any] = {
        "cin7_account_id": "acc-1",
        "cin7_application_key": "key",
        "qad_url": "https://acme.qad.example/clouderp",
        "qad_client_id": "client",
        "qad_username": "integration",
        "qad_password": "password",
        "qad_domain": "10USA",
        "qad_entity": "10USACO",
        "schedule": schedule,
        "timezone": timezone,
    }
    return ConnectionConfig.from_settings("acme", settings)


def test_an_interval_keeps_its_slot_until_a_whole_interval_has_passed() -> None:
    every = _config("every 15m")
    assert latest_slot(every, DUE, DUE) == DUE
    assert latest_slot(every, DUE, DUE + timedelta(minutes=14, seconds=59)) == DUE
    assert latest_slot(every, DUE, DUE + timedelta(minutes=15)) == DUE + timedelta(minutes=15)
    assert latest_slot(every, DUE, DUE + timedelta(hours=2, minutes=1)) == DUE + timedelta(hours=2)


def test_cron_moves_to_the_latest_fire_time_at_or_before_now() -> None:
    quarter = _config("*/15 * * * *")
    assert latest_slot(quarter, DUE, DUE + timedelta(minutes=5)) == DUE
    assert latest_slot(quarter, DUE, DUE + timedelta(minutes=31)) == DUE + timedelta(minutes=30)


def test_cron_slots_are_read_in_the_connections_time_zone() -> None:
    # 09:00 on weekdays in Berlin is 08:00 UTC in December; Thursday's follows Wednesday's.
    morning = _config("0 9 * * 1-5", "Europe/Berlin")
    wednesday = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)
    assert latest_slot(morning, wednesday, wednesday + timedelta(hours=23)) == wednesday
    thursday = latest_slot(morning, wednesday, wednesday + timedelta(days=1, minutes=1))
    assert thursday == wednesday + timedelta(days=1)
