"""What a sync pass reads from Cin7, as a `Protocol`: `Cin7Source`.

The engine needs three reads and two counters (:class:`Cin7Source`); the mapping suggester
also reads the reference lists (:class:`Cin7ReferenceSource`). Neither needs the HTTP client:
:class:`~ml_connector.cin7.client.Cin7Client` is the implementation that talks to Cin7 Core, and
:class:`ml_connector.testing.FakeCin7` serves a sandbox's documents in memory so the engine runs
in unit tests without HTTP. Both hand back the same models, parsed by the same
``from_cin7`` functions, so a malformed row reaches ``on_invalid`` the same way.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from datetime import datetime
from typing import Any, Protocol

from ml_connector.cin7.models import (
    Account,
    Location,
    PaymentTerm,
    Product,
    PurchaseListRow,
    Supplier,
    TaxRule,
)
from ml_connector.errors import InvalidPayload

__all__ = ["Cin7ReferenceSource", "Cin7Source", "OnInvalid", "Since"]

OnInvalid = Callable[[Mapping[str, Any], InvalidPayload], Awaitable[None] | None]
"""Called with a malformed list row and why, instead of raising; the listing goes on."""

Since = datetime | str | None
"""A listing's lower bound: a datetime, or a raw Cin7 stamp passed through as it came."""


class Cin7Source(Protocol):
    """The Cin7 reads of one sync pass."""

    @property
    def calls(self) -> int:
        """Requests made so far (the engine reports the difference over a pass)."""
        ...

    @property
    def rate_limited(self) -> int:
        """Rate-limit answers received so far, each of which made the pass wait."""
        ...

    def suppliers(
        self,
        modified_since: Since = None,
        include_deprecated: bool = True,
        *,
        on_invalid: OnInvalid | None = None,
    ) -> AsyncIterator[Supplier]:
        """Suppliers modified strictly after ``modified_since``, deprecated ones included."""
        ...

    def purchase_list(
        self,
        updated_since: Since = None,
        *,
        on_invalid: OnInvalid | None = None,
        **filters: str,
    ) -> AsyncIterator[PurchaseListRow]:
        """``purchaseList`` rows updated strictly after ``updated_since``."""
        ...

    async def purchase_json(self, id: str, type: str = "Simple Purchase") -> dict[str, Any]:
        """One purchase's raw detail JSON (Simple or Advanced, routed by the list's ``Type``)."""
        ...


class Cin7ReferenceSource(Cin7Source, Protocol):
    """The Cin7 reads of ``mapping suggest``: the reference lists besides the suppliers."""

    async def accounts(self) -> list[Account]: ...

    def products(
        self,
        modified_since: Since = None,
        include_deprecated: bool = True,
        *,
        on_invalid: OnInvalid | None = None,
    ) -> AsyncIterator[Product]: ...

    async def locations(self) -> list[Location]: ...

    async def tax_rules(self) -> list[TaxRule]: ...

    async def payment_terms(self) -> list[PaymentTerm]: ...
