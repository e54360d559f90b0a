"""Line arithmetic, the one money rounding rule, and number formatting.

Cin7's line math (reference §7): a line's `Total` is Quantity x Price x (1 - Discount/100),
before tax when `TaxCalculation` is Exclusive; `TotalBeforeTax` is the sum of line and charge
totals; `Total` is `TotalBeforeTax + Tax`. Messages print quantities without trailing zeros and
money with the currency's decimals, the way a finance user reads them.

**One rounding rule** (`MoneyRule`): an amount is rounded to its currency's decimals (ISO 4217
minor units: JPY 0, USD 2, KWD 3) half up, unless the tenant's profile names another mode
(`half-even`, banker's rounding). The planner rounds what it posts with it and the reconcile
rounds what it reports with it, so Cin7's 547.665 is posted as 547.67 and reported as 547.67.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_DOWN, ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
from types import MappingProxyType
from typing import Literal

CENT = Decimal("0.01")
HUNDRED = Decimal(100)
ZERO = Decimal(0)

RoundingMode = Literal["half-up", "half-even", "half-down"]
ROUNDING_MODES: MappingProxyType[str, str] = MappingProxyType(
    {"half-up": ROUND_HALF_UP, "half-even": ROUND_HALF_EVEN, "half-down": ROUND_HALF_DOWN}
)

# ISO 4217 minor units that are not 2 (2025 list); every other code has 2 decimals.
_MINOR_UNITS: MappingProxyType[str, int] = MappingProxyType(
    {
        code: places
        for places, codes in (
            (0, "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF"),
            (3, "BHD IQD JOD KWD LYD OMR TND"),
            (4, "CLF UYW"),
        )
        for code in codes.split()
    }
)


def currency_decimals(currency: str) -> int:
    """Decimals of an amount in `currency` (ISO 4217 minor units; 2 when unknown)."""
    return _MINOR_UNITS.get(currency.strip().upper(), 2)


@dataclass(frozen=True)
class MoneyRule:
    """How amounts are rounded for one tenant: to the currency's decimals, with `mode`.

    >>> MoneyRule().round(Decimal("547.665"), "USD")
    Decimal('547.67')
    >>> MoneyRule("half-even").round(Decimal("547.665"), "USD")
    Decimal('547.66')
    >>> MoneyRule().round(Decimal("1234.5"), "JPY")
    Decimal('1235')
    """

    mode: RoundingMode = "half-up"

    def __post_init__(self) -> None:
        if self.mode not in ROUNDING_MODES:
            raise ValueError(
                f"rounding must be one of {', '.join(ROUNDING_MODES)}, not {self.mode!r}"
            )

    def round(self, value: Decimal, currency: str = "") -> Decimal:
        places = Decimal(1).scaleb(-currency_decimals(currency))
        return value.quantize(places, rounding=ROUNDING_MODES[self.mode])

    def text(self, value: Decimal, currency: str = "") -> str:
        """The rounded amount as a plain decimal string (`547.67`, never `-0.00`)."""
        rounded = self.round(value, currency)
        return format(abs(rounded) if rounded == 0 else rounded, "f")


HALF_UP = MoneyRule()


def extended(quantity: Decimal, price: Decimal, discount: Decimal) -> Decimal:
    """Quantity x Price x (1 - Discount/100), unrounded."""
    return quantity * price * (HUNDRED - discount) / HUNDRED


def quantize(value: Decimal, places: int) -> Decimal:
    """Round half up to `places` decimals."""
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def money(value: Decimal) -> Decimal:
    """Round half up to cents."""
    return HALF_UP.round(value)


def fmt_qty(value: Decimal) -> str:
    """`10`, `2.5`, `-3`: no exponent, no trailing zeros."""
    text = format(value.normalize(), "f")
    return "0" if text == "-0" else text


def fmt_money(value: Decimal) -> str:
    """`125.00` (never `-0.00`)."""
    return HALF_UP.text(value)


def fmt_price(value: Decimal) -> str:
    """Two decimals when that is exact (`12.50`), otherwise every significant digit."""
    return fmt_money(value) if value == money(value) else fmt_qty(value)
