"""The sandbox's own account of every purchase: what QAD should end up holding, by Cin7's books.

`GET /_sandbox/ledger` answers one entry per purchase, computed from the sandbox's records, never
from what the API renders (so planted bad input does not change it):

    {"id", "order_number", "type", "approach", "supplier_id", "currency", "voided",
     "order_status", "ordered": {sku: qty}, "received": {sku: qty},
     "invoices": [{"number", "status", "total", "quantities": {sku: qty}}],
     "non_inventory": [sku, ...],
     "credit_notes": [{"number", "status", "total", "quantities": {sku: qty},
                       "unstock_status", "unstocked": {sku: qty}}],
     "tampered": bool}

`received` is the stock in: the authorised StockReceived block (Simple) or PutAway blocks
(Advanced), less authorised unstock. An invoice's `quantities` are of stocked products only: the
`non_inventory` ones (Service and Non Inventory products) are never received and go to a GL
account. A Service purchase (`type` `Service Purchase`) has charges only and no QAD PO.
Quantities and totals are decimal strings. Benchmarks and crash tests compare this with the QAD
sandbox's state to count losses and duplicates.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from ml_connector.sandbox.cin7.model import (
    AUTHORISED,
    Purchase,
    UnstockLine,
    by_sku,
    ordered,
    received,
)


def _text(quantities: dict[str, Decimal]) -> dict[str, str]:
    return {sku: format(qty.normalize(), "f") for sku, qty in sorted(quantities.items())}


def _unstocked(lines: Iterable[UnstockLine]) -> dict[str, Decimal]:
    out: dict[str, Decimal] = {}
    for line in lines:
        out[line.sku] = out.get(line.sku, Decimal(0)) + line.quantity
    return out


def entry(p: Purchase, *, tampered: bool) -> dict[str, Any]:
    """One purchase's ledger entry."""
    stock = received(p)
    credit_notes = []
    for cn in p.credits:
        unstocked = _unstocked(cn.unstock_lines)
        if cn.unstock_status == AUTHORISED:
            for sku, qty in unstocked.items():
                stock[sku] = stock.get(sku, Decimal(0)) - qty
        credit_notes.append(
            {
                "number": cn.number,
                "status": cn.status,
                "total": str(cn.total_before_tax + cn.tax),
                "quantities": _text(by_sku(cn.lines)),
                "unstock_status": cn.unstock_status,
                "unstocked": _text(unstocked),
            }
        )
    return {
        "id": p.id,
        "order_number": p.order_number,
        "type": p.type,
        "approach": p.approach,
        "supplier_id": p.supplier_id,
        "currency": p.currency,
        "voided": p.voided,
        "order_status": p.order_status,
        "ordered": _text(ordered(p)),
        "received": _text(stock),
        "invoices": [
            {
                "number": inv.invoice_number,
                "status": inv.status,
                "total": str(inv.total),
                "quantities": _text(by_sku([x for x in inv.lines if not x.non_inventory])),
            }
            for inv in p.invoices()
        ],
        "non_inventory": sorted({x.sku for x in p.lines if x.non_inventory}),
        "credit_notes": credit_notes,
        "tampered": tampered,
    }
