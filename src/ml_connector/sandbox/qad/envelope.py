"""What every QAD resource shares: messages, the `submitResult` envelope and value parsing.

QAD answers writes with HTTP 200 and puts business errors (severity 1) and warnings (severity 0)
in `submitResult.errors`; `RecordReader` collects such messages while it reads a submitted record,
so a resource validates everything first and saves only when nothing was refused.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

ERROR = 1
WARNING = 0


class Codes:
    """Message codes the sandbox uses in `submitResult.errors[].code`."""

    REQUIRED = "1001"
    TOO_LONG = "1002"
    NOT_FOUND = "1003"
    INVALID = "1004"
    INACTIVE = "1005"
    CLOSED = "1006"
    ALREADY_EXISTS = "2040"
    CHANGED = "2050"
    ANALYSIS = "3004"
    OVER_RECEIPT = "4001"
    QUANTITY_NOT_COVERED = "5001"
    PRICE_TOLERANCE = "5002"
    AMOUNT_MISMATCH = "5003"
    DUPLICATE_REFERENCE = "5010"


CHANGED_BY_ANOTHER_USER = "Record has been changed by another user"


@dataclass(frozen=True)
class Msg:
    """One entry of `submitResult.errors`."""

    message: str
    field: str = ""
    value: str = ""
    code: str = Codes.INVALID
    severity: int = ERROR

    def to_json(self) -> dict[str, Any]:
        return {
            "fieldName": self.field,
            "message": self.message,
            "fieldValue": self.value,
            "code": self.code,
            "severity": self.severity,
        }


@dataclass
class Outcome:
    """What one submitted record became: the record to answer with, and the messages."""

    record: dict[str, Any]
    messages: list[Msg] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not any(m.severity == ERROR for m in self.messages)


def refused(record: Mapping[str, Any], *messages: Msg) -> Outcome:
    """A refused record: echo what was sent, with the reasons."""
    return Outcome(dict(record), list(messages))


def submit_envelope(plural: str, outcomes: list[Outcome]) -> dict[str, Any]:
    """`{"data": {plural: [...]}, "submitResult": {...}}` for a write."""
    messages = [m for o in outcomes for m in o.messages]
    failed = any(m.severity == ERROR for m in messages)
    return {
        "data": {plural: [o.record for o in outcomes]},
        "submitResult": {
            "success": not failed,
            "errorSeverity": ERROR if failed else WARNING,
            "errors": [m.to_json() for m in messages],
        },
    }


def read_envelope(plural: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """`{"data": {plural: [...]}}` for a read; "not found" is an empty list."""
    return {"data": {plural: rows}}


def bare_errors(code: str, message: str, field_name: str = "") -> dict[str, Any]:
    """QAD's bare error body (401, 403 and transport-level refusals), without `submitResult`."""
    return {
        "errors": [{"severity": ERROR, "code": code, "message": message, "fieldName": field_name}]
    }


def num(value: Decimal) -> int | float:
    """A Decimal as a JSON number: integral values as int, others as float."""
    if value == value.to_integral_value():
        return int(value)
    return float(value)


def qty_text(value: Decimal) -> str:
    """A quantity for a message: `10`, `6.5`."""
    text = format(value.normalize(), "f")
    return text if text not in ("-0", "") else "0"


def money_text(value: Decimal) -> str:
    return f"{value:.2f}"


def to_decimal(value: object) -> Decimal | None:
    """A JSON number (or numeric string) as Decimal; None when it is not one."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float | Decimal):
        result = Decimal(str(value))
    elif isinstance(value, str):
        try:
            result = Decimal(value.strip())
        except InvalidOperation:
            return None
    else:
        return None
    return result if result.is_finite() else None


def concurrency_hash(*parts: object) -> str:
    """An opaque optimistic-lock token over a record's content and revision."""
    blob = json.dumps(parts, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:24]


def today() -> str:
    return dt.date.today().isoformat()


