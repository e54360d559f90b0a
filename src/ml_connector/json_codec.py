"""JSON on the hot path: orjson where it gives what the standard library gives, `json` elsewhere.

A sync pass decodes every QAD and Cin7 answer. orjson does that in a fraction of `json`'s CPU,
but it is not a drop-in replacement, so `loads` uses orjson only where its result is provably
the standard library's, and otherwise calls `json` itself (whose result or exception is then
the one callers always had): orjson refuses what `json` accepts beyond RFC 8259 (`NaN`,
`Infinity`, a UTF-8 BOM, lone surrogates, UTF-16/32 bytes, nesting deeper than 1024), and then
`json` decodes; but it reads an integer beyond 64 bits as a float, silently. A body with a run
of 19 or more digits goes to `json` directly: every integer beyond 64 bits is such a run (the
rare long number within 64 bits, or a long run of digits inside a string, only costs orjson's
speed-up).

`tests/unit/codec/test_json_codec.py` checks this with Hypothesis against the standard library,
over generated JSON texts, valid and not.
"""

from __future__ import annotations

import json
from typing import Any

import orjson

__all__ = ["loads"]

_LONG_DIGITS = 19
_DIGITS_TO_ZERO = bytes.maketrans(b"123456789", b"000000000")
_STR_DIGITS_TO_ZERO = str.maketrans("123456789", "000000000")
_RUN_BYTES = b"0" * _LONG_DIGITS
_RUN_STR = "0" * _LONG_DIGITS


def loads(data: bytes | str) -> Any:
    """`data` decoded as `json.loads(data)` decodes it: the same values, the same errors.

    >>> loads(b'{"n": 1, "x": [1.5, null]}')
    {'n': 1, 'x': [1.5, None]}
    >>> loads("18446744073709551616")  # beyond 64 bits: exact, as json reads it
    18446744073709551616
    """
    if isinstance(data, str):
        long_number = _RUN_STR in data.translate(_STR_DIGITS_TO_ZERO)
    else:
        long_number = _RUN_BYTES in data.translate(_DIGITS_TO_ZERO)
    if not long_number:
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError:
            pass
    return json.loads(data)
