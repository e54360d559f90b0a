"""Doubles that ship with ml-connector, for its own tests and for code built on it.

- :class:`MemoryStore`: every store verb over dicts, with the same contract as the SQL store
  (see :mod:`ml_connector.store.memory`).
- :class:`FakeClock`: virtual time for anything that takes a clock and a sleep.
- :class:`FakeCin7`: the Cin7 reads of a sync pass (:class:`~ml_connector.cin7.source.Cin7Source`)
  served from a Cin7 sandbox's state in memory: no HTTP, pacing or rate limit.
- :class:`FakeQadChannel`: a QAD tenant in memory behind the channel seam
  (:mod:`ml_connector.qad.fake`).

Everything here does real work (no recorded answers): a sync against a MemoryStore posts,
holds and releases as it would on PostgreSQL, only without I/O, so unit tests can run the engine
in milliseconds.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from ml_connector.cin7.models import (
    Account,
    Cin7Model,
    Location,
    PaymentTerm,
    Product,
    PurchaseListRow,
    Supplier,
    TaxRule,
    format_timestamp,
    read_document,
)
from ml_connector.cin7.source import OnInvalid, Since
from ml_connector.errors import ConnectorError, InvalidPayload, NotFound, RecordRejected
from ml_connector.qad.fake import FakeQadChannel, FakeReference
from ml_connector.sandbox.cin7 import create_cin7_sandbox
from ml_connector.sandbox.cin7.endpoints import ENDPOINTS
from ml_connector.sandbox.cin7.model import Cin7SandboxError
from ml_connector.sandbox.cin7.state import Cin7State
from ml_connector.store.memory import MemoryStore

__all__ = ["FakeCin7", "FakeClock", "FakeQadChannel", "FakeReference", "MemoryStore"]

T = TypeVar("T")
M = TypeVar("M", bound=Cin7Model)
_PAGE = 1000

_EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


class FakeClock:
    """Virtual time: a monotonic clock in seconds and the matching UTC wall clock.

    Call it for the monotonic reading (pacers, token expiry, rate windows take ``clock=clock``);
    :meth:`utcnow` gives the wall-clock time at that reading (the store takes
    ``clock=clock.utcnow``). :meth:`sleep` advances the clock instead of waiting and records
    every wait in :attr:`sleeps`; concurrent sleepers each move it to at least their own wake-up
    time, so time only moves forward and nobody wakes early::

        clock = FakeClock()
        pacer = LocalPacer(60, clock=clock, sleep=clock.sleep)
        clock.advance(30)
    """

    def __init__(self, start: float = 1000.0, *, epoch: datetime = _EPOCH) -> None:
        if epoch.tzinfo is None:
            raise ValueError("epoch must be timezone-aware")
        self.now = start
        self.epoch = epoch
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        """Move time forward by ``seconds``."""
        if seconds < 0:
            raise ValueError("time only moves forward")
        self.now += seconds

    async def sleep(self, seconds: float) -> None:
        """Advance instead of waiting, after yielding once to the event loop."""
        self.sleeps.append(seconds)
        wake = self.now + seconds
        await asyncio.sleep(0)
        self.now = max(self.now, wake)

    def utcnow(self) -> datetime:
        """The aware UTC datetime ``now`` seconds after :attr:`epoch`."""
        return self.epoch + timedelta(seconds=self.now)


class FakeCin7:
    """A Cin7 account in memory for the sync engine, backed by a Cin7 sandbox's state.

    The documents are the sandbox's (seeded suppliers; purchases made, received, invoiced and
    edited through :attr:`state`, e.g. ``fake.state.create_purchase(...)``), listed and filtered
    by the sandbox's own endpoint functions and parsed by the client's models, so the engine
    sees what it would see over HTTP, minus the transport. ``calls`` counts requests (one per
    list page or detail); :meth:`fail_with` makes every later call raise, e.g. an
    :class:`~ml_connector.errors.AuthRejected` for a revoked key, until :meth:`recover`.

        cin7 = FakeCin7(clock=FakeClock())
        doc = cin7.state.create_purchase("STOCK", [{"sku": "WID-100", "quantity": 10}])
        report = await SyncEngine(store, config, cin7, FakeQadChannel()).sync()
    """

    def __init__(
        self,
        state: Cin7State | None = None,
        *,
        seed: int = 11,
        suppliers: int = 6,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.state = state or (
            create_cin7_sandbox(
                seed=seed, suppliers=suppliers, purchases=0, clock=clock or FakeClock()
            ).state
        )
        self.calls = 0
        self.rate_limited = 0  # no rate limit here: a pass never waits
        self._failure: ConnectorError | None = None

    def fail_with(self, error: ConnectorError) -> None:
        """Raise ``error`` from every call from now on."""
        self._failure = error

    def recover(self) -> None:
        self._failure = None

    def suppliers(
        self,
        modified_since: Since = None,
        include_deprecated: bool = True,
        *,
        on_invalid: OnInvalid | None = None,
    ) -> AsyncIterator[Supplier]:
        query = {"includedeprecated": "true" if include_deprecated else "false"}
        if modified_since is not None:
            query["modifiedsince"] = _stamp(modified_since)
        return self._rows("supplier", "SupplierList", query, Supplier.from_cin7, on_invalid)

    def purchase_list(
        self,
        updated_since: Since = None,
        *,
        on_invalid: OnInvalid | None = None,
        **filters: str,
    ) -> AsyncIterator[PurchaseListRow]:
        query = {name.lower(): value for name, value in filters.items()}
        if updated_since is not None:
            query["updatedsince"] = _stamp(updated_since)
        return self._rows(
            "purchaselist", "PurchaseList", query, PurchaseListRow.from_cin7, on_invalid
        )

    async def purchase_json(self, id: str, type: str = "Simple Purchase") -> dict[str, Any]:
        simple = type.strip().lower().startswith("simple")
        try:
            body = self._call("purchase" if simple else "advanced-purchase", {"id": id})
        except RecordRejected as exc:
            text = exc.message.lower()
            if not (simple and "deprecated" in text and "advanced" in text):
                raise
            body = self._call("advanced-purchase", {"id": id})
        await asyncio.sleep(0)
        return dict(body)

    async def accounts(self) -> list[Account]:
        return await self._all("ref/account", "AccountsList", Account, "account")

    def products(
        self,
        modified_since: Since = None,
        include_deprecated: bool = True,
        *,
        on_invalid: OnInvalid | None = None,
    ) -> AsyncIterator[Product]:
        query = {"includedeprecated": "true" if include_deprecated else "false"}
        if modified_since is not None:
            query["modifiedsince"] = _stamp(modified_since)
        return self._rows(
            "product",
            "Products",
            query,
            lambda raw: read_document(Product, raw, "product"),
            on_invalid,
        )

    async def locations(self) -> list[Location]:
        return [
            row async for row in self._rows("ref/location", "LocationList", {}, Location.from_cin7)
        ]

    async def tax_rules(self) -> list[TaxRule]:
        return await self._all("ref/tax", "TaxRuleList", TaxRule, "tax rule")

    async def payment_terms(self) -> list[PaymentTerm]:
        return await self._all("ref/paymentterm", "PaymentTermList", PaymentTerm, "payment term")

    async def _all(self, endpoint: str, key: str, model: type[M], what: str) -> list[M]:
        def parse(raw: Mapping[str, Any]) -> M:
            return read_document(model, raw, what)

        return [row async for row in self._rows(endpoint, key, {}, parse)]

    async def _rows(
        self,
        endpoint: str,
        key: str,
        query: dict[str, str],
        parse: Callable[[Mapping[str, Any]], T],
        on_invalid: OnInvalid | None = None,
    ) -> AsyncIterator[T]:
        number = 1
        while True:
            page = self._call(endpoint, {**query, "page": str(number), "limit": str(_PAGE)})
            rows = page[key]
            for raw in rows:
                try:
                    row = parse(raw)
                except InvalidPayload as exc:
                    if on_invalid is None:
                        raise
                    outcome = on_invalid(raw, exc)
                    if outcome is not None:
                        await outcome
                    continue
                yield row
            await asyncio.sleep(0)
            if len(rows) < _PAGE:
                return
            number += 1

    def _call(self, endpoint: str, query: dict[str, str]) -> Any:
        self.calls += 1
        if self._failure is not None:
            raise self._failure
        try:
            return ENDPOINTS[endpoint][1]["GET"](self.state, query, None)
        except Cin7SandboxError as exc:
            if "not found" in str(exc).lower():
                raise NotFound(str(exc), system="cin7", status=400) from None
            raise RecordRejected(str(exc), system="cin7", status=400) from None


def _stamp(value: datetime | str) -> str:
    return format_timestamp(value) if isinstance(value, datetime) else value