def with_keys(
    record: Mapping[str, Any], params: Mapping[str, str], keys: tuple[str, ...]
) -> dict[str, Any]:
    """The record, with key fields taken from the query string when the body leaves them blank."""
    merged = dict(record)
    for key in keys:
        if not str(merged.get(key) or "").strip() and params.get(key):
            merged[key] = params[key]
    return merged


def is_stale(record: Mapping[str, Any], current_hash: str) -> bool:
    """A non-blank `concurrencyHash` that is not the stored one. Blank means "not checked"."""
    sent = str(record.get("concurrencyHash") or "").strip()
    return bool(sent) and sent != current_hash


class RecordReader:
    """Reads fields of one submitted record and collects what is wrong with them."""

    def __init__(self, record: Mapping[str, Any], *, where: str = "") -> None:
        self.record = record
        self.where = where
        self.errors: list[Msg] = []

    def fail(
        self, field_name: str, message: str, value: object = "", code: str = Codes.INVALID
    ) -> None:
        self.errors.append(Msg(self.where + message, field_name, _text(value), code))

    def operation(self) -> str:
        op = str(self.record.get("dataOperation") or "C").strip().upper()
        if op not in ("C", "U"):
            self.fail("dataOperation", f"Data operation {op} is not supported", op)
            return "C"
        return op

    def text(
        self, name: str, *, required: bool = False, max_len: int | None = None, label: str = ""
    ) -> str:
        raw = self.record.get(name)
        value = "" if raw is None else _text(raw).strip()
        label = label or name
        if required and not value:
            self.fail(name, f"{label} is required", value, Codes.REQUIRED)
        elif max_len is not None and len(value) > max_len:
            self.fail(
                name, f"{label} {value} is longer than {max_len} characters", value, Codes.TOO_LONG
            )
        return value

    def number(
        self,
        name: str,
        *,
        default: Decimal = Decimal(0),
        positive: bool = False,
        minimum: Decimal | None = None,
        label: str = "",
    ) -> Decimal:
        raw = self.record.get(name)
        label = label or name
        if raw is None or raw == "":
            value = default
        else:
            parsed = to_decimal(raw)
            if parsed is None:
                self.fail(name, f"{label} must be a number", raw)
                return default
            value = parsed
        if positive and value <= 0:
            self.fail(name, f"{label} must be greater than zero", raw)
        elif minimum is not None and value < minimum:
            self.fail(name, f"{label} must not be below {qty_text(minimum)}", raw)
        return value

    def integer(self, name: str, *, default: int = 0, label: str = "") -> int:
        raw = self.record.get(name)
        if raw is None or raw == "":
            return default
        parsed = to_decimal(raw)
        if parsed is None or parsed != parsed.to_integral_value():
            self.fail(name, f"{label or name} must be a whole number", raw)
            return default
        return int(parsed)

    def date(self, name: str, *, default: str, label: str = "") -> str:
        raw = self.record.get(name)
        text = "" if raw is None else _text(raw).strip()
        if not text:
            return default
        try:
            return dt.date.fromisoformat(text[:10]).isoformat()
        except ValueError:
            self.fail(name, f"{label or name} {text} is not a date (YYYY-MM-DD)", text)
            return default

    def flag(self, name: str, *, default: bool) -> bool:
        raw = self.record.get(name)
        if raw is None or raw == "":
            return default
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text in ("true", "yes", "1"):
            return True
        if text in ("false", "no", "0"):
            return False
        self.fail(name, f"{name} must be true or false", raw)
        return default

    def choice(self, name: str, options: tuple[str, ...], *, default: str) -> str:
        value = self.text(name) or default
        for option in options:
            if value.lower() == option.lower():
                return option
        self.fail(name, f"{name} must be one of {', '.join(options)}", value)
        return default


def _text(value: object) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, Decimal):
        return qty_text(value)
    return json.dumps(value) if isinstance(value, dict | list | bool) else str(value)
