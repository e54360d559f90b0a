"""`json_codec`: orjson's speed where it gives the standard library's result, `json` elsewhere.

Every property compares with the standard library itself: the same bytes or values, or the same
exception (type and message). Values and texts are generated to hit where orjson and `json`
part ways: floats of every magnitude, NaN and infinities, integers beyond 64 bits, control
characters, U+2028/2029, lone surrogates, non-str keys, BOMs, other encodings, malformed texts.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import json
import struct
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from ml_connector import json_codec
from ml_connector.json_codec import dumps_compact, dumps_sorted, dumps_text, loads


def compact_reference(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()


def sorted_reference(value: Any) -> bytes:
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def outcome(function: Callable[[Any], Any], value: Any) -> tuple[str, Any]:
    try:
        return "ok", strict(function(value))
    except Exception as exc:  # the same exception, message included, is part of the contract
        return type(exc).__name__, str(exc)


def strict(value: Any) -> Any:
    """`value` with types, key order and float bits made visible to `==`."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return ("int", value)
    if isinstance(value, float):
        return ("float", struct.pack("<d", value))
    if isinstance(value, dict):
        return ("dict", [(key, strict(item)) for key, item in value.items()])
    if isinstance(value, list):
        return ("list", [strict(item) for item in value])
    return value  # str, bytes


# ---- values ---------------------------------------------------------------------------------

TINY_FLOATS = st.floats(min_value=1e-10, max_value=1e-4).flatmap(lambda x: st.sampled_from([x, -x]))
FLOATS = st.one_of(st.floats(), TINY_FLOATS, st.sampled_from([1e-5, 2.5e-05, 1e-7, 1e16, -0.0]))
INTEGERS = st.one_of(
    st.integers(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([2**63 - 1, 2**63, 2**64 - 1, 2**64, -(2**63), -(2**63) - 1]),
)
SPECIAL_CHARACTERS = st.sampled_from(
    [
        "\x00",
        "\x1f",
        "\x7f",
        "\u2028",
        "\u2029",
        '"',
        "\\",
        "\b",
        "\f",
        "\n",
        "\r",
        "\t",
        "é",
        "\U0001f600",
        "\ufeff",
        "\ud800",
        "\udfff",
        "0.0000",
        "1e-7]",
        "null",
        "e-8",
    ]
)
TEXT = st.one_of(
    st.text(),
    st.lists(st.one_of(st.characters(), SPECIAL_CHARACTERS), max_size=6).map("".join),
)
KEYS = st.one_of(TEXT, st.sampled_from(["a", "b", "é", "\uffff", "\U00010000", "B", "_"]))
SCALARS = st.one_of(st.none(), st.booleans(), INTEGERS, FLOATS, TEXT)
JSON_VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=5),
        st.lists(inner, max_size=3).map(tuple),
        st.dictionaries(KEYS, inner, max_size=5),
    ),
    max_leaves=25,
)
NON_STR_KEYS = st.dictionaries(
    st.one_of(st.integers(), st.floats(), st.booleans(), st.none(), TEXT), SCALARS, max_size=4
)


class Colour(enum.StrEnum):
    RED = "red"


class Size(enum.IntEnum):
    BIG = 3


class Name(str):
    pass


@dataclasses.dataclass
class Point:
    x: int


OTHER_VALUES = st.sampled_from(
    [
        Colour.RED,
        Size.BIG,
        Name("n"),
        {Name("k"): 1},
        {"k": Name("v")},
        Decimal("1.10"),
        dt.datetime(2026, 12, 3, 9, 0),
        dt.date(2026, 12, 3),
        Point(1),
        {1, 2},
        b"bytes",
        object(),
        {"a": 1, 2: "mixed key types"},
    ]
)
ANY_VALUES = st.one_of(
    JSON_VALUES, NON_STR_KEYS, OTHER_VALUES, st.lists(OTHER_VALUES, min_size=1, max_size=2)
)


@settings(max_examples=600, deadline=None)
@given(ANY_VALUES)
@example(float("nan"))
@example([1.0, float("inf")])
@example({"a": None, "b": float("-inf")})
@example({"a": [None, 1e-7]})
@example(1e-05)
@example("a" * 100 + "0.0000")
def test_dumps_compact_is_json_byte_for_byte(value: Any) -> None:
    assert outcome(dumps_compact, value) == outcome(compact_reference, value)


