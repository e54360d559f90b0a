"""Schedules as typed in `connection add --schedule`, and the one computation of the next run."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ml_connector.errors import ConfigError
from ml_connector.schedule import next_run, parse_schedule, parse_timezone

T0 = datetime(2026, 1, 7, 12, 7, tzinfo=UTC)  # a Wednesday


@pytest.mark.parametrize(
    ("text", "interval"),
    [
        ("every 15m", timedelta(minutes=15)),
        ("every 2 hours", timedelta(hours=2)),
        ("Every 1d", timedelta(days=1)),
        ("every 90 seconds", timedelta(seconds=90)),
        (" every 1 min ", timedelta(minutes=1)),
    ],
)
def test_intervals_understood(text: str, interval: timedelta) -> None:
    parsed = parse_schedule(text)
    assert (parsed.every, parsed.cron) == (interval, None)


@pytest.mark.parametrize(
    ("text", "cron"),
    [
        ("*/15 6-20 * * 1-5", "*/15 6-20 * * 1-5"),
        ("  0   9 * * mon-fri ", "0 9 * * mon-fri"),
        ("@hourly", "@hourly"),
        ("@Daily", "@daily"),
    ],
)
def test_cron_understood(text: str, cron: str) -> None:
    assert parse_schedule(text, "Europe/Berlin").cron == cron


@pytest.mark.parametrize(
    "text",
    [
        "hourly",
        "every m",
        "every 15 fortnights",
        "15m",
        "every -5m",
        "* * * *",
        "*/15 6-20 * * 1-5 *",  # croniter's seconds field: finer than a minute
        "61 * * * *",
        "0 0 * * 8",
        "@reboot",
    ],
)
def test_refused_with_both_forms_shown(text: str) -> None:
    with pytest.raises(ConfigError, match=r"schedule .* not understood.*every 15m.*\*/15 6-20"):
        parse_schedule(text)


def test_too_frequent() -> None:
    with pytest.raises(ConfigError, match="too frequent"):
        parse_schedule("every 30s")


def test_a_cron_that_never_fires_is_refused() -> None:
    with pytest.raises(ConfigError, match="never fires"):
        parse_schedule("0 0 31 2 *")


@pytest.mark.parametrize("zone", ["Mars/Olympus", "", "../etc/passwd", "Europe/"])
def test_unknown_time_zones_are_refused_by_name(zone: str) -> None:
    with pytest.raises(ConfigError, match=r"time zone .* unknown.*Europe/Berlin"):
        parse_timezone(zone)
    with pytest.raises(ConfigError, match="time zone"):
        parse_schedule("every 15m", zone)


def test_no_schedule_or_paused_has_no_next_run() -> None:
    assert next_run(None, "UTC", T0, T0) is None
    assert next_run("", "UTC", None, T0) is None
    assert next_run("every 15m", "UTC", T0, T0, paused=True) is None
    assert next_run("*/15 * * * *", "Europe/Berlin", None, T0, paused=True) is None


def test_an_interval_counts_from_the_last_start_and_a_new_connection_is_due_at_once() -> None:
    assert next_run("every 15m", "UTC", None, T0) == T0
    assert next_run("every 2h", "UTC", T0, T0 + timedelta(minutes=5)) == T0 + timedelta(hours=2)
    # An interval ignores the zone: it is elapsed time.
    assert next_run("every 2h", "Asia/Kolkata", T0, T0) == T0 + timedelta(hours=2)


def test_cron_fires_after_the_last_start_on_the_zone_wall_clock() -> None:
    assert next_run("*/15 * * * *", "UTC", T0, T0) == datetime(2026, 1, 7, 12, 15, tzinfo=UTC)
    # 09:00 on weekdays in Berlin (CET, UTC+1) is 08:00 UTC; the last one started Wednesday.
    wed_9 = datetime(2026, 1, 7, 8, 0, 4, tzinfo=UTC)
    thu_9 = datetime(2026, 1, 8, 8, 0, tzinfo=UTC)
    assert next_run("0 9 * * 1-5", "Europe/Berlin", wed_9, wed_9) == thu_9
    # Same text, New York (UTC-5): five hours later.
    assert next_run("0 9 * * 1-5", "America/New_York", wed_9, wed_9) == datetime(
        2026, 1, 7, 14, 0, tzinfo=UTC
    )


def test_a_missed_cron_fire_is_caught_up_once() -> None:
    last = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
    now = last + timedelta(days=2, hours=5)  # the machine was off for two days
    due = next_run("0 9 * * *", "Europe/Berlin", last, now)
    assert due == datetime(2026, 1, 6, 8, 0, tzinfo=UTC)
    assert due is not None
    assert due <= now  # due now: one sync, not one per missed day


def test_a_cron_that_never_ran_waits_for_the_first_fire_after_creation() -> None:
    created = datetime(2026, 1, 10, 15, 0, tzinfo=UTC)  # a Saturday
    monday_6 = datetime(2026, 1, 12, 5, 0, tzinfo=UTC)  # 06:00 in Berlin
    for now in (created, created + timedelta(hours=20), monday_6 - timedelta(seconds=1)):
        assert next_run("*/15 6-20 * * 1-5", "Europe/Berlin", None, now, created=created) == (
            monday_6
        )
    # Without a creation time, the fire time of the current minute still counts as due.
    at_fire = datetime(2026, 1, 12, 5, 0, 30, tzinfo=UTC)
    assert next_run("*/15 6-20 * * 1-5", "Europe/Berlin", None, at_fire) == monday_6


def test_cron_runs_driven_on_a_fake_clock_follow_the_calendar() -> None:
    """The loop `run` and the scheduler drive: look, sync when due (the start becomes the
    last start), sleep until the next is due. A week of ``*/15 6-20 * * 1-5`` in Berlin."""
    from ml_connector.testing import FakeClock

    clock = FakeClock(0, epoch=datetime(2026, 1, 9, 18, 0, tzinfo=UTC))  # Friday 19:00 Berlin
    created, last = clock.utcnow(), None
    starts: list[datetime] = []
    while clock.utcnow() < datetime(2026, 1, 13, tzinfo=UTC):
        now = clock.utcnow()
        due = next_run("*/15 6-20 * * 1-5", "Europe/Berlin", last, now, created=created)
        assert due is not None
        if due <= now:
            starts.append(now)
            last = now
            clock.advance(7)  # the pass takes a few seconds
            continue
        clock.advance((due - now).total_seconds())
    berlin = parse_timezone("Europe/Berlin")
    local = [s.astimezone(berlin) for s in starts]
    assert [f"{t:%a %H:%M}" for t in local[:8]] == [
        "Fri 19:15",
        "Fri 19:30",
        "Fri 19:45",
        "Fri 20:00",
        "Fri 20:15",
        "Fri 20:30",
        "Fri 20:45",
        "Mon 06:00",
    ]
    assert sum(1 for t in local if t.strftime("%a") == "Mon") == 15 * 4  # 06:00..20:45
    assert all(t.strftime("%a") not in {"Sat", "Sun"} for t in local)
