"""Pure decisions on Cin7 answers: rate-limit signals, Retry-After forms, error bodies."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from ml_connector.cin7.retry import (
    Outcome,
    decide,
    error_details,
    is_rate_limit,
    retry_after_seconds,
)

LIMIT_TEXT = "You have reached 60 calls per 60 seconds API limit."
NOW = datetime(2026, 8, 28, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("status", "text", "expected"),
    [
        (429, LIMIT_TEXT, True),
        (429, "", True),
        (503, "", True),
        (503, LIMIT_TEXT, True),
        (400, f'[{{"ErrorCode":400,"Exception":"{LIMIT_TEXT}"}}]', True),
        (400, "You reached 60 calls per minute API limit", True),
        (400, '[{"ErrorCode":400,"Exception":"Required attribute ID is not provided."}]', False),
        (500, "", False),
        (200, "{}", False),
    ],
)
def test_rate_limit_signals(status: int, text: str, expected: bool) -> None:
    assert is_rate_limit(status, text) is expected


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"retry-after": "60"}, 60.0),
        ({"retry-after": "60 Seconds"}, 60.0),
        ({"retry-after": "7 seconds"}, 7.0),
        ({"retry-after": "2.5"}, 2.5),
        ({"retry-after": format_datetime(NOW + timedelta(seconds=90), usegmt=True)}, 90.0),
        ({"retry-after": format_datetime(NOW - timedelta(seconds=5), usegmt=True)}, 0.0),
        ({"x-ratelimit-reset": "12"}, 12.0),
        ({"retry-after": "soon"}, 60.0),
        ({}, 60.0),
    ],
)
def test_retry_after_forms(headers: dict[str, str], expected: float) -> None:
    assert retry_after_seconds(headers, now=NOW) == pytest.approx(expected)


def test_error_body_as_array_single_object_or_text() -> None:
    message, code, errors = error_details(
        '[{"ErrorCode":400,"Exception":"Date is required"},{"ErrorCode":400,"Exception":"Bad SKU"}]'
    )
    assert (message, code) == ("Date is required; Bad SKU", 400)
    assert [e.message for e in errors] == ["Date is required", "Bad SKU"]
    assert error_details('{"ErrorCode":404,"Exception":"Not here"}')[:2] == ("Not here", 404)
    assert error_details("Method authentication failed")[:2] == (
        "Method authentication failed",
        None,
    )
    html = "<html><body><h1>Server   Error</h1></body></html>"
    assert error_details(html)[0] == "Server Error"
    assert len(error_details("x" * 5000)[0]) == 300


@pytest.mark.parametrize(
    ("status", "text", "outcome"),
    [
        (200, '{"Total":0}', Outcome.OK),
        (204, "", Outcome.OK),
        (200, "<html><body>Dashboard</body></html>", Outcome.RETRY),
        (500, "boom", Outcome.RETRY),
        (502, "", Outcome.RETRY),
        (429, "", Outcome.RATE_LIMITED),
        (403, '[{"ErrorCode":403,"Exception":"Invalid credentials"}]', Outcome.AUTH),
        (401, "", Outcome.AUTH),
        (404, "", Outcome.NOT_FOUND),
        (400, '[{"ErrorCode":400,"Exception":"No"}]', Outcome.REJECTED),
        (405, "", Outcome.REJECTED),
    ],
)
def test_decide_classifies_every_answer(status: int, text: str, outcome: Outcome) -> None:
    decision = decide(status, text, {})
    assert decision.outcome is outcome
    assert decision.status == status


def test_decide_reads_the_json_body_and_the_announced_wait() -> None:
    assert decide(200, '{"Company":"Acme"}', {}).body == {"Company": "Acme"}
    assert decide(429, LIMIT_TEXT, {"retry-after": "17 Seconds"}).retry_after == 17.0
