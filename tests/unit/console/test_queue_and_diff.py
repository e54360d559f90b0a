"""Pure parts of the console's use cases: reading missing mappings, grouping, diffs, trails."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ml_connector.errors import ConfigError
from ml_connector.store.models import Record
from ml_connector.usecases.error_queue import MissingMapping, group_records, missing_mappings
from ml_connector.usecases.records import diff_payloads, parse_statuses
from ml_connector.web.forms import parse_day

NOW = datetime(2026, 12, 1, tzinfo=UTC)


def _record(rid: int, status: str, reason: str | None, supplier: str | None = "s1") -> Record:
    return Record(
        id=rid,
        connection_id=1,
        kind="purchase",
        cin7_id=f"c{rid}",
        reference=f"PO-{rid:05}",
        supplier_id=supplier,
        status=status,  # type: ignore[arg-type]
        reason=reason,
        latest_version=1,
        posted_version=None,
        month="2026-12",
        amounts={},
        status_since=NOW,
        created_at=NOW,
        updated_at=NOW,
    )


@pytest.mark.parametrize(
    ("reason", "expected"),
    [
        ("missing item MTR-0.75KW", [MissingMapping("item", "MTR-0.75KW")]),
        (
            "missing account 6100 (Freight); missing tax rule GST on Imports",
            [
                MissingMapping("account", "6100", "Freight"),
                MissingMapping("tax_rule", "GST on Imports"),
            ],
        ),
        (
            "missing payment term 30 days (Net 30)",
            [MissingMapping("payment_term", "30 days", "Net 30")],
        ),
        ("missing currency CAD; missing currency CAD", [MissingMapping("currency", "CAD")]),
        ("WID-100: invoiced 10, received in QAD 6", []),
        ("missing gadget X", []),
        (None, []),
    ],
)
def test_missing_mappings_are_read_back_from_the_planners_words(
    reason: str | None, expected: list[MissingMapping]
) -> None:
    assert missing_mappings(reason) == expected


def test_blocked_records_group_per_missing_mapping_others_per_reason() -> None:
    records = [
        _record(1, "blocked", "missing item A; missing account 6100 (Freight)"),
        _record(2, "blocked", "missing item A"),
        _record(3, "failed", "qad: currency ZZZ is unknown"),
        _record(4, "failed", "qad: currency ZZZ is unknown"),
        _record(5, "attention", "over-received"),
        _record(6, "blocked", "missing supplier Acme Ltd (not found in Cin7)", supplier="sup-9"),
    ]

    groups = {g.title: g for g in group_records(records)}

    assert [r.id for r in groups["Missing item A"].records] == [1, 2]
    assert [r.id for r in groups["Missing account 6100 (Freight)"].records] == [1]
    assert [r.id for r in groups["qad: currency ZZZ is unknown"].records] == [3, 4]
    assert groups["qad: currency ZZZ is unknown"].mapping is None
    assert groups["over-received"].status == "attention"
    supplier = next(g for g in groups.values() if g.mapping and g.mapping.kind == "supplier")
    assert supplier.mapping == MissingMapping("supplier", "sup-9", "Acme Ltd")
    biggest = group_records(records)[0]
    assert len(biggest.records) == 2
    assert len({g.key for g in groups.values()}) == len(groups)


def test_diffs_name_each_changed_added_and_removed_leaf() -> None:
    before = {"Order": {"Lines": [{"SKU": "A", "Quantity": 10}], "Memo": "x"}, "Gone": 1}
    after = {"Order": {"Lines": [{"SKU": "A", "Quantity": 15}, {"SKU": "B", "Quantity": 1}]}}

    changes = {c.path: (c.kind, c.before, c.after) for c in diff_payloads(before, after)}

    assert changes == {
        "Order.Lines[0].Quantity": ("changed", 10, 15),
        "Order.Lines[1].SKU": ("added", None, "B"),
        "Order.Lines[1].Quantity": ("added", None, 1),
        "Order.Memo": ("removed", "x", None),
        "Gone": ("removed", 1, None),
    }
    assert diff_payloads(before, before) == []


def test_statuses_and_days_from_forms() -> None:
    assert parse_statuses(["held", "", "held", "failed"]) == ("held", "failed")
    with pytest.raises(ConfigError, match="unknown status"):
        parse_statuses(["lost"])
    assert parse_day(" 2026-12-01 ", "from") == datetime(2026, 12, 1).date()
    assert parse_day("", "from") is None
    with pytest.raises(ConfigError, match="2026-12-01"):
        parse_day("1/12/2026", "to")
