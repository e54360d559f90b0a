"""`status`: the next run on the connection's own wall clock, and UTC kept in the JSON."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from rich.console import Console

from ml_connector.cli import views
from ml_connector.usecases.overview import ConnectionOverview
from ml_connector.web.views import overview_doc

NOW = datetime(2026, 1, 12, 4, 0, tzinfo=UTC)
NEXT = datetime(2026, 1, 12, 5, 0, tzinfo=UTC)  # 06:00 in Berlin, 00:00 in New York


def _line(name: str, timezone: str, next_run_at: datetime | None = NEXT) -> ConnectionOverview:
    return ConnectionOverview(
        name=name,
        health="ok",
        health_message=None,
        schedule="0 6 * * *",
        timezone=timezone,
        paused=False,
        last_run=None,
        last_success_at=None,
        next_run_at=next_run_at,
        next_run_note="0 6 * * *",
        counts={},
        cin7_calls_last_hour=0,
        cin7_budget_per_hour=3600,
        oldest_hold_since=None,
    )


def _status_text(*lines: ConnectionOverview) -> str:
    doc = {"now": NOW.isoformat(), "connections": [overview_doc(x, NOW) for x in lines]}
    console = Console(width=400, record=True)
    console.print(views.status_table(doc))
    return console.export_text()


def test_status_shows_the_next_run_in_each_connections_zone() -> None:
    text = _status_text(_line("berlin", "Europe/Berlin"), _line("newyork", "America/New_York"))

    berlin = next(row for row in text.splitlines() if "berlin" in row)
    newyork = next(row for row in text.splitlines() if "newyork" in row)
    assert "2026-01-12 06:00:00 CET (UTC+01:00)" in berlin
    assert "2026-01-12 00:00:00 EST (UTC-05:00)" in newyork
    assert "05:00:00" not in berlin + newyork


def test_status_json_keeps_utc_and_adds_the_local_time_with_its_offset() -> None:
    doc = overview_doc(_line("berlin", "Europe/Berlin"), NOW)

    assert doc["next_run_at"] == "2026-01-12T05:00:00+00:00"
    assert doc["next_run_local"] == "2026-01-12T06:00:00+01:00"
    assert datetime.fromisoformat(doc["next_run_local"]) == NEXT
    assert doc["timezone"] == "Europe/Berlin"


def test_a_due_or_unscheduled_connection_has_no_local_time() -> None:
    due = _status_text(_line("late", "Europe/Berlin", NOW - timedelta(minutes=1)))
    assert "due now" in due
    assert overview_doc(_line("manual", "Europe/Berlin", None), NOW)["next_run_local"] is None
