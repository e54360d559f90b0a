"""Month-end figures kept on each purchase record: what finance reconciles AP against.

Per currency (the supplier's): `invoiced` in Cin7 (authorised or paid invoices), `posted` to QAD
(invoices less credit notes, as posted), `held` (invoiced, waiting for goods receipts in QAD) and
`received` value in QAD (received quantity x PO unit cost). The store sums them per supplier.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from ml_connector.cin7.models import Purchase
from ml_connector.sync.inputs import Posted

_BILLED = ("AUTHORISED", "PAID")


def _dec(value: Any) -> Decimal:
    try:
        return Decimal(str(value or 0))
    except ArithmeticError:
        return Decimal(0)


def record_amounts(
    purchase: Purchase, posted: Mapping[str, Posted], status: str
) -> dict[str, dict[str, str]]:
    """The four measures for one purchase, as decimal strings keyed by currency."""
    currency = purchase.currency or purchase.base_currency or "?"
    invoiced = sum(
        (inv.total or Decimal(0) for inv in purchase.invoices if inv.status in _BILLED),
        Decimal(0),
    )
    posted_amount = Decimal(0)
    received = Decimal(0)
    unit_costs: dict[int, Decimal] = {}
    po = posted.get(f"po:{purchase.order_number.strip()}")
    if po is not None:
        for line in po.details.get("lines", []):
            unit_costs[int(line.get("line", 0))] = _dec(line.get("unit_cost"))
    for key, entry in posted.items():
        if key.startswith("invoice:"):
            posted_amount += _dec(entry.details.get("amount"))
        elif key.startswith("credit:"):
            posted_amount -= _dec(entry.details.get("amount"))
        elif key.startswith(("receipt:", "unstock:")) and key.split(":")[1] == (
            purchase.order_number.strip()
        ):
            for line in entry.details.get("lines", []):
                line_no = int(line.get("line", 0))
                received += _dec(line.get("quantity")) * unit_costs.get(line_no, Decimal(0))
    held = max(invoiced - posted_amount, Decimal(0)) if status == "held" else Decimal(0)
    return {
        "invoiced": {currency: _fmt(invoiced)},
        "posted": {currency: _fmt(posted_amount)},
        "held": {currency: _fmt(held)},
        "received": {currency: _fmt(received)},
    }


def _fmt(value: Decimal) -> str:
    return format(value.quantize(Decimal("0.01")), "f")
