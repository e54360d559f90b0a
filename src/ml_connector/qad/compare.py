"""What differs between what the engine wants (a spec) and what QAD holds (a record): pure.

The operations (`qad/operations.py`) read a record, ask here what to change, write only that,
and ask again after a stale or lost write, so an update that already landed is never sent twice.
`None` means "nothing to change". Conflicts are differences no update can fix: the PO number is
taken by another supplier's order.
"""

from __future__ import annotations

from decimal import Decimal

from ml_connector.qad.models import (
    PoHeaderChange,
    PoLine,
    PoLineChange,
    PurchaseOrder,
    PurchaseOrderLineSpec,
    PurchaseOrderSpec,
    Receipt,
    ReceiptSpec,
    Supplier,
    SupplierChange,
    SupplierSpec,
)


def supplier_change(spec: SupplierSpec, held: Supplier) -> SupplierChange | None:
    """Name, currency and credit terms to set on the supplier QAD holds."""
    change = SupplierChange(
        name=spec.name if held.name != spec.name else None,
        currency=spec.currency if held.currency != spec.currency else None,
        credit_terms=spec.credit_terms if held.credit_terms != spec.credit_terms else None,
    )
    return change if change.model_dump(exclude_none=True) else None


def po_header_change(spec: PurchaseOrderSpec, held: PurchaseOrder) -> PoHeaderChange | None:
    """Header fields updated in place: remarks, due date, credit terms (only when the spec has
    them: a PO created without terms keeps the supplier's)."""
    change = PoHeaderChange(
        remarks=spec.remarks if held.remarks != spec.remarks else None,
        due_date=spec.due_date if spec.due_date and held.due_date != spec.due_date else None,
        credit_terms=(
            spec.credit_terms
            if spec.credit_terms and held.credit_terms != spec.credit_terms
            else None
        ),
    )
    return change if change.model_dump(exclude_none=True) else None


def close_change(held: PurchaseOrder) -> PoHeaderChange | None:
    """Close the PO; closing a closed PO changes nothing."""
    return None if held.status == "C" else PoHeaderChange(status="C")


def po_header_conflicts(spec: PurchaseOrderSpec, held: PurchaseOrder) -> list[str]:
    """Differences that cannot be updated: the number is taken by a different order."""
    problems = []
    if held.supplier_code != spec.supplier_code:
        problems.append(f"supplier {held.supplier_code} (want {spec.supplier_code})")
    if held.currency and held.currency != spec.currency:
        problems.append(f"currency {held.currency} (want {spec.currency})")
    return problems


def line_change(
    held: PoLine, line: PurchaseOrderLineSpec, *, reopen: bool = True
) -> PoLineChange | None:
    """Quantity and cost to set on a QAD line so it matches the spec (a closed line reopens)."""
    change = PoLineChange(
        quantity=line.quantity if held.quantity_ordered != line.quantity else None,
        unit_cost=line.unit_cost if held.unit_cost != line.unit_cost else None,
        status="O" if reopen and not held.is_open else None,
    )
    return change if change.model_dump(exclude_none=True) else None


def line_close_change(held: PoLine) -> PoLineChange | None:
    """Close a line the spec no longer has; a closed line stays as it is."""
    return PoLineChange(status="C") if held.is_open else None


# ---- receipts -----------------------------------------------------------------------------------


def received(po: PurchaseOrder) -> dict[int, Decimal]:
    """Received quantity per PO line."""
    return {line.line: line.quantity_received for line in po.lines}


def wanted(spec: ReceiptSpec) -> dict[int, Decimal]:
    """Quantity per PO line that the receipt asks for."""
    totals: dict[int, Decimal] = {}
    for line in spec.lines:
        totals[line.po_line] = totals.get(line.po_line, Decimal(0)) + line.quantity
    return totals


def raised(before: dict[int, Decimal], after: dict[int, Decimal], spec: ReceiptSpec) -> str:
    """'exact': each line rose by the receipt's quantity; 'none': nothing moved; else 'other'."""
    asked = wanted(spec)
    deltas = {n: after.get(n, Decimal(0)) - before.get(n, Decimal(0)) for n in after}
    if all(delta == 0 for delta in deltas.values()):
        return "none"
    if all(deltas.get(n, Decimal(0)) == q for n, q in asked.items()) and all(
        delta == 0 for n, delta in deltas.items() if n not in asked
    ):
        return "exact"
    return "other"


def receipts_cover(receipts: list[Receipt], spec: ReceiptSpec) -> bool:
    """The receivers hold exactly the quantities the receipt asks for."""
    got: dict[int, Decimal] = {}
    for receipt in receipts:
        for done in receipt.lines:
            got[done.po_line] = got.get(done.po_line, Decimal(0)) + done.quantity
    return got == wanted(spec)
