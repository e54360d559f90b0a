"""Schedules as typed in `connection add --schedule`."""

from __future__ import annotations

from datetime import timedelta

import pytest

from ml_connector.errors import ConfigError
from ml_connector.schedule import parse_schedule


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
def test_understood(text: str, interval: timedelta) -> None:
    assert parse_schedule(text) == interval


@pytest.mark.parametrize("text", ["hourly", "every m", "every 15 fortnights", "15m", "every -5m"])
def test_refused(text: str) -> None:
    with pytest.raises(ConfigError, match="every 15m"):
        parse_schedule(text)


def test_too_frequent() -> None:
    with pytest.raises(ConfigError, match="too frequent"):
        parse_schedule("every 30s")
