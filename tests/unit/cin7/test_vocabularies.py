"""Cin7's closed vocabularies are read strictly: a value outside them is a document that does not
read (quarantined by the engine), never a silent default."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ml_connector.cin7.models import Purchase, PurchaseListRow
from ml_connector.errors import InvalidPayload

FIXTURES = Path(__file__).parents[2] / "fixtures"
BASE = json.loads((FIXTURES / "simple_purchase.json").read_text())
ROW = {"ID": BASE["ID"], "OrderNumber": "PO-00412", "LastUpdatedDate": "2026-08-28T12:59:44.05"}

Edit = Callable[[dict[str, Any]], None]


def _set(*path: str | int, value: Any) -> Edit:
    def apply(body: dict[str, Any]) -> None:
        node: Any = body
        for part in path[:-1]:
            node = node[part]
        node[path[-1]] = value

    return apply


def _read(edit: Edit) -> Purchase:
    body = copy.deepcopy(BASE)
    edit(body)
    return Purchase.from_cin7(body)


@pytest.mark.parametrize(
    ("edit", "words"),
    [
        (_set("Approach", value="DROPSHIP"), "Approach: 'DROPSHIP' is not one of INVOICE, STOCK"),
        (_set("Approach", value=""), "Approach: '' is not one of INVOICE, STOCK"),
        (_set("TaxCalculation", value="Sometimes"), "TaxCalculation: 'Sometimes' is not one of"),
        (_set("Type", value="Mystery Purchase"), "Type: 'Mystery Purchase' is not one of"),
        (_set("Order", "Status", value="APPROVED"), "Order.Status: 'APPROVED' is not one of"),
        (_set("Invoice", "Status", value="OK"), "Status: 'OK' is not one of"),
        (_set("StockReceived", "Status", value="DONE"), "StockReceived.Status: 'DONE'"),
        (_set("CreditNote", "Status", value="MAYBE"), "Status: 'MAYBE' is not one of"),
    ],
)
def test_a_value_outside_a_vocabulary_does_not_read(edit: Edit, words: str) -> None:
    with pytest.raises(InvalidPayload) as caught:
        _read(edit)
    assert any(words in problem for problem in caught.value.problems), caught.value.problems


@pytest.mark.parametrize(
    "edit",
    [
        _set("Approach", value="invoice"),
        _set("TaxCalculation", value="INCLUSIVE"),
        _set("Type", value="Service Purchase"),
        _set("Order", "Status", value=""),
        _set("Invoice", "Status", value="PAID"),
        lambda body: body.pop("Approach"),
    ],
)
def test_known_values_read_in_any_case_and_absent_ones_take_the_default(edit: Edit) -> None:
    _read(edit)


def test_the_list_row_supplier_is_a_guid_or_nothing() -> None:
    assert PurchaseListRow.from_cin7({**ROW, "SupplierID": None}).supplier_id is None
    assert PurchaseListRow.from_cin7({**ROW, "SupplierID": ""}).supplier_id is None
    upper = BASE["SupplierID"].upper()
    assert PurchaseListRow.from_cin7({**ROW, "SupplierID": upper}).supplier_id == upper.lower()
    with pytest.raises(InvalidPayload, match="SupplierID: not a GUID"):
        PurchaseListRow.from_cin7({**ROW, "SupplierID": "S" * 90})
