"""The go-live look-ups of `QadOperations` over the in-memory fake channel: what finance keyed
by hand is found (PO by number, receipt by received quantity per line, invoice by supplier +
reference + PO), and a receipt QAD holds in part is a conflict with both figures."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from qad_fakes import no_sleep, po_spec, receipt_spec, supplier_spec

from ml_connector.qad import InvoiceSpec, MatchLine, PurchaseOrderSpec, QadOperations
from ml_connector.qad.fake import FakeQadChannel


def _invoice(po: PurchaseOrderSpec, reference: str) -> InvoiceSpec:
    matching = [
        MatchLine(
            po_number=po.number, po_line=ln.line, quantity=ln.quantity, unit_price=ln.unit_cost
        )
        for ln in po.lines
    ]
    return InvoiceSpec(
        supplier_code=po.supplier_code,
        reference=reference,
        invoice_date=dt.date(2026, 3, 12),
        currency="USD",
        amount=sum((m.quantity * m.unit_price for m in matching), Decimal(0)),
        po_numbers=[po.number],
        matching=matching,
    )


@pytest.fixture
def qad() -> QadOperations:
    return QadOperations(FakeQadChannel(), sleep=no_sleep)


async def _keyed_po(qad: QadOperations, number: str = "PO-1") -> PurchaseOrderSpec:
    await qad.ensure_supplier(supplier_spec())
    spec: PurchaseOrderSpec = po_spec(number, lines=2)
    await qad.ensure_purchase_order(spec)
    return spec


async def test_a_po_is_found_by_its_number_with_its_lines(qad: QadOperations) -> None:
    assert await qad.adoptable_purchase_order("PO-1") is None
    spec = await _keyed_po(qad)

    found = await qad.adoptable_purchase_order("PO-1")

    assert found is not None
    assert found.qad_id == "PO-1"
    assert found.conflict is None
    assert [line["line"] for line in found.found["lines"]] == [ln.line for ln in spec.lines]


async def test_a_receipt_is_adopted_up_to_what_qad_received_beyond_our_own(
    qad: QadOperations,
) -> None:
    spec = await _keyed_po(qad)
    await qad.post_receipt_once(receipt_spec(spec, "BY-HAND", fraction=2))  # half, by hand
    halves = {line.line: line.quantity / 2 for line in spec.lines}

    adopted = await qad.adoptable_receipt("PO-1", halves, {})
    assert adopted is not None
    assert adopted.qad_id
    assert adopted.conflict is None

    # once that half is recorded as ours, the other half is not in QAD: post it
    assert await qad.adoptable_receipt("PO-1", halves, halves) is None


async def test_a_receipt_qad_holds_in_part_is_a_conflict_with_both_figures(
    qad: QadOperations,
) -> None:
    spec = await _keyed_po(qad)
    await qad.post_receipt_once(receipt_spec(spec, "BY-HAND", fraction=2))
    full = {line.line: line.quantity for line in spec.lines}

    found = await qad.adoptable_receipt("PO-1", full, {})

    assert found is not None
    assert found.qad_id is None
    assert found.conflict is not None
    first = spec.lines[0]
    assert (
        f"line {first.line}: received in QAD by hand {first.quantity / 2}, "
        f"this Cin7 receipt {first.quantity}"
    ) in found.conflict


async def test_a_part_of_our_own_receipt_in_qad_is_not_called_keyed_by_hand(
    qad: QadOperations,
) -> None:
    spec = await _keyed_po(qad)
    await qad.post_receipt_once(receipt_spec(spec, "OURS-LOST", fraction=2))
    full = {line.line: line.quantity for line in spec.lines}

    found = await qad.adoptable_receipt("PO-1", full, {}, ours=True)

    assert found is not None
    assert found.qad_id is None
    assert found.conflict is not None
    assert "by hand" not in found.conflict
    first = spec.lines[0]
    assert (
        f"line {first.line}: received in QAD beyond what ml-connector recorded "
        f"{first.quantity / 2}, this Cin7 receipt {first.quantity}"
    ) in found.conflict


async def test_an_invoice_is_found_by_supplier_reference_and_po(qad: QadOperations) -> None:
    spec = await _keyed_po(qad)
    other = await _keyed_po(qad, "PO-2")
    await qad.post_receipt_once(receipt_spec(spec, "BY-HAND"))
    await qad.ensure_supplier_invoice(_invoice(spec, "INV-9"))

    found = await qad.adoptable_invoice(spec.supplier_code, "INV-9", "Invoice", "PO-1")

    assert found is not None
    assert found.found["reference"] == "INV-9"
    assert found.found["amount"] == str(_invoice(spec, "INV-9").amount)
    # the same reference on another PO is another document (the reference alone is not unique)
    assert await qad.adoptable_invoice(spec.supplier_code, "INV-9", "Invoice", other.number) is None
    assert await qad.adoptable_invoice(spec.supplier_code, "INV-8", "Invoice", "PO-1") is None
    assert Decimal(found.found["amount"]) > 0
