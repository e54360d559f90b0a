"""The bytes hashes are computed over never change: trails and snapshot hashes stored by earlier
releases still verify. The hashes below were computed with `json.dumps` (before `json_codec`)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ml_connector.store.audit import event_link
from ml_connector.store.redact import canonical_json, redact
from ml_connector.store.rules import json_roundtrip, snapshot_hash

DATA = {
    "cin7_id": "94db5f8f-1319-4424-b5f1-0300ee379c65",
    "amounts": {"Total": 1234.5, "Tax": 0.00001, "Rate": 1e-7, "Tiny": 2.5e-12, "Big": 1e16},
    "lines": [{"SKU": "WID-100", "Quantity": 3, "Price": 0.1}, {"SKU": "Größe €", "Note": None}],
    "text": 'line\nbreak\t\u2028\u2029\x00\x7f "quoted" \\ é \U0001f600',
    "flags": [True, False, None],
    "count": 18446744073709551616,
}
AT = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


def _link(key: bytes, version: int) -> str:
    return event_link(
        key,
        version,
        prev_hash="0" * 64,
        connection_id=7,
        record_key="purchase:PO-1",
        seq=3,
        at=AT,
        event="posted",
        actor="sync",
        data=redact(DATA),
    )


def test_links_and_snapshot_hashes_are_those_stored_before() -> None:
    assert _link(b"", 0) == "548b923d9b81c5af9f5ef52bc3a793297b74b22a55dc4ad587b8c6bb5abdd54c"
    assert _link(b"k" * 32, 2) == (
        "13942edbc6271652636a1296ea3cdd300e4234342b9a413c6727a6b315f8e88e"
    )
    assert snapshot_hash({**DATA, "LastUpdatedDate": "2026-12-03T09:00:00Z"}) == (
        "d0a87d23b7cd7a9692f13f47edf262957face5010da3328286217d92c4a5ae32"
    )


def test_the_canonical_bytes() -> None:
    assert canonical_json(DATA["amounts"]) == (
        b'{"Big":1e+16,"Rate":1e-07,"Tax":1e-05,"Tiny":2.5e-12,"Total":1234.5}'
    )
    assert canonical_json({"b": None, "a": ["é", "\u2028"]}) == (
        '{"a":["é","\u2028"],"b":null}'.encode()
    )
    assert json_roundtrip(DATA) == DATA


@pytest.mark.parametrize("value", [float("nan"), {"x": [float("inf")]}, {"n": None, "x": -1e999}])
def test_a_value_with_nan_or_infinity_is_refused_as_before(value: object) -> None:
    with pytest.raises(ValueError, match="Out of range float values are not JSON compliant"):
        canonical_json(value)
