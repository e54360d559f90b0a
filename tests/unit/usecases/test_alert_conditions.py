"""Alert conditions as typed on the command line, and when `no-sync:N` counts as late."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ml_connector.errors import ConfigError
from ml_connector.usecases.alerts import Notice, no_sync_state, parse_conditions

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


def test_conditions_are_parsed_normalised_and_deduplicated() -> None:
    assert parse_conditions(" failed, Credentials,no-sync:03,hold:5,audit,failed ") == (
        "failed",
        "credentials",
        "no-sync:3",
        "hold:5",
        "audit",
    )


@pytest.mark.parametrize("text", ["", "failed:2", "hold", "hold:0", "no-sync:x", "late"])
def test_unknown_or_malformed_conditions_are_refused(text: str) -> None:
    with pytest.raises(ConfigError):
        parse_conditions(text)


def test_no_sync_counts_schedule_intervals_from_the_last_success() -> None:
    last = NOW - timedelta(minutes=44)
    assert no_sync_state("every 15m", last, None, 3, NOW)[0] is False
    late, detail = no_sync_state("every 15m", NOW - timedelta(minutes=46), None, 3, NOW)
    assert late is True
    assert "no successful sync for 3 intervals" in detail


def test_no_sync_from_creation_and_without_a_schedule() -> None:
    created = NOW - timedelta(hours=5)
    assert no_sync_state("every 1h", None, created, 3, NOW)[0] is True
    assert no_sync_state(None, None, created, 3, NOW) == (False, "no schedule")


def test_a_notice_is_slack_compatible_json() -> None:
    doc = Notice("acme", "hold:5", "resolved", "no hold older than 5 days").as_json()
    assert doc["text"] == "[RESOLVED] ml-connector acme: hold:5 — no hold older than 5 days"
    assert doc["state"] == "resolved"
