"""Properties of the next-run computation over zones with daylight saving (whole-hour and
Lord Howe's half-hour change), for periodic and fixed-time cron schedules, tried mostly within
a day and a half of the zone's own changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise

from hypothesis import given, settings
from hypothesis import strategies as st

from ml_connector.schedule import parse_schedule

# Each zone's changes of 2026, in UTC.
CHANGES = {
    "Europe/Berlin": [datetime(2026, 3, 29, 1, 0), datetime(2026, 10, 25, 1, 0)],
    "America/New_York": [datetime(2026, 3, 8, 7, 0), datetime(2026, 11, 1, 6, 0)],
    "Australia/Lord_Howe": [datetime(2026, 4, 4, 15, 0), datetime(2026, 10, 3, 15, 30)],
    "Asia/Kolkata": [datetime(2026, 6, 1)],
    "UTC": [datetime(2026, 6, 1)],
}
PERIODIC = ["*/15 * * * *", "*/15 6-20 * * 1-5", "0 * * * *", "*/20 1-3 * * *"]
FIXED = ["30 2 * * *", "30 1 * * *", "15,45 1-3 * * *", "0 9 * * mon-fri", "@daily"]


@st.composite
def zone_and_moment(draw: st.DrawFn) -> tuple[str, datetime]:
    zone = draw(st.sampled_from(sorted(CHANGES)))
    change = draw(st.sampled_from(CHANGES[zone]))
    if draw(st.integers(0, 4)):
        moment = change + timedelta(minutes=draw(st.integers(-36 * 60, 36 * 60)))
    else:
        moment = draw(st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 1, 1)))
    return zone, moment.replace(tzinfo=UTC)


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(PERIODIC + FIXED), zone_and_moment(), st.floats(0, 1))
def test_the_next_fire_is_later_and_nothing_fires_in_between(
    text: str, where: tuple[str, datetime], share: float
) -> None:
    zone, moment = where
    schedule = parse_schedule(text, zone)
    fire = schedule.fire_after(moment)
    assert fire > moment
    assert fire.tzinfo == UTC
    # From any instant up to it, the next fire is the same one: none was skipped in between.
    between = moment + (fire - moment) * share
    if between < fire:
        assert schedule.fire_after(between) == fire


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(FIXED), zone_and_moment())
def test_a_fixed_time_fires_at_most_once_per_wall_clock_time_and_day(
    text: str, where: tuple[str, datetime]
) -> None:
    zone, moment = where
    schedule = parse_schedule(text, zone)
    fires = schedule.fires_after(moment, 8)
    assert all(a < b for a, b in pairwise(fires))
    walls = [f.astimezone(schedule.zone).strftime("%Y-%m-%d %H:%M") for f in fires]
    assert len(set(walls)) == len(walls)


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(PERIODIC), zone_and_moment())
def test_a_periodic_schedule_keeps_real_time_within_its_hours(
    text: str, where: tuple[str, datetime]
) -> None:
    zone, moment = where
    schedule = parse_schedule(text, zone)
    fires = schedule.fires_after(moment, 8)
    step = timedelta(minutes=60 if text.startswith("0 ") else int(text[2:4]))
    # Lord Howe's half-hour change moves minute 0 of the hour by half an hour in real time.
    exact = {"*/15 * * * *"} if zone == "Australia/Lord_Howe" else {"*/15 * * * *", "0 * * * *"}
    for a, b in pairwise(fires):
        assert b - a >= step  # never closer than its step...
        if text in exact:
            assert b - a == step  # ...and exactly it when every hour counts
