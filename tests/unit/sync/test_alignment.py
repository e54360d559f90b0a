"""Alignment both ways: values with no counterpart on the other side, per kind."""

from __future__ import annotations

from ml_connector.store.models import MappingRow
from ml_connector.sync.alignment import align
from ml_connector.sync.mapping import KINDS, Cin7Ref, Cin7Reference, QadRef, QadReference

CIN7 = Cin7Reference(
    accounts=(Cin7Ref("630", "Inventory"), Cin7Ref("699", "Old", active=False), Cin7Ref("7000")),
    products=(Cin7Ref("WID-100"), Cin7Ref("wid-150")),
    locations=(Cin7Ref("Main Warehouse"),),
    currencies=(Cin7Ref("USD"), Cin7Ref("EUR")),
    suppliers=(Cin7Ref("guid-1", "Acme"), Cin7Ref("guid-2", "Bolt")),
)
QAD = QadReference(
    gl_accounts=(QadRef("630"), QadRef("720"), QadRef("999", active=False)),
    items=(QadRef("WID-100"), QadRef("WID-150")),
    sites=(QadRef("10-100"), QadRef("10-200")),
    currencies=(QadRef("USD"), QadRef("EUR"), QadRef("GBP")),
    suppliers=(QadRef("ACME01"), QadRef("ZED99")),
)
ROWS = [
    MappingRow("account", "630", "630"),
    MappingRow("account", "7000", "7777"),  # points at a code QAD does not hold
    MappingRow("item", "WID-100", "WID-100"),
    MappingRow("item", "WID-150", "WID-150"),  # Cin7 holds it as wid-150: case is ignored
    MappingRow("location", " main warehouse ", "10-100"),
    MappingRow("currency", "USD", "USD"),
    MappingRow("currency", "EUR", "EUR"),
]


def test_each_side_lists_what_has_no_counterpart() -> None:
    report = align(CIN7, QAD, ROWS, created_suppliers={"guid-1": "ACME01"})
    assert report.to_json() == {
        "cin7_only": {
            "account": ["7000"],
            "item": [],
            "supplier": ["guid-2"],
            "location": [],
            "payment_term": [],
            "tax_rule": [],
            "currency": [],
        },
        "qad_only": {
            "account": ["720"],
            "item": [],
            "supplier": ["ZED99"],
            "location": ["10-200"],
            "payment_term": [],
            "tax_rule": [],
            "currency": ["GBP"],
        },
    }
    assert not report.aligned
    assert list(report.to_json()["cin7_only"]) == list(KINDS)


def test_a_mapping_wins_over_a_created_supplier_and_inactive_values_need_no_partner() -> None:
    report = align(
        Cin7Reference(suppliers=(Cin7Ref("guid-1", "Acme"),)),
        QadReference(suppliers=(QadRef("ACME01"), QadRef("OLD", active=False))),
        [MappingRow("supplier", "GUID-1", "ACME01")],
        created_suppliers={"guid-1": "OTHER"},
    )
    assert report.aligned
    assert report.csv_rows() == []


def test_csv_rows_name_the_side_and_kind() -> None:
    report = align(CIN7, QAD, ROWS)
    assert report.csv_rows()[:2] == [
        ("cin7_only", "account", "7000"),
        ("cin7_only", "supplier", "guid-1"),
    ]
    assert ("qad_only", "currency", "GBP") in report.csv_rows()
