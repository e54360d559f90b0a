"""What to do with one Cin7 answer: pure decisions, no I/O (the client acts on them).

Reference §2 and §4: a rate limit arrives as a 429, a 503, or a 400 whose body speaks of
"calls per 60 seconds"; `Retry-After` reads `60 Seconds` as often as `60`. Errors come back as
a JSON array of `{ErrorCode, Exception}`, a single such object, or plain text; a wrong path can
answer 200 with an HTML page.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from enum import Enum
from typing import Any

from ml_connector.errors import FieldError
from ml_connector.json_codec import loads

DEFAULT_RETRY_AFTER = 60.0
_MAX_TEXT = 300

_RATE_TEXT = re.compile(r"calls\s+per\s+(60\s+seconds|minute)", re.IGNORECASE)
_LEADING_NUMBER = re.compile(r"^\s*(\d+(?:\.\d+)?)")


class Outcome(Enum):
    OK = "ok"
    RATE_LIMITED = "rate_limited"  # wait Retry-After, then send the same request again
    RETRY = "retry"  # transient: back off and send again, up to the retry budget
    AUTH = "auth"  # credentials refused: never retried
    NOT_FOUND = "not_found"
    REJECTED = "rejected"  # Cin7 refused this request (validation, business rule)


@dataclass(frozen=True)
class Decision:
    outcome: Outcome
    status: int | None = None
    body: Any = None  # the parsed JSON when OK
    message: str = ""
    code: str | int | None = None
    errors: list[FieldError] = field(default_factory=list)
    retry_after: float = 0.0


def is_rate_limit(status: int, text: str) -> bool:
    """429, 503, or a 400 that says "calls per 60 seconds" (reference §2)."""
    if status in (429, 503):
        return True
    return status == 400 and bool(_RATE_TEXT.search(text))


def retry_after_seconds(headers: Mapping[str, str], *, now: datetime | None = None) -> float:
    """Seconds the server asked us to wait: `60`, `60 Seconds`, an HTTP date, else 60.

    Falls back to `x-ratelimit-reset` when `Retry-After` is absent. The announced value is
    authoritative; callers never wait less than it.
    """
    for name in ("retry-after", "x-ratelimit-reset"):
        value = headers.get(name)
        if value is None or not value.strip():
            continue
        match = _LEADING_NUMBER.match(value)
        if match:
            return float(match.group(1))
        try:
            when = parsedate_to_datetime(value.strip())
        except (TypeError, ValueError, IndexError):
            continue
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())
    return DEFAULT_RETRY_AFTER


def error_details(text: str) -> tuple[str, str | int | None, list[FieldError]]:
    """Cin7's error text and code from an array, a single object, or plain text."""
    try:
        parsed: Any = loads(text) if text.strip() else None
    except ValueError:
        parsed = None
    items: list[Mapping[str, Any]] = []
    if isinstance(parsed, list):
        items = [item for item in parsed if isinstance(item, Mapping)]
    elif isinstance(parsed, Mapping):
        items = [parsed]
    errors = [
        FieldError(
            message=_clip(str(item.get("Exception") or item.get("Message") or "")),
            code=str(item.get("ErrorCode", "")),
        )
        for item in items
        if item.get("Exception") or item.get("Message")
    ]
    if errors:
        code = items[0].get("ErrorCode")
        return "; ".join(e.message for e in errors), code, errors
    return _clip(_plain(text)), None, []


def decide(status: int, text: str, headers: Mapping[str, str]) -> Decision:
    """Classify one HTTP answer (status, body text, headers) into what the client does next."""
    decision = _decide(status, text, headers)
    return replace(decision, status=status)


def _decide(status: int, text: str, headers: Mapping[str, str]) -> Decision:
    if is_rate_limit(status, text):
        message = _clip(_plain(text)) or f"rate limited (HTTP {status})"
        return Decision(
            Outcome.RATE_LIMITED, message=message, retry_after=retry_after_seconds(headers)
        )
    if 200 <= status < 300:
        if status == 204 or not text.strip():
            return Decision(Outcome.OK, body=None)
        try:
            return Decision(Outcome.OK, body=loads(text))
        except ValueError:
            snippet = _clip(_plain(text), 80)
            return Decision(
                Outcome.RETRY, message=f"HTTP {status} with a body that is not JSON: {snippet}"
            )
    message, code, errors = error_details(text)
    if status >= 500:
        return Decision(
            Outcome.RETRY, message=message or f"HTTP {status}", code=code, errors=errors
        )
    if status in (401, 403):
        return Decision(
            Outcome.AUTH,
            message=message or "Cin7 refused the account ID or application key",
            code=code,
            errors=errors,
        )
    if status == 404:
        return Decision(Outcome.NOT_FOUND, message=message or "not found", code=code, errors=errors)
    return Decision(Outcome.REJECTED, message=message or f"HTTP {status}", code=code, errors=errors)


def _plain(text: str) -> str:
    """One line of readable text: tags of an HTML page stripped, whitespace collapsed."""
    return " ".join(re.sub(r"<[^>]*>", " ", text).split())


def _clip(text: str, limit: int = _MAX_TEXT) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
