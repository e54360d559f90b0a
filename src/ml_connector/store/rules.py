"""The store's rules that hold on every back-end, as pure functions.

Both implementations of :mod:`ml_connector.store.protocols` (SQL and memory) call these, so a
value refused by one is refused by the other, a document hashes the same, and the month-end
reconcile adds up the same way: what the contract suite checks once holds twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from ml_connector.errors import StoreError
from ml_connector.json_codec import loads
from ml_connector.store.models import MappingRow, ReconcileLine, Record
from ml_connector.store.redact import canonical_json, sha256_hex

__all__ = [
    "MEASURES",
    "check",
    "check_mapping",
    "check_month",
    "json_roundtrip",
    "parse_cin7_timestamp",
    "reconcile_lines",
    "snapshot_hash",
]

MEASURES = ("invoiced", "credited", "posted", "held", "received")
"""The amounts kept on a purchase record for the reconcile, by currency."""


def check(value: str, allowed: Sequence[str], what: str) -> None:
    """StoreError unless ``value`` is one of ``allowed`` (a vocabulary of :mod:`vocab`)."""
    if value not in allowed:
        raise StoreError(f"unknown {what} {value!r}; expected one of {', '.join(allowed)}")


def check_month(month: str) -> None:
    """StoreError unless ``month`` looks like ``2024-05``."""
    if len(month) != 7 or month[4] != "-" or not (month[:4] + month[5:]).isdigit():
        raise StoreError(f"month must look like 2024-05, not {month!r}")


def check_mapping(row: MappingRow, kinds: Sequence[str], sources: Sequence[str]) -> None:
    """StoreError for a mapping of an unknown kind or source, a blank side, or a bad confidence."""
    check(row.kind, kinds, "mapping kind")
    check(row.source, sources, "mapping source")
    if not row.cin7_value or not row.qad_value:
        raise StoreError(f"a {row.kind} mapping needs both a Cin7 and a QAD value")
    if not 0.0 <= row.confidence <= 1.0:
        raise StoreError(f"confidence must be between 0 and 1, not {row.confidence}")


def parse_cin7_timestamp(value: str) -> datetime | None:
    """Parse a Cin7 timestamp (``2026-08-28T12:59:44.05``, no zone means UTC); None if not one."""
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def snapshot_hash(payload: dict[str, Any], volatile: Sequence[str] = ("LastUpdatedDate",)) -> str:
    """The content hash of a Cin7 document, ignoring the top-level ``volatile`` keys."""
    skip = set(volatile)
    return sha256_hex(canonical_json({k: v for k, v in payload.items() if k not in skip}))


def json_roundtrip(value: Any) -> Any:
    """``value`` as the plain JSON a JSON column gives back (what the trail's hash covers)."""
    return loads(canonical_json(value))


def reconcile_lines(
    purchases: Iterable[Record], supplier_names: dict[str, str]
) -> list[ReconcileLine]:
    """Sum purchase records' amounts per supplier and currency, sorted by supplier then currency.

    A record with no amounts counts once under the blank currency; an amount that is not a
    number counts as zero.
    """
    lines: dict[tuple[str | None, str], dict[str, Any]] = {}
    for rec in purchases:
        currencies = sorted({cur for per in rec.amounts.values() for cur in per}) or [""]
        for currency in currencies:
            line = lines.setdefault(
                (rec.supplier_id, currency),
                {**{m: Decimal(0) for m in MEASURES}, "records": 0, "statuses": {}},
            )
            line["records"] += 1
            line["statuses"][rec.status] = line["statuses"].get(rec.status, 0) + 1
            for measure in MEASURES:
                line[measure] += _decimal(rec.amounts.get(measure, {}).get(currency))
    return [
        ReconcileLine(
            supplier_id=supplier_id,
            supplier_name=supplier_names.get(supplier_id) if supplier_id else None,
            currency=currency,
            **values,
        )
        for (supplier_id, currency), values in sorted(
            lines.items(), key=lambda item: (item[0][0] or "", item[0][1])
        )
    ]


def _decimal(value: Any) -> Decimal:
    if value is None:
        return Decimal(0)
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return Decimal(0)
