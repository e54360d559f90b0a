"""Line arithmetic and number formatting shared by the planner's checks and its actions.

Cin7's line math (reference §7): a line's `Total` is Quantity x Price x (1 - Discount/100),
before tax when `TaxCalculation` is Exclusive; `TotalBeforeTax` is the sum of line and charge
totals; `Total` is `TotalBeforeTax + Tax`. Messages print quantities without trailing zeros and
money with two decimals, the way a finance user reads them.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
HUNDRED = Decimal(100)
ZERO = Decimal(0)


def extended(quantity: Decimal, price: Decimal, discount: Decimal) -> Decimal:
    """Quantity x Price x (1 - Discount/100), unrounded."""
    return quantity * price * (HUNDRED - discount) / HUNDRED


def quantize(value: Decimal, places: int) -> Decimal:
    """Round half up to `places` decimals."""
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def money(value: Decimal) -> Decimal:
    """Round half up to cents."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def fmt_qty(value: Decimal) -> str:
    """`10`, `2.5`, `-3`: no exponent, no trailing zeros."""
    text = format(value.normalize(), "f")
    return "0" if text == "-0" else text


def fmt_money(value: Decimal) -> str:
    """`125.00` (never `-0.00`)."""
    rounded = money(value)
    return format(abs(rounded) if rounded == 0 else rounded, "f")


def fmt_price(value: Decimal) -> str:
    """Two decimals when that is exact (`12.50`), otherwise every significant digit."""
    return fmt_money(value) if value == money(value) else fmt_qty(value)
