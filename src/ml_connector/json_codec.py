"""JSON on the hot path: orjson where it gives what the standard library gives, `json` elsewhere.

A sync pass decodes every QAD and Cin7 answer and every JSON column it reads, and encodes every
QAD request body and every hash input (audit links, snapshot hashes). orjson does that in a
fraction of `json`'s CPU, but it is not a drop-in replacement, so each function here uses
orjson only where its result is provably the standard library's, and otherwise calls `json`
itself (whose result or exception is then the one callers always had):

- **Decoding** (`loads`): orjson refuses what `json` accepts beyond RFC 8259 (`NaN`,
  `Infinity`, a UTF-8 BOM, lone surrogates, UTF-16/32 bytes, nesting deeper than 1024), and
  then `json` decodes; but it reads an integer beyond 64 bits as a float, silently. A body with
  a run of 19 or more digits goes to `json` directly: every integer beyond 64 bits is such a
  run (the rare long number within 64 bits, or a long run of digits inside a string, only
  costs orjson's speed-up).
- **Encoding** (`dumps_compact`, `dumps_sorted`): for strings, integers, booleans, None, lists,
  tuples and str-keyed dicts orjson writes `json`'s compact bytes (`ensure_ascii=False`) byte
  for byte — except two kinds of float. orjson writes NaN and ±Infinity as `null` (where
  `allow_nan=False` raises), and a finite float below 1e-4 in magnitude with Python's exponent
  -5 to -9 as `0.00001` or `1e-7` (where `repr` writes `1e-05`, `1e-07`). Output holding
  `0.0000` or an unpadded exponent `e-6` to `e-9` is therefore re-encoded by `json`, and so is
  output holding `null` unless decoding it gives the value back (a NaN comes back as None).
  Anything orjson would encode another way or refuse — integers beyond 64 bits, non-str keys,
  subclasses of str/int/float/dict/list, dataclasses, datetimes, other objects — raises in
  orjson (`OPT_PASSTHROUGH_*` and a `default` that refuses) and goes to `json`.

  Two kinds of value `json` refuses are written by orjson all the same: enum members (as their
  value) and `uuid.UUID` (as its canonical string). Neither can reach the callers here: request
  bodies are built from plain values, and hash inputs are `redact()`ed (which turns both into
  plain values) or decoded JSON.
- **Column text** (`dumps_text`, SQLAlchemy's JSON column serializer): what is stored only has to
  decode to the same values as `json.dumps`' text, not be the same text, so orjson's compact
  UTF-8 is kept for any float; NaN, infinities (`null` again) and what orjson refuses go to
  `json.dumps`, whose text (", " and ": " separators, ASCII escapes, `NaN`) older rows have.

`tests/unit/codec/test_json_codec.py` checks all of this with Hypothesis against the standard
library, over generated JSON values and generated JSON texts.
"""

from __future__ import annotations

import json
import re
from typing import Any

import orjson

__all__ = ["dumps_compact", "dumps_sorted", "dumps_text", "loads"]

_LONG_DIGITS = 19
_DIGITS_TO_ZERO = bytes.maketrans(b"123456789", b"000000000")
_STR_DIGITS_TO_ZERO = str.maketrans("123456789", "000000000")
_RUN_BYTES = b"0" * _LONG_DIGITS
_RUN_STR = "0" * _LONG_DIGITS

_PASSTHROUGH = (
    orjson.OPT_PASSTHROUGH_DATACLASS
    | orjson.OPT_PASSTHROUGH_DATETIME
    | orjson.OPT_PASSTHROUGH_SUBCLASS
)
_SORTED = _PASSTHROUGH | orjson.OPT_SORT_KEYS
# orjson's exponent of a tiny float, where `repr` pads it to two digits: `1e-7` for `1e-07`.
_UNPADDED_EXPONENT = re.compile(rb"e-[6-9](?=[,\]}]|\Z)")


def loads(data: bytes | str) -> Any:
    """`data` decoded as `json.loads(data)` decodes it: the same values, the same errors.

    >>> loads(b'{"n": 1, "x": [1.5, null]}')
    {'n': 1, 'x': [1.5, None]}
    >>> loads("18446744073709551616")  # beyond 64 bits: exact, as json reads it
    18446744073709551616
    """
    if isinstance(data, str):
        long_number = _RUN_STR in data.translate(_STR_DIGITS_TO_ZERO)
    elif isinstance(data, bytes):
        long_number = _RUN_BYTES in data.translate(_DIGITS_TO_ZERO)
    else:  # bytearray, or what json refuses (SQLite hands a number-like column over as one)
        long_number = True
    if not long_number:
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError:
            pass
    return json.loads(data)


def dumps_compact(value: Any) -> bytes:
    """`value` as `json.dumps(value, ensure_ascii=False, separators=(",", ":"),
    allow_nan=False).encode()`: the same bytes, the same errors (httpx's `json=` body)."""
    try:
        out = orjson.dumps(value, default=_refuse, option=_PASSTHROUGH)
    except (orjson.JSONEncodeError, TypeError):
        out = None
    if out is None or not _same_as_json(out, value):
        out = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()
    return out


def dumps_sorted(value: Any) -> bytes:
    """`value` as `json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
    allow_nan=False).encode("utf-8")`: the same bytes, the same errors (the bytes hashes are
    computed over)."""
    try:
        out = orjson.dumps(value, default=_refuse, option=_SORTED)
    except (orjson.JSONEncodeError, TypeError):
        out = None
    if out is None or not _same_as_json(out, value):
        out = json.dumps(
            value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
        ).encode("utf-8")
    return out


def dumps_text(value: Any) -> str:
    """`value` as JSON text that decodes to what `json.dumps(value)` decodes to, the same errors.

    >>> dumps_text({"n": 1, "s": "é"})
    '{"n":1,"s":"é"}'
    >>> dumps_text({"x": float("nan")})  # json's text: orjson would write null
    '{"x": NaN}'
    """
    try:
        out = orjson.dumps(value, default=_refuse, option=_PASSTHROUGH)
    except (orjson.JSONEncodeError, TypeError):
        return json.dumps(value)
    if b"null" in out and orjson.loads(out) != value:
        return json.dumps(value)
    return out.decode()


def _refuse(value: Any) -> Any:
    raise TypeError(f"{type(value).__name__} is left to json")


def _same_as_json(out: bytes, value: Any) -> bool:
    """Whether orjson's `out` for `value` is json's bytes (see the module docstring)."""
    if b"0.0000" in out:
        return False
    if b"e-" in out and _UNPADDED_EXPONENT.search(out) is not None:
        return False
    return b"null" not in out or bool(orjson.loads(out) == value)
