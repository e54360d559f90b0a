"""Connection schedules as people type them: ``every 15m``, ``every 2 hours``, ``every 1d``."""

from __future__ import annotations

import re
from datetime import timedelta

from ml_connector.errors import ConfigError

__all__ = ["MINIMUM", "parse_schedule"]

MINIMUM = timedelta(minutes=1)

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
_PATTERN = re.compile(r"^\s*every\s+(\d+)\s*([a-z]+)\s*$", re.IGNORECASE)


def parse_schedule(text: str) -> timedelta:
    """The interval of ``every <n><unit>``; ConfigError for anything else or under a minute.

    >>> parse_schedule("every 15m")
    datetime.timedelta(seconds=900)
    """
    match = _PATTERN.match(text)
    unit = _UNITS.get(match.group(2).lower()) if match else None
    if match is None or unit is None:
        raise ConfigError(
            f"schedule {text!r} not understood; write it like 'every 15m', 'every 2h' or 'every 1d'"
        )
    interval = timedelta(seconds=int(match.group(1)) * unit)
    if interval < MINIMUM:
        raise ConfigError(f"schedule {text!r} is too frequent; the shortest is every 1m")
    return interval
