"""When a connection syncs: schedules as people type them, and the one computation of the next run.

A schedule is one of two kinds:

- an **interval**, ``every 15m`` (``s``, ``m``, ``h``, ``d`` and their long names; at least a
  minute): the next sync is the last one's start plus the interval, and a connection that never
  synced is due at once (due since it was created);
- a **cron expression** of five fields, ``*/15 6-20 * * 1-5`` (minute, hour, day of month,
  month, day of week, as croniter reads them; ``@hourly``, ``@daily``, ``@weekly``,
  ``@monthly`` too), read on the wall clock of the connection's **time zone** (an IANA name,
  ``Europe/Berlin``; default ``UTC``): the next sync is the first fire time after the last
  one's start, and a connection that never synced waits for the first fire time after it was
  created. A fire time missed while nothing ran (the machine was off, the connection paused)
  is caught up once, not once per missed time.

Daylight saving time follows cron's own rule (Vixie cron, cronie): a job with ``*`` leading its
minute or hour field is periodic and follows real time, so ``*/30 * * * *`` fires every 30
minutes through both changes, twice on the repeated wall-clock hour of the autumn change and not
at all in the skipped one of the spring change (croniter moves a skipped time to the end of the
gap; a periodic job drops it instead); a job at fixed times (``30 2 * * *``) fires once a day
whatever the change: at 03:00 on the spring day, when 02:30 does not exist, and only on the
first 02:30 of the autumn day.

:func:`next_run` is the one computation of "when next": the embedded scheduler (``run``), the
Procrastinate ``scheduler`` and the reports' next run (``status``, the overview, the console)
all ask it, through :func:`ml_connector.usecases.scheduling.next_run_of` when they hold a
connection. :meth:`Schedule.overdue_at` says when ``no-sync:N`` alerts, counting intervals the
same way: for a cron schedule an interval is the gap between consecutive fire times, so the
night and the weekend of ``*/15 6-20 * * 1-5`` are one interval each.

Everything here is pure: times come in and go out timezone-aware, in UTC.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import CroniterError, croniter

from ml_connector.errors import ConfigError

__all__ = [
    "DEFAULT_TIMEZONE",
    "MINIMUM",
    "Schedule",
    "next_run",
    "parse_schedule",
    "parse_timezone",
]

MINIMUM = timedelta(minutes=1)
DEFAULT_TIMEZONE = "UTC"

_UNITS = {
    "s": 1,
    "sec": 1,
    "secs": 1,
    "second": 1,
    "seconds": 1,
    "m": 60,
    "min": 60,
    "mins": 60,
    "minute": 60,
    "minutes": 60,
    "h": 3600,
    "hr": 3600,
    "hrs": 3600,
    "hour": 3600,
    "hours": 3600,
    "d": 86400,
    "day": 86400,
    "days": 86400,
}
_EVERY = re.compile(r"^\s*every\s+(\d+)\s*([a-z]+)\s*$", re.IGNORECASE)
_MACROS = frozenset(
    {"@hourly", "@daily", "@midnight", "@weekly", "@monthly", "@yearly", "@annually"}
)
_HINT = "write it like 'every 15m', 'every 2h' or a cron expression like '*/15 6-20 * * 1-5'"
# A fixed-time job skips at most one repeated occurrence per fire time; this bounds the search.
_MAX_SKIPS = 8


@dataclass(frozen=True)
class Schedule:
    """A parsed schedule: an interval (``every``) or a cron expression (``cron``) in ``zone``.

    >>> s = parse_schedule("0 9 * * 1-5", "Europe/Berlin")
    >>> s.fire_after(datetime(2026, 1, 2, 8, 0, tzinfo=UTC))  # a Friday, 09:00 in Berlin
    datetime.datetime(2026, 1, 5, 8, 0, tzinfo=datetime.timezone.utc)
    """

    text: str
    zone: ZoneInfo
    every: timedelta | None = None
    cron: str | None = None

    def fire_after(self, moment: datetime) -> datetime:
        """The first fire time strictly after ``moment`` (for an interval: ``moment`` plus it)."""
        if self.every is not None:
            return moment + self.every
        return next(self._fires(moment))

    def fires_after(self, moment: datetime, count: int) -> list[datetime]:
        """The next ``count`` fire times strictly after ``moment``, in order."""
        if self.every is not None:
            return [moment + self.every * k for k in range(1, count + 1)]
        fires = self._fires(moment)
        return [next(fires) for _ in range(count)]

    def overdue_at(self, since: datetime, intervals: int) -> datetime:
        """When a connection last synced at ``since`` is ``intervals`` intervals late: the
        ``intervals``-th fire time after ``since`` (``since + intervals * every`` for an
        interval). ``no-sync:N`` alerts once that has passed with no success since."""
        return self.fires_after(since, intervals)[-1]

    def _fires(self, moment: datetime) -> Iterator[datetime]:
        assert self.cron is not None
        fixed = _fixed_time(self.cron)
        series = croniter(self.cron, moment.astimezone(self.zone))
        # Compared in UTC: datetimes sharing a zone compare by wall clock, blind to the fold.
        floor = moment.astimezone(UTC)
        skipped = 0
        while True:
            try:
                fire: datetime = series.get_next(datetime)
            except CroniterError as exc:  # "0 0 31 2 *": no such day
                raise ConfigError(f"schedule {self.text!r} never fires") from exc
            if (
                fire.astimezone(UTC) <= floor
                or (fixed and _repeated(fire, self.zone))
                or (not fixed and not croniter.match(self.cron, fire.replace(tzinfo=None)))
            ):
                skipped += 1
                if skipped > _MAX_SKIPS:
                    raise ConfigError(f"schedule {self.text!r} never fires")
                continue
            skipped = 0
            floor = fire.astimezone(UTC)  # two skipped times moved to one 03:00 fire once
            yield floor


def parse_timezone(name: str) -> ZoneInfo:
    """The zone of an IANA name (``Europe/Berlin``); ConfigError naming the setting otherwise.

    >>> parse_timezone("Europe/Berlin")
    zoneinfo.ZoneInfo(key='Europe/Berlin')
    """
    try:
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"time zone {name!r} unknown; use an IANA name like 'Europe/Berlin' or 'UTC'"
        ) from None


def parse_schedule(text: str, timezone: str = DEFAULT_TIMEZONE) -> Schedule:
    """The schedule ``text`` means in ``timezone``; ConfigError naming what is wrong.

    >>> parse_schedule("every 15m").every
    datetime.timedelta(seconds=900)
    >>> parse_schedule("*/15 6-20 * * 1-5", "Europe/Berlin").cron
    '*/15 6-20 * * 1-5'
    """
    zone = parse_timezone(timezone)
    match = _EVERY.match(text)
    if match is not None:
        unit = _UNITS.get(match.group(2).lower())
        if unit is None:
            raise ConfigError(f"schedule {text!r} not understood; {_HINT}")
        interval = timedelta(seconds=int(match.group(1)) * unit)
        if interval < MINIMUM:
            raise ConfigError(f"schedule {text!r} is too frequent; the shortest is every 1m")
        return Schedule(text, zone, every=interval)
    expression = " ".join(text.split())
    shape_ok = len(expression.split(" ")) == 5 or expression.lower() in _MACROS
    if not shape_ok or not croniter.is_valid(expression):
        raise ConfigError(f"schedule {text!r} not understood; {_HINT}")
    schedule = Schedule(text, zone, cron=expression.lower())
    schedule.fire_after(datetime(2026, 1, 1, tzinfo=UTC))  # refuses "0 0 31 2 *"
    return schedule


def next_run(
    schedule: str | None,
    timezone: str,
    last_start: datetime | None,
    now: datetime,
    *,
    paused: bool = False,
    created: datetime | None = None,
) -> datetime | None:
    """When a connection should next sync; None when it has no schedule or is paused. Pure.

    ``last_start`` is when its last sync started (None: never); ``created`` when the connection
    was added, the anchor of a schedule that never ran: an interval is due from then, a cron
    at its first fire time after it (None: ``now``, to the minute, for cron). A result at or
    before ``now`` means "due now"; it does not move while nothing runs, so a job scheduler can
    key a deferred job by it. ConfigError when the schedule or zone is not understood.

    >>> t = datetime(2026, 1, 1, 12, 7, tzinfo=UTC)
    >>> next_run("every 15m", "UTC", t, t)
    datetime.datetime(2026, 1, 1, 12, 22, tzinfo=datetime.timezone.utc)
    >>> next_run("*/15 * * * *", "UTC", t, t)
    datetime.datetime(2026, 1, 1, 12, 15, tzinfo=datetime.timezone.utc)
    >>> next_run("*/15 * * * *", "UTC", t, t, paused=True) is None
    True
    """
    if not schedule or paused:
        return None
    parsed = parse_schedule(schedule, timezone)
    if last_start is not None:
        return parsed.fire_after(last_start)
    if parsed.every is not None:
        return min(created, now) if created is not None else now
    anchor = created or now.replace(second=0, microsecond=0) - timedelta(microseconds=1)
    return parsed.fire_after(anchor)


def _fixed_time(expression: str) -> bool:
    """Whether neither the minute nor the hour field starts with ``*`` (cron's periodic jobs)."""
    if expression.startswith("@"):
        return expression != "@hourly"
    minute, hour = expression.split(" ")[:2]
    return not (minute.startswith("*") or hour.startswith("*"))


def _repeated(fire: datetime, zone: ZoneInfo) -> bool:
    """Whether ``fire`` is the second occurrence of a wall-clock time the autumn change repeats."""
    wall = fire.replace(tzinfo=None)
    first = wall.replace(tzinfo=zone, fold=0).utcoffset()
    second = wall.replace(tzinfo=zone, fold=1).utcoffset()
    if first is None or second is None:
        return False
    return first > second and fire.utcoffset() == second
