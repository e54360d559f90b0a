"""Fault injection: what a QAD tenant behind a cloud gateway does on a bad day.

Rates are probabilities per API call (0..1), rolled on the tenant's seeded random generator.
"""

from __future__ import annotations

import json
import random
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from ml_connector.sandbox.qad.envelope import bare_errors

RATES = (
    "error_rate",
    "html_rate",
    "timeout_rate",
    "burst_rate",
    "silent_receipt_rate",
    "lost_response_rate",
    "qdoc_silent_receipt_rate",
    "qdoc_posted_error_rate",
    "qdoc_no_receiver_rate",
)

SECONDS = ("timeout_seconds", "burst_seconds")


@dataclass
class Faults:
    """Current fault settings of one tenant.

    - `error_rate`: the call answers HTTP 500, with a JSON or an HTML body, and does nothing.
    - `latency_ms`: every API call waits this long before it is handled.
    - `html_rate`: the call answers HTTP 200 with a gateway's HTML page, and does nothing.
    - `silent_receipt_rate`: a valid receipt answers success and a receiver number, posts nothing.
    - `lost_response_rate`: a write is carried out, then answered with a 502 gateway page.
    - `timeout_rate`: the call waits `timeout_seconds` first (a client with a shorter timeout
      gives up), then is carried out as usual: a write may land although its caller timed out.
    - `burst_rate`: the call starts a burst of rate limiting: every API call for the next
      `burst_seconds` answers 429 with `Retry-After`, and does nothing.
    - `qdoc_silent_receipt_rate`: a valid `receivePurchaseOrder` answers success, posts nothing.
    - `qdoc_posted_error_rate`: a valid `receivePurchaseOrder` posts, then answers error.
    - `qdoc_no_receiver_rate`: a receipt answer leaves out the receiver number even when response
      detail is asked for (default 1: QXtend's answer carries none, [CODE] S6).
    """

    error_rate: float = 0.0
    latency_ms: float = 0.0
    html_rate: float = 0.0
    silent_receipt_rate: float = 0.0
    lost_response_rate: float = 0.0
    qdoc_silent_receipt_rate: float = 0.0
    qdoc_posted_error_rate: float = 0.0
    qdoc_no_receiver_rate: float = 1.0
    timeout_rate: float = 0.0
    timeout_seconds: float = 30.0
    burst_rate: float = 0.0
    burst_seconds: float = 3.0

    def update(self, values: Mapping[str, Any]) -> None:
        """Apply settings after checking all of them; raises ValueError naming the bad one."""
        checked: dict[str, float] = {}
        for name, raw in values.items():
            if name not in (*RATES, *SECONDS, "latency_ms"):
                raise ValueError(f"unknown fault {name!r}")
            if isinstance(raw, bool) or not isinstance(raw, int | float):
                raise ValueError(f"{name} must be a number")
            value = float(raw)
            if name in RATES and not 0 <= value <= 1:
                raise ValueError(f"{name} must be between 0 and 1")
            if name == "latency_ms" and not 0 <= value <= 60_000:
                raise ValueError("latency_ms must be between 0 and 60000")
            if name in SECONDS and not 0 <= value <= 600:
                raise ValueError(f"{name} must be between 0 and 600")
            checked[name] = value
        for name, value in checked.items():
            setattr(self, name, value)

    def to_json(self) -> dict[str, float]:
        return asdict(self)


def roll(rng: random.Random, rate: float) -> bool:
    return rate > 0 and rng.random() < rate


def error_response(rng: random.Random) -> tuple[int, str, str]:
    """A 500 as QAD's application server or its gateway gives it: (status, media type, body)."""
    if rng.random() < 0.5:
        body = bare_errors("500", "Internal Server Error: the request could not be processed")
        return 500, "application/json", json.dumps(body)
    return 500, "text/html", _page("500 Internal Server Error", "The server encountered an error.")


def gateway_page() -> str:
    """The HTML a load balancer or login proxy serves in place of the API's JSON."""
    return _page(
        "QAD Cloud - Service Temporarily Unavailable",
        "The application is being updated. Please try again in a few minutes.",
    )


def bad_gateway_page() -> str:
    return _page("502 Bad Gateway", "The upstream server did not answer in time.")


def _page(title: str, text: str) -> str:
    return (
        "<!DOCTYPE html>\n<html><head><title>"
        f"{title}</title></head>\n<body><h1>{title}</h1><p>{text}</p></body></html>\n"
    )
