"""Cron schedules in Europe/Berlin across both daylight-saving changes of 2026.

Spring: on 29 March 02:00 CET becomes 03:00 CEST (02:00-02:59 do not exist). Autumn: on
25 October 03:00 CEST becomes 02:00 CET (02:00-02:59 happen twice). Cron's rule (cronie,
Vixie cron): periodic jobs (``*`` leading the minute or hour field) follow real time; jobs at
fixed times run once a day, at 03:00 when their time was skipped.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise

from ml_connector.schedule import parse_schedule, parse_timezone
from ml_connector.usecases.alerts import no_sync_state

BERLIN = "Europe/Berlin"


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def local(times: list[datetime]) -> list[str]:
    zone = parse_timezone(BERLIN)
    return [t.astimezone(zone).strftime("%d %H:%M%z") for t in times]


def test_a_periodic_job_keeps_real_time_through_spring_forward() -> None:
    fires = parse_schedule("*/30 * * * *", BERLIN).fires_after(utc(2026, 3, 28, 23, 50), 5)
    assert local(fires) == [
        "29 01:00+0100",
        "29 01:30+0100",
        "29 03:00+0200",
        "29 03:30+0200",
        "29 04:00+0200",
    ]
    assert {b - a for a, b in pairwise(fires)} == {timedelta(minutes=30)}


def test_a_periodic_job_drops_times_a_half_hour_change_skips() -> None:
    # Lord Howe springs from 02:00 to 02:30 (UTC+10:30 to +11) on 4 October: 02:00 and 02:20
    # do not exist, and a periodic job does not make up for them at 02:30.
    fires = parse_schedule("*/20 1-3 * * *", "Australia/Lord_Howe").fires_after(
        utc(2026, 10, 3, 15, 0), 3
    )
    assert fires == [utc(2026, 10, 3, 15, 10), utc(2026, 10, 3, 15, 40), utc(2026, 10, 3, 16)]


def test_a_fixed_time_in_the_skipped_hour_fires_once_at_three() -> None:
    fires = parse_schedule("30 2 * * *", BERLIN).fires_after(utc(2026, 3, 28, 12, 0), 3)
    assert local(fires) == ["29 03:00+0200", "30 02:30+0200", "31 02:30+0200"]
    several = parse_schedule("15,45 2 * * *", BERLIN).fires_after(utc(2026, 3, 28, 12, 0), 3)
    assert local(several) == ["29 03:00+0200", "30 02:15+0200", "30 02:45+0200"]


def test_a_fixed_time_keeps_its_wall_clock_across_both_changes() -> None:
    spring = parse_schedule("0 9 * * *", BERLIN).fires_after(utc(2026, 3, 27, 12, 0), 3)
    assert [f.strftime("%d %H:%M") for f in spring] == ["28 08:00", "29 07:00", "30 07:00"]
    autumn = parse_schedule("0 9 * * *", BERLIN).fires_after(utc(2026, 10, 24, 12, 0), 2)
    assert [f.strftime("%d %H:%M") for f in autumn] == ["25 08:00", "26 08:00"]


def test_a_periodic_job_fires_in_both_repeated_hours_of_fall_back() -> None:
    fires = parse_schedule("*/30 * * * *", BERLIN).fires_after(utc(2026, 10, 24, 23, 10), 5)
    assert local(fires) == [
        "25 01:30+0200",
        "25 02:00+0200",
        "25 02:30+0200",
        "25 02:00+0100",
        "25 02:30+0100",
    ]
    assert {b - a for a, b in pairwise(fires)} == {timedelta(minutes=30)}


def test_a_fixed_time_in_the_repeated_hour_fires_once() -> None:
    fires = parse_schedule("30 2 * * *", BERLIN).fires_after(utc(2026, 10, 24, 12, 0), 3)
    assert local(fires) == ["25 02:30+0200", "26 02:30+0100", "27 02:30+0100"]
    # Even when the last start was the first 02:30: the second one is not a new fire.
    first = fires[0]
    assert parse_schedule("30 2 * * *", BERLIN).fire_after(first) == fires[1]


def test_no_sync_counts_cron_intervals_as_gaps_between_fire_times() -> None:
    # Weekdays 06:00-20:45 every 15 min: the last success was Friday's 20:45 pass, so the
    # weekend is one interval and three intervals late is Monday 06:30 Berlin (05:30 UTC).
    friday = utc(2026, 1, 9, 19, 45, 20)
    cron = "*/15 6-20 * * 1-5"
    assert no_sync_state(cron, friday, None, 3, utc(2026, 1, 11, 23), timezone=BERLIN)[0] is False
    assert no_sync_state(cron, friday, None, 3, utc(2026, 1, 12, 5, 29), timezone=BERLIN)[0] is (
        False
    )
    late, detail = no_sync_state(cron, friday, None, 3, utc(2026, 1, 12, 5, 31), timezone=BERLIN)
    assert late is True
    assert "no successful sync for 3 intervals (*/15 6-20 * * 1-5)" in detail


def test_no_sync_across_fall_back_counts_real_hours() -> None:
    # Hourly; the last success at 01:10 CEST. Two intervals: 02:00 CEST, then 02:00 CET, an
    # hour of real time later (01:00 UTC), not 03:00 on the wall clock (02:00 UTC).
    since = utc(2026, 10, 24, 23, 10)
    assert parse_schedule("0 * * * *", BERLIN).overdue_at(since, 2) == utc(2026, 10, 25, 1, 0)
    assert no_sync_state("0 * * * *", since, None, 2, utc(2026, 10, 25, 1, 1), timezone=BERLIN)[0]
    # Daily at 02:30: once a day across the change, so one interval is a day plus an hour.
    daily = parse_schedule("30 2 * * *", BERLIN).overdue_at(utc(2026, 10, 24, 1, 0), 2)
    assert daily == utc(2026, 10, 26, 1, 30)


def test_no_sync_across_spring_forward_uses_the_moved_fire() -> None:
    since = utc(2026, 3, 28, 1, 40)  # the 02:30 CET pass on the 28th, done
    assert parse_schedule("30 2 * * *", BERLIN).overdue_at(since, 1) == utc(2026, 3, 29, 1, 0)


def test_paused_connections_are_never_late() -> None:
    since = utc(2026, 1, 1)
    assert no_sync_state("every 15m", since, None, 3, utc(2026, 2, 1), paused=True) == (
        False,
        "paused",
    )
