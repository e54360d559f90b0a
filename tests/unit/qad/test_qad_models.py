"""Specs refuse what QAD would truncate or refuse; records read QAD's loose JSON safely."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from pydantic import ValidationError

from ml_connector.qad import PurchaseOrderLineSpec, PurchaseOrderSpec, ReceiptSpec, SupplierSpec
from ml_connector.qad.rest.records import date_of, dec, num, parse_po


def _line(n: int) -> PurchaseOrderLineSpec:
    return PurchaseOrderLineSpec(
        line=n, item_code="WID-100", quantity=Decimal(1), unit_cost=Decimal(1)
    )


@pytest.mark.parametrize("number", ["", "TOOLONG99", " PO1", "PO1 "])
def test_po_number_must_fit_qad(number: str) -> None:
    with pytest.raises(ValidationError):
        PurchaseOrderSpec(
            number=number, supplier_code="S1", currency="USD", order_date=dt.date(2026, 1, 1)
        )


def test_po_lines_must_be_unique_and_remarks_short() -> None:
    with pytest.raises(ValidationError, match="unique"):
        PurchaseOrderSpec(
            number="PO1",
            supplier_code="S1",
            currency="USD",
            order_date=dt.date(2026, 1, 1),
            lines=[_line(1), _line(1)],
        )
    with pytest.raises(ValidationError):
        PurchaseOrderSpec(
            number="PO1",
            supplier_code="S1",
            currency="USD",
            order_date=dt.date(2026, 1, 1),
            remarks="x" * 41,
        )


def test_receipt_lines_from_pairs_and_not_zero() -> None:
    spec = ReceiptSpec(
        po_number="PO1",
        packing_slip="PS",
        effective_date=dt.date(2026, 1, 1),
        lines=[(1, "2.5"), (2, -1)],
    )
    assert [(ln.po_line, ln.quantity) for ln in spec.lines] == [(1, Decimal("2.5")), (2, -1)]
    with pytest.raises(ValidationError, match="zero"):
        ReceiptSpec(
            po_number="PO1", packing_slip="PS", effective_date=dt.date(2026, 1, 1), lines=[(1, 0)]
        )
    with pytest.raises(ValidationError):
        ReceiptSpec(
            po_number="PO1",
            packing_slip="P" * 21,
            effective_date=dt.date(2026, 1, 1),
            lines=[(1, 1)],
        )


def test_supplier_code_fits_qad_and_relation_defaults_to_it() -> None:
    with pytest.raises(ValidationError):
        SupplierSpec(code="S12345678", name="x", currency="USD", credit_terms="N30")
    spec = SupplierSpec(code="S1", name="x", currency="USD", credit_terms="N30")
    assert spec.relation_code == "S1"


def test_loose_json_values() -> None:
    assert dec("1.50") == Decimal("1.50")
    assert dec(None) == dec("") == dec("abc") == Decimal(0)
    assert num(Decimal("10.0")) == 10
    assert isinstance(num(Decimal("10.0")), int)
    assert num(Decimal("2.5")) == 2.5
    assert date_of("2026-01-31T00:00:00.000Z") == dt.date(2026, 1, 31)
    assert date_of("garbage") is None
    assert date_of(None) is None
    po = parse_po(
        {
            "purchaseOrderNumber": "P1",
            "lines": [
                {"purchaseOrderLine": 2, "quantityOrdered": "5"},
                {"purchaseOrderLine": 1},
                "junk",
            ],
        }
    )
    assert [ln.line for ln in po.lines] == [1, 2]
    assert po.status == "O"
