"""The store's pure parts: Cin7 timestamps, snapshot hashes, connection settings."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError
from store_helpers import make_config

from ml_connector.errors import StoreError
from ml_connector.store import ConnectionConfig, MappingRow, parse_cin7_timestamp, snapshot_hash
from ml_connector.store.rules import check_mapping, check_month
from ml_connector.vocab import MAPPING_KINDS, MAPPING_SOURCES


def test_cin7_timestamps_parse_as_utc() -> None:
    assert parse_cin7_timestamp("2024-05-10T03:21:07.417") == datetime(
        2024, 5, 10, 3, 21, 7, 417000, tzinfo=UTC
    )
    assert parse_cin7_timestamp("2024-05-10T03:21:07Z") == datetime(
        2024, 5, 10, 3, 21, 7, tzinfo=UTC
    )
    assert parse_cin7_timestamp("yesterday") is None


def test_the_snapshot_hash_ignores_volatile_keys_and_key_order() -> None:
    doc = {"ID": "a", "LastUpdatedDate": "t1", "Lines": [{"SKU": "W", "Qty": 1}]}
    touched = {"Lines": [{"Qty": 1, "SKU": "W"}], "LastUpdatedDate": "t2", "ID": "a"}
    assert snapshot_hash(doc) == snapshot_hash(touched)
    assert snapshot_hash(doc) != snapshot_hash({**doc, "Lines": []})
    assert snapshot_hash(doc, volatile=()) != snapshot_hash(touched, volatile=())


@pytest.mark.parametrize("month", ["2024-5", "May 2024", "2024/05", "2024-05-01"])
def test_months_look_like_2024_05(month: str) -> None:
    check_month("2024-05")
    with pytest.raises(StoreError, match="month"):
        check_month(month)


@pytest.mark.parametrize(
    ("row", "problem"),
    [
        (MappingRow("colour", "red", "RED"), "unknown mapping kind"),  # type: ignore[arg-type]
        (MappingRow("item", "a", "b", "guess"), "unknown mapping source"),  # type: ignore[arg-type]
        (MappingRow("item", "", "b"), "both a Cin7 and a QAD value"),
        (MappingRow("item", "a", "b", confidence=-0.1), "confidence"),
    ],
)
def test_a_mapping_row_is_checked_whole(row: MappingRow, problem: str) -> None:
    check_mapping(MappingRow("item", "a", "b"), MAPPING_KINDS, MAPPING_SOURCES)
    with pytest.raises(StoreError, match=problem):
        check_mapping(row, MAPPING_KINDS, MAPPING_SOURCES)


def test_connection_config_validates_and_hides_secrets() -> None:
    config = make_config("acme", qad_password="hunter2-secret")
    assert "hunter2-secret" not in repr(config)
    assert "hunter2-secret" not in str(config)
    assert "hunter2-secret" not in config.model_dump_json()
    with pytest.raises(ValidationError):
        make_config("bad name with spaces")
    with pytest.raises(ValidationError):
        ConnectionConfig(name="x")  # type: ignore[call-arg]
