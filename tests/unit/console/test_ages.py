"""One wording for an age, shared by the command line and the console."""

from __future__ import annotations

import pytest

from ml_connector.ages import format_age


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [
        (-5, "0s"),
        (0, "0s"),
        (45.9, "45s"),
        (60, "1m"),
        (12 * 60 + 59, "12m"),
        (3 * 3600 + 20 * 60 + 7, "3h 20m"),
        (86400, "1d 0h"),
        (2 * 86400 + 4 * 3600 + 59 * 60, "2d 4h"),
    ],
)
def test_an_age_shows_its_two_largest_units(seconds: float, shown: str) -> None:
    assert format_age(seconds) == shown
