"""What differs between a spec and the record QAD holds: the pure half of the operations."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from qad_fakes import po_spec, receipt_spec, supplier_spec

from ml_connector.qad import (
    PoHeaderChange,
    PoLine,
    PoLineChange,
    PurchaseOrder,
    Receipt,
    ReceiptLine,
    Supplier,
    SupplierChange,
    compare,
)


def _held_supplier(**overrides: object) -> Supplier:
    values: dict[str, object] = {
        "code": "S1001",
        "name": "Acme Fasteners",
        "currency": "USD",
        "credit_terms": "N30",
    }
    values.update(overrides)
    return Supplier.model_validate(values)


def _line(n: int, item: str, qty: str, cost: str, status: str = "O") -> PoLine:
    return PoLine(
        line=n,
        item_code=item,
        quantity_ordered=Decimal(qty),
        quantity_received=Decimal(0),
        quantity_invoiced=Decimal(0),
        unit_cost=Decimal(cost),
        gl_account="",
        status=status,
    )


def test_supplier_change_names_only_what_differs() -> None:
    assert compare.supplier_change(supplier_spec(), _held_supplier()) is None
    assert compare.supplier_change(
        supplier_spec(name="Renamed", credit_terms="N60"), _held_supplier()
    ) == SupplierChange(name="Renamed", credit_terms="N60")


def test_po_header_change_leaves_out_what_the_spec_does_not_set() -> None:
    spec = po_spec("CN000001", lines=1)
    held = PurchaseOrder(
        number="CN000001",
        supplier_code="S1001",
        currency="USD",
        status="O",
        remarks=spec.remarks,
        credit_terms="N30",
        due_date=spec.due_date,
    )
    assert compare.po_header_change(spec, held) is None  # no terms in the spec: keep QAD's
    later = spec.model_copy(update={"due_date": dt.date(2026, 4, 1), "remarks": "moved"})
    assert compare.po_header_change(later, held) == PoHeaderChange(
        remarks="moved", due_date=dt.date(2026, 4, 1)
    )
    assert compare.close_change(held) == PoHeaderChange(status="C")
    assert compare.close_change(held.model_copy(update={"status": "C"})) is None


def test_po_header_conflicts_name_the_other_order() -> None:
    spec = po_spec("CN000002", lines=1)
    other = PurchaseOrder(number="CN000002", supplier_code="S2002", currency="EUR", status="O")
    assert compare.po_header_conflicts(spec, other) == [
        "supplier S2002 (want S1001)",
        "currency EUR (want USD)",
    ]
    blank_currency = other.model_copy(update={"supplier_code": "S1001", "currency": ""})
    assert compare.po_header_conflicts(spec, blank_currency) == []


def test_line_change_updates_quantity_and_cost_and_reopens_a_closed_line() -> None:
    [line] = po_spec("CN000003", lines=1).lines
    same = _line(1, line.item_code, str(line.quantity), str(line.unit_cost))
    assert compare.line_change(same, line) is None
    closed = same.model_copy(update={"status": "C", "quantity_ordered": Decimal(1)})
    assert compare.line_change(closed, line) == PoLineChange(quantity=line.quantity, status="O")
    assert compare.line_change(closed, line, reopen=False) == PoLineChange(quantity=line.quantity)
    assert compare.line_close_change(same) == PoLineChange(status="C")
    assert compare.line_close_change(closed) is None


def test_received_quantities_rose_exactly_not_at_all_or_otherwise() -> None:
    spec = po_spec("CN000004", lines=2)
    receipt = receipt_spec(spec)
    before = {1: Decimal(0), 2: Decimal(0)}
    assert compare.raised(before, before, receipt) == "none"
    exact = {1: Decimal(10), 2: Decimal(20)}
    assert compare.raised(before, exact, receipt) == "exact"
    assert compare.raised(before, {1: Decimal(10), 2: Decimal(5)}, receipt) == "other"


def test_receipts_cover_sums_every_receiver_of_the_slip() -> None:
    spec = po_spec("CN000005", lines=2)
    receipt = receipt_spec(spec)
    halves = [
        Receipt(
            receiver_number=f"RC{n}",
            po_number=spec.number,
            packing_slip=receipt.packing_slip,
            lines=[
                ReceiptLine(po_line=1, quantity=Decimal(5)),
                ReceiptLine(po_line=2, quantity=Decimal(10)),
            ],
        )
        for n in (1, 2)
    ]
    assert compare.receipts_cover(halves, receipt)
    assert not compare.receipts_cover(halves[:1], receipt)
