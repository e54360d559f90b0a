"""What the planner reads besides the Cin7 purchase: cross-references, QAD's state, the tenant.

All three are plain frozen values built by the engine before calling `plan`; none does I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from types import MappingProxyType
from typing import Any

from ml_connector.sync.amounts import RoundingMode
from ml_connector.vocab import MAPPING_KINDS, MappingKind

KIND_WORDS: Mapping[MappingKind, str] = MappingProxyType(
    {
        "account": "account",
        "item": "item",
        "supplier": "supplier",
        "location": "location",
        "payment_term": "payment term",
        "tax_rule": "tax rule",
        "currency": "currency",
    }
)


def fold(value: str) -> str:
    """Cin7 values (GUIDs, SKUs, names, codes) compare trimmed and case-insensitively."""
    return value.strip().casefold()


@dataclass(frozen=True)
class Mappings:
    """Cross-references Cin7 value → QAD value, one table per kind.

    Keys are Cin7 values: account codes, SKUs, supplier IDs, location names, payment-term names,
    tax-rule names and currency codes. Lookups ignore case and surrounding spaces. `labels`
    optionally names Cin7 values for messages, e.g. `{"account": {"425": "Freight & Courier"}}`
    makes a missing account read `account 425 (Freight & Courier)`.

    >>> Mappings(item={"WID-100": "W100"}).lookup("item", " wid-100 ")
    'W100'
    """

    account: Mapping[str, str] = field(default_factory=dict)
    item: Mapping[str, str] = field(default_factory=dict)
    supplier: Mapping[str, str] = field(default_factory=dict)
    location: Mapping[str, str] = field(default_factory=dict)
    payment_term: Mapping[str, str] = field(default_factory=dict)
    tax_rule: Mapping[str, str] = field(default_factory=dict)
    currency: Mapping[str, str] = field(default_factory=dict)
    labels: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    _index: Mapping[str, Mapping[str, str]] = field(
        init=False, repr=False, compare=False, default_factory=dict
    )
    _label_index: Mapping[str, Mapping[str, str]] = field(
        init=False, repr=False, compare=False, default_factory=dict
    )

    def __post_init__(self) -> None:
        index = {
            kind: {fold(k): v.strip() for k, v in getattr(self, kind).items() if v and v.strip()}
            for kind in MAPPING_KINDS
        }
        labels = {
            kind: {fold(k): v for k, v in table.items()} for kind, table in self.labels.items()
        }
        object.__setattr__(self, "_index", index)
        object.__setattr__(self, "_label_index", labels)

    @classmethod
    def from_rows(
        cls,
        rows: Iterable[tuple[MappingKind, str, str]],
        labels: Mapping[str, Mapping[str, str]] | None = None,
    ) -> Mappings:
        """Build from `(kind, cin7_value, qad_value)` rows, e.g. read from the store."""
        tables: dict[str, dict[str, str]] = {kind: {} for kind in MAPPING_KINDS}
        for kind, cin7_value, qad_value in rows:
            tables[kind][cin7_value] = qad_value
        return cls(**tables, labels=dict(labels or {}))

    def lookup(self, kind: MappingKind, cin7_value: str) -> str | None:
        """The QAD value mapped to `cin7_value`, or None (blank values are never mapped)."""
        if not cin7_value.strip():
            return None
        return self._index[kind].get(fold(cin7_value))

    def label(self, kind: MappingKind, cin7_value: str) -> str | None:
        return self._label_index.get(kind, {}).get(fold(cin7_value))


@dataclass(frozen=True)
class Posted:
    """One document QAD holds, as the engine recorded it after executing an action.

    `details` is JSON-able (decimals as strings) and is exactly `action.posted_details(qad_id)`
    of the action that produced it; its shape per action kind is documented on each action.
    """

    qad_id: str
    details: Mapping[str, Any] = field(default_factory=dict)


PostedState = Mapping[str, Posted]
"""Natural key → what QAD holds for it: the purchase's own documents plus the shared
`supplier:<cin7 id>` and `item:<SKU>` entries it uses (see `plan.shared_keys`)."""


@dataclass(frozen=True)
class PlanContext:
    """The tenant side of one connection, fixed for a planning pass.

    - `default_site`: QAD site when the purchase names no Cin7 location.
    - `create_missing_items`: plan `EnsureItem` for unmapped SKUs instead of blocking; new items
      take `item_gl_account` (QAD GL code) or the mapped purchase `InventoryAccount`, and
      `item_uom`.
    - `default_credit_terms`: QAD credit terms for a new supplier whose Cin7 record has no
      payment term.
    - `price_decimals`: unit costs and unit prices are rounded half-up to this many places.
    - `over_receipt_pct`: how far, in percent of the ordered quantity, Cin7 may receive more
      than ordered; beyond it the purchase needs attention and nothing is posted (default 0).
    - `price_tolerance_pct`, `price_tolerance_amount`: how far an invoice's unit price may be
      from its PO line's unit cost, in percent of the PO price or in currency a unit (the more
      lenient wins); within it the invoice posts with the variance recorded, beyond it the
      invoice needs attention (both default 0: prices must agree).
    - `rounding`: how amounts round to their currency's decimals (`amounts.MoneyRule`); the
      reconcile reports with the same rule.
    - `cutover`: the connection's cut-over date (`--since`): a purchase ordered before it,
      whose PO QAD does not hold, creates nothing (see `plan`). `cutover_released`: a person
      posted this purchase from the go-live worklist, so the cut-over no longer holds it back
      (the engine sets it per purchase with `dataclasses.replace`).
    """

    domain: str
    entity: str
    default_site: str | None = None
    create_missing_items: bool = False
    item_gl_account: str | None = None
    item_uom: str = "EA"
    default_credit_terms: str | None = None
    price_decimals: int = 4
    over_receipt_pct: Decimal = Decimal(0)
    price_tolerance_pct: Decimal = Decimal(0)
    price_tolerance_amount: Decimal = Decimal(0)
    rounding: RoundingMode = "half-up"
    cutover: date | None = None
    cutover_released: bool = False