@settings(max_examples=600, deadline=None)
@given(ANY_VALUES)
@example({"é": 1, "z": 2, "\U00010000": 3, "\uffff": 4, "Z": 5})
@example({2: "a", 10: "b"})
@example({"a": 1, 2: "b"})
@example({"x": float("nan"), "y": None})
@example({"p": 2.5e-05, "q": [1e-9, 1e-10]})
def test_dumps_sorted_is_json_byte_for_byte(value: Any) -> None:
    assert outcome(dumps_sorted, value) == outcome(sorted_reference, value)


def text_values(function: Callable[[Any], str]) -> Callable[[Any], Any]:
    return lambda value: json.loads(function(value))


@settings(max_examples=600, deadline=None)
@given(ANY_VALUES)
@example({"x": float("nan"), "y": None})
@example([float("inf"), 1e-7, 2.5e-05, 2**64])
@example({1: "int key", "s": "é\u2028"})
def test_dumps_text_decodes_to_what_json_dumps_decodes_to(value: Any) -> None:
    assert outcome(text_values(dumps_text), value) == outcome(text_values(json.dumps), value)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(FLOATS, st.none()), min_size=1, max_size=3))
def test_floats_of_every_magnitude_are_written_as_json_writes_them(floats: list[Any]) -> None:
    """orjson writes NaN, infinities and floats of exponent -5 to -9 another way: json does."""
    assert outcome(dumps_compact, floats) == outcome(compact_reference, floats)
    assert outcome(dumps_sorted, floats) == outcome(sorted_reference, floats)


def test_a_circular_value_fails_as_json_fails() -> None:
    loop: list[Any] = []
    loop.append(loop)
    assert outcome(dumps_compact, loop) == outcome(compact_reference, loop)
    assert outcome(dumps_sorted, loop) == outcome(sorted_reference, loop)


def test_enum_members_and_uuids_are_written_where_json_refuses() -> None:
    """The one documented difference: orjson writes these (callers never pass them)."""

    class Plain(enum.Enum):
        ONE = 1

    some_id = uuid.UUID("41d4155e-ba4e-4163-8468-146d4424778a")
    assert dumps_compact([Plain.ONE, some_id]) == b'[1,"41d4155e-ba4e-4163-8468-146d4424778a"]'
    with pytest.raises(TypeError):
        compact_reference([Plain.ONE])


BODY = {
    "items": [{"itemCode": "W-é", "qty": 1.5, "price": 0.0001, "note": None, "ok": True}],
    "id": "94db5f8f-1319-4424-b5f1-0300ee379c65",
    "total": 12345678901234567,
    "tiny": 1e-12,
}


def no_json(*args: Any, **kwargs: Any) -> Any:
    raise AssertionError("json was called")


def test_plain_values_never_reach_json(monkeypatch: pytest.MonkeyPatch) -> None:
    """The common case is orjson's alone: `json` is not called, even with nulls and floats."""
    compact, canonical = compact_reference(BODY), sorted_reference(BODY)
    monkeypatch.setattr(json_codec.json, "dumps", no_json)
    assert dumps_compact(BODY) == compact
    assert dumps_sorted(BODY) == canonical
    assert loads(dumps_text(BODY)) == BODY


# ---- texts ----------------------------------------------------------------------------------

