"""Cin7 Core wire formats as seen live (reference §7): timestamps, business dates, numbers, GUIDs.

- `LastUpdatedDate` has no `Z` and a trimmed millisecond fraction: `2026-11-20T09:14:03.27`.
- `LastModifiedOn` (suppliers, products) carries the `Z`: `2026-11-20T09:14:03.27Z`.
- Business dates are calendar days at midnight, no `Z`: `2026-11-20T00:00:00`.
- Payment `DateCreated` has seven fraction digits and a `Z`, as the APIB example shows.
- Numbers are JSON numbers without trailing zeros (`15`, `54.31`).

All datetimes inside the sandbox are naive UTC.
"""

from __future__ import annotations

import random
import re
import uuid
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal

MILLISECOND = timedelta(milliseconds=1)
_FOUR_DP = Decimal("0.0001")
_TWO_DP = Decimal("0.01")
_NAMESPACE = uuid.UUID("6f0e8a52-3c1d-4b7e-9a45-c7d2e1f0b396")

_STAMP = re.compile(
    r"^(?P<y>\d{4})-(?P<mo>\d{2})-(?P<d>\d{2})"
    r"(?:[T ](?P<h>\d{2}):(?P<mi>\d{2})(?::(?P<s>\d{2})(?:\.(?P<frac>\d{1,7}))?)?)?"
    r"\s*(?P<tz>Z|z|[+-]\d{2}:?\d{2})?$"
)


def stamp(value: datetime) -> str:
    """`LastUpdatedDate` form: no zone suffix, fraction trimmed of trailing zeros (or absent)."""
    text = value.strftime("%Y-%m-%dT%H:%M:%S")
    millis = value.microsecond // 1000
    if millis:
        text += "." + f"{millis:03d}".rstrip("0")
    return text


def stamp_z(value: datetime) -> str:
    """`LastModifiedOn` form: as `stamp`, with the `Z`."""
    return stamp(value) + "Z"


def ticks_z(value: datetime) -> str:
    """Seven fraction digits and a `Z` (payment `DateCreated`)."""
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond:06d}0Z"


def day(value: date | None) -> str | None:
    """A business date at midnight, or None."""
    if value is None:
        return None
    return f"{value:%Y-%m-%d}T00:00:00"


def parse_timestamp(text: str) -> datetime | None:
    """Parse a client's timestamp: date only, or with 0-7 fraction digits, with or without `Z`
    or an offset. Naive values are UTC. Returns naive UTC, or None when it is not a date.

    Fractions beyond microseconds are truncated, which is exact for "strictly after" against
    the sandbox's millisecond stamps.
    """
    match = _STAMP.match(text.strip())
    if not match:
        return None
    frac = (match["frac"] or "").ljust(6, "0")[:6]
    try:
        value = datetime(
            int(match["y"]),
            int(match["mo"]),
            int(match["d"]),
            int(match["h"] or 0),
            int(match["mi"] or 0),
            int(match["s"] or 0),
            int(frac),
        )
    except ValueError:
        return None
    tz = match["tz"]
    if tz and tz not in ("Z", "z"):
        digits = tz[1:].replace(":", "")
        offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
        zone = timezone(offset if tz[0] == "+" else -offset)
        value = value.replace(tzinfo=zone).astimezone(UTC).replace(tzinfo=None)
    return value


def q4(value: Decimal) -> Decimal:
    """Round to the 4 decimal places Cin7 keeps for quantities, prices and totals."""
    return value.quantize(_FOUR_DP, rounding=ROUND_HALF_UP)


def q2(value: Decimal) -> Decimal:
    """Round to 2 decimal places (payment amounts)."""
    return value.quantize(_TWO_DP, rounding=ROUND_HALF_UP)


def num(value: Decimal) -> int | float:
    """A JSON number without trailing zeros: 15, 54.31."""
    if value == value.to_integral_value():
        return int(value)
    return float(value)


def qty4(value: Decimal) -> str:
    """A quantity as error messages print it: four decimal places (`192.0000`)."""
    return f"{q4(value):.4f}"


def guid(rng: random.Random) -> str:
    """A lower-case GUID drawn from a seeded generator."""
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def stable_guid(*parts: object) -> str:
    """A lower-case GUID that depends only on its parts (catalogue rows, default credentials)."""
    return str(uuid.uuid5(_NAMESPACE, ":".join(str(part) for part in parts)))
