"""Input checks of meaning that keep bad numbers and mismatched documents out of QAD (issue 8)."""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from ml_connector.cin7.models import Purchase
from ml_connector.sync.checks import (
    QUANTITY_PLACES,
    check_against_row,
    check_purchase,
    decimals,
)

FIXTURES = Path(__file__).parents[2] / "fixtures"
BASE: dict[str, Any] = json.loads((FIXTURES / "simple_purchase.json").read_text())
ID, ORDER, SUPPLIER = BASE["ID"], BASE["OrderNumber"], BASE["SupplierID"]


def _purchase(**changes: Any) -> Purchase:
    body = copy.deepcopy(BASE)
    body.update(changes)
    return Purchase.from_cin7(body)


@pytest.mark.parametrize(
    ("value", "places"),
    [("10", 0), ("10.0000", 0), ("2.50", 1), ("0.0001", 4), ("10.00001", 5), ("1E+2", 0)],
)
def test_decimals_counts_significant_places(value: str, places: int) -> None:
    assert decimals(Decimal(value)) == places


@pytest.mark.parametrize(
    ("path", "where"),
    [
        (("Order", "Lines", 0), "line 1"),
        (("StockReceived", "Lines", 0), "receipt"),
        (("Invoice", "Lines", 0), "invoice"),
    ],
)
def test_a_quantity_with_more_decimals_than_cin7_keeps_fails(
    path: tuple[str, str, int], where: str
) -> None:
    body = copy.deepcopy(BASE)
    body[path[0]][path[1]][path[2]]["Quantity"] = 10.00001
    problems = check_purchase(Purchase.from_cin7(body), None)
    wanted = f"quantity 10.00001 has more than {QUANTITY_PLACES} decimals"
    assert any(p.startswith(where) and wanted in p for p in problems), problems


def test_four_decimals_are_fine() -> None:
    body = copy.deepcopy(BASE)
    line = body["StockReceived"]["Lines"][0]
    line["Quantity"] = Decimal(str(line["Quantity"])) + Decimal("0.0000")
    assert not any("decimals" in p for p in check_purchase(Purchase.from_cin7(body), None))


def test_a_negative_charge_price_fails_even_when_its_total_agrees() -> None:
    body = copy.deepcopy(BASE)
    charge = body["Order"]["AdditionalCharges"][0]
    charge.update(Price=-30, Total=-30)
    problems = check_purchase(Purchase.from_cin7(body), None)
    assert "charge 1 (Freight): price is negative (-30)" in problems


def test_a_detail_that_agrees_with_its_row_passes() -> None:
    assert check_against_row(_purchase(), ID.upper(), ORDER, SUPPLIER) == []
    assert check_against_row(_purchase(), ID, ORDER, None) == []
    assert check_against_row(_purchase(OrderNumber=""), ID, ORDER, SUPPLIER) == []


def test_a_detail_of_another_purchase_order_or_supplier_fails() -> None:
    other = "0f0e0d0c-0b0a-4908-8706-050403020100"
    assert check_against_row(_purchase(ID=other), ID, ORDER, SUPPLIER) == [
        f"Cin7 answered with purchase {other} when asked for {ID}"
    ]
    assert check_against_row(_purchase(OrderNumber="PO-99999"), ID, ORDER, SUPPLIER) == [
        f"the document's OrderNumber PO-99999 is not the list's {ORDER}"
    ]
    assert check_against_row(_purchase(SupplierID=other), ID, ORDER, SUPPLIER) == [
        f"the document's supplier {other} is not the list's {SUPPLIER}"
    ]