WHITESPACE = st.sampled_from(
    ["", " ", "\t", "\n", "\r", " \r\n ", "\x0c", "\x0b", "\xa0", "\u2028"]
)
NUMBERS = st.one_of(
    st.from_regex(r"-?(0|[1-9][0-9]{0,30})(\.[0-9]{1,30})?([eE][+-]?[0-9]{1,4})?", fullmatch=True),
    st.integers().map(str),
    st.floats().map(repr),
    st.sampled_from(
        [
            "NaN",
            "Infinity",
            "-Infinity",
            "01",
            "1.",
            "-",
            ".5",
            "+1",
            "1e",
            "0x1F",
            "1_0",
            "-0",
            "-0.0",
            "1E400",
            "-1e-400",
            "9223372036854775807",
            "9223372036854775808",
            "-9223372036854775808",
            "-9223372036854775809",
            "18446744073709551615",
            "18446744073709551616",
            "4.9e-324",
            "2.4703282292062327e-324",
            "9007199254740993",
            "1.7976931348623158e308",
            "0.1000000000000000055511151231257827",
            "1" * 19,
        ]
    ),
)
ESCAPES = st.sampled_from(
    [
        r"\"",
        r"\\",
        r"\/",
        r"\b",
        r"\f",
        r"\n",
        r"\r",
        r"\t",
        r"\u00e9",
        r"\ud83d\ude00",
        r"\ud800",
        r"\udc00",
        r"\ud800x",
        r"\x",
        r"\u12",
        r"\U0001",
        "\x00",
        "\x1f",
        "\x7f",
        "\ufeff",
        "\u2028",
        "é",
        "\U0001f600",
        "\ud800",
    ]
)
STRINGS = st.one_of(
    TEXT.map(lambda s: json.dumps(s, ensure_ascii=False)),
    TEXT.map(json.dumps),
    st.lists(st.one_of(st.characters(), ESCAPES), max_size=8).map(lambda p: '"' + "".join(p) + '"'),
)
LITERALS = st.sampled_from(["true", "false", "null", "True", "nul", "None", "undefined"])


def _array(items: list[str], trailing: bool) -> str:
    return "[" + ",".join(items) + ("," if trailing and items else "") + "]"


def _object(pairs: list[tuple[str, str]], colon: str) -> str:
    return "{" + ",".join(f"{key}{colon}{value}" for key, value in pairs) + "}"


TEXTS = st.recursive(
    st.one_of(NUMBERS, STRINGS, LITERALS),
    lambda inner: st.one_of(
        st.builds(_array, st.lists(inner, max_size=4), st.booleans()),
        st.builds(
            _object,
            st.lists(
                st.tuples(st.one_of(st.sampled_from(['"a"', '"b"', '"a"']), STRINGS), inner),
                max_size=4,
            ),
            st.sampled_from([":", ": ", " :", ""]),
        ),
        st.builds(lambda ws, text: ws + text + ws, WHITESPACE, inner),
    ),
    max_leaves=20,
)
ENCODINGS = st.sampled_from(
    [None, "utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-32", "latin-1", "surrogatepass"]
)


def _encoded(text: str, encoding: str | None) -> str | bytes:
    if encoding is None:
        return text
    if encoding == "surrogatepass":
        return text.encode("utf-8", "surrogatepass")
    return text.encode(encoding, "replace")


DOCUMENTS = st.one_of(
    st.builds(_encoded, TEXTS, ENCODINGS),
    st.builds(_encoded, st.builds(json.dumps, JSON_VALUES), ENCODINGS),
    st.binary(max_size=40),
    st.text(max_size=20),
)


@settings(max_examples=1500, deadline=None)
@given(DOCUMENTS)
@example(b'{"a": 1, "b": 2, "a": 3}')
@example(b"\xef\xbb\xbf[1]")
@example("\ufeff[1]")
@example(b"[18446744073709551616, -9223372036854775809]")
@example('{"n": 123456789012345678901234567890}')
@example(b'"\\ud800"')
@example(b"[NaN, Infinity, -Infinity]")
@example(b"1E400")
@example(b"[" * 1100 + b"]" * 1100)
@example(b'"\xff"')
@example(b"")
def test_loads_is_json_loads(document: str | bytes) -> None:
    assert outcome(loads, document) == outcome(json.loads, document)


def test_integers_beyond_64_bits_stay_exact() -> None:
    assert loads(b'{"n": 18446744073709551616}') == {"n": 18446744073709551616}
    assert type(loads("-9223372036854775809")) is int


def test_plain_answers_never_reach_json(monkeypatch: pytest.MonkeyPatch) -> None:
    """The common case is orjson's alone: `json` is not called."""
    text = json.dumps(BODY)
    monkeypatch.setattr(json_codec.json, "loads", no_json)
    assert loads(text) == BODY
    assert loads(text.encode()) == BODY


@pytest.mark.parametrize("data", [12, 1.5, None, bytearray(b"[1]"), memoryview(b"[2]")])
def test_what_is_neither_str_nor_bytes_is_json_s_to_decode(data: Any) -> None:
    assert outcome(loads, data) == outcome(json.loads, data)
