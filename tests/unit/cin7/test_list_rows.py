"""The purchase list row is read strictly: the poll routes, keys and dedups on it."""

from __future__ import annotations

from typing import Any

import pytest

from ml_connector.cin7.models import Purchase, PurchaseListRow
from ml_connector.errors import InvalidPayload

ROW: dict[str, Any] = {
    "ID": "3E2B1C0D-9A8B-4C7D-8E6F-5A4B3C2D1E0F",
    "OrderNumber": "PO-00412",
    "Type": "Simple Purchase",
    "OrderDate": "2026-03-02T00:00:00",
    "LastUpdatedDate": "2026-08-28T12:59:44.05",
}


def test_a_good_row_reads_with_its_guid_in_lower_case() -> None:
    row = PurchaseListRow.from_cin7(ROW)
    assert row.id == "3e2b1c0d-9a8b-4c7d-8e6f-5a4b3c2d1e0f"
    assert row.last_updated_raw == "2026-08-28T12:59:44.05"


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("OrderDate", "19/12/2025", "OrderDate: not a Cin7 date: '19/12/2025'"),
        ("LastUpdatedDate", "yesterday", "LastUpdatedDate: not a Cin7 date: 'yesterday'"),
        ("OrderNumber", "PO-" + "9" * 200, "OrderNumber: String should have at most 128"),
        ("ID", "PO-00412", "ID: not a GUID: 'PO-00412'"),
        ("ID", None, "ID: not a GUID"),
    ],
)
def test_a_bad_row_names_the_field(field: str, value: Any, words: str) -> None:
    with pytest.raises(InvalidPayload) as caught:
        PurchaseListRow.from_cin7({**ROW, field: value})
    assert any(words in problem for problem in caught.value.problems), caught.value.problems
    assert not any("Value error" in problem for problem in caught.value.problems)


def test_a_long_bad_value_is_cut_short_in_the_reason() -> None:
    with pytest.raises(InvalidPayload) as caught:
        PurchaseListRow.from_cin7({**ROW, "OrderDate": "x" * 5000})
    assert len(str(caught.value)) < 200


def test_a_detail_with_an_oversized_order_number_does_not_read() -> None:
    with pytest.raises(InvalidPayload, match="OrderNumber"):
        Purchase.from_cin7({"ID": ROW["ID"], "OrderNumber": "P" * 129})
