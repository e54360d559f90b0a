"""A connection's QAD channel, built from its profile: one channel per capability.

`RoutedChannel` is the seam's `QadChannel` made of parts: suppliers and reference data from one
channel, purchasing, receiving and invoicing each from the channel its profile names. The
engine and the operations above it see one channel; `calls` adds up every distinct part once.

    channel = build_channel(settings, BUILT_IN["mixed"])   # REST + QXtend for receipts/invoices
    async with channel:
        qad = QadOperations(channel)

`build_channel` returns the plain `RestChannel` for a profile that routes nothing to QXtend, so
the `rest` profile runs exactly the code it ran before profiles existed.
"""

from __future__ import annotations

import asyncio
import random
from types import TracebackType
from typing import TYPE_CHECKING

import httpx

from ml_connector.backoff import Sleep
from ml_connector.qad.channel import (
    Channel,
    InvoicingChannel,
    PurchasingChannel,
    QadChannel,
    ReceivingChannel,
    ReferenceChannel,
    SupplierChannel,
)
from ml_connector.qad.inflight import InFlight, LocalInFlight
from ml_connector.qad.models import (
    CreatedInvoice,
    CreditTerm,
    Currency,
    GlAccount,
    InvoiceSpec,
    Item,
    ItemSpec,
    PoHeaderChange,
    PoLine,
    PoLineChange,
    PurchaseOrder,
    PurchaseOrderLineSpec,
    PurchaseOrderSpec,
    Receipt,
    ReceiptSpec,
    Site,
    Supplier,
    SupplierChange,
    SupplierInvoice,
    SupplierSpec,
    TaxClass,
)
from ml_connector.qad.profile import QadProfile
from ml_connector.qad.rest.channel import RestChannel
from ml_connector.qad.settings import DEFAULT_INVOICE_STATUS, QadSettings

if TYPE_CHECKING:
    from ml_connector.qad.qxtend.channel import QxtendChannel


class RoutedChannel:
    """A `QadChannel` whose capabilities are served by (possibly) different channels."""

    def __init__(
        self,
        *,
        suppliers: SupplierChannel,
        purchasing: PurchasingChannel,
        receiving: ReceivingChannel,
        invoicing: InvoicingChannel,
        reference: ReferenceChannel,
    ) -> None:
        self.suppliers_via = suppliers
        self.purchasing_via = purchasing
        self.receiving_via = receiving
        self.invoicing_via = invoicing
        self.reference_via = reference

    def __repr__(self) -> str:
        return "<RoutedChannel " + " ".join(f"{k}={v!r}" for k, v in self.routes().items()) + ">"

    def routes(self) -> dict[str, Channel]:
        return {
            "suppliers": self.suppliers_via,
            "purchase_orders": self.purchasing_via,
            "receipts": self.receiving_via,
            "invoices": self.invoicing_via,
            "reference": self.reference_via,
        }

    def parts(self) -> list[Channel]:
        """Each distinct channel once, in route order."""
        seen: dict[int, Channel] = {}
        for part in self.routes().values():
            seen.setdefault(id(part), part)
        return list(seen.values())

    async def __aenter__(self) -> RoutedChannel:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    @property
    def calls(self) -> int:
        return sum(part.calls for part in self.parts())

    async def ping(self) -> None:
        for part in self.parts():
            await part.ping()

    async def aclose(self) -> None:
        # Close in reverse: a QXtend part reads through the REST part it was given.
        for part in reversed(self.parts()):
            await part.aclose()

    # ---- suppliers ----------------------------------------------------------------------------

    async def get_supplier(self, code: str) -> Supplier | None:
        return await self.suppliers_via.get_supplier(code)

    async def has_business_relation(self, code: str) -> bool:
        return await self.suppliers_via.has_business_relation(code)

    async def create_business_relation(self, spec: SupplierSpec) -> None:
        await self.suppliers_via.create_business_relation(spec)

    async def create_supplier(self, spec: SupplierSpec) -> None:
        await self.suppliers_via.create_supplier(spec)

    async def update_supplier(self, held: Supplier, change: SupplierChange) -> None:
        await self.suppliers_via.update_supplier(held, change)

    # ---- purchasing ---------------------------------------------------------------------------

    async def get_purchase_order(self, number: str) -> PurchaseOrder | None:
        return await self.purchasing_via.get_purchase_order(number)

    async def create_purchase_order(self, spec: PurchaseOrderSpec) -> PurchaseOrder | None:
        return await self.purchasing_via.create_purchase_order(spec)

    async def add_po_line(self, spec: PurchaseOrderSpec, line: PurchaseOrderLineSpec) -> None:
        await self.purchasing_via.add_po_line(spec, line)

    async def update_po_header(self, held: PurchaseOrder, change: PoHeaderChange) -> None:
        await self.purchasing_via.update_po_header(held, change)

    async def update_po_line(self, number: str, held: PoLine, change: PoLineChange) -> None:
        await self.purchasing_via.update_po_line(number, held, change)

    # ---- receiving ----------------------------------------------------------------------------

    async def find_receipts(self, po_number: str, packing_slip: str | None = None) -> list[Receipt]:
        return await self.receiving_via.find_receipts(po_number, packing_slip)

    async def post_receipt(self, spec: ReceiptSpec) -> str | None:
        return await self.receiving_via.post_receipt(spec)

    # ---- invoicing ----------------------------------------------------------------------------

    async def find_supplier_invoices(
        self, supplier_code: str, reference: str, invoice_type: str | None = None
    ) -> list[SupplierInvoice]:
        return await self.invoicing_via.find_supplier_invoices(
            supplier_code, reference, invoice_type
        )

    async def get_supplier_invoice(
        self, voucher: int, posting_year: int, daybook: str | None = None
    ) -> SupplierInvoice | None:
        return await self.invoicing_via.get_supplier_invoice(voucher, posting_year, daybook)

    async def create_supplier_invoice(self, spec: InvoiceSpec) -> CreatedInvoice:
        return await self.invoicing_via.create_supplier_invoice(spec)

    # ---- reference ----------------------------------------------------------------------------

    async def gl_accounts(self) -> list[GlAccount]:
        return await self.reference_via.gl_accounts()

    async def items(self) -> list[Item]:
        return await self.reference_via.items()

    async def sites(self) -> list[Site]:
        return await self.reference_via.sites()

    async def credit_terms(self) -> list[CreditTerm]:
        return await self.reference_via.credit_terms()

    async def currencies(self) -> list[Currency]:
        return await self.reference_via.currencies()

    async def tax_classes(self) -> list[TaxClass]:
        return await self.reference_via.tax_classes()

    async def suppliers(self) -> list[Supplier]:
        return await self.reference_via.suppliers()

    async def get_item(self, code: str) -> Item | None:
        return await self.reference_via.get_item(code)

    async def create_item(self, spec: ItemSpec) -> None:
        await self.reference_via.create_item(spec)


def with_profile(settings: QadSettings, profile: QadProfile) -> QadSettings:
    """The settings carrying the profile's `dates` and the `[defaults]` it sets (blank: kept).

    An invoice status the connection sets itself wins over the profile's."""
    defaults = profile.defaults
    chosen = {
        "daybook_set": defaults.daybook_set,
        "bill_to": defaults.bill_to,
        "exchange_rate_type": defaults.exchange_rate_type,
        "invoice_status": defaults.invoice_status
        if settings.invoice_status == DEFAULT_INVOICE_STATUS
        else "",
    }
    return settings.model_copy(
        update={
            **{key: value for key, value in chosen.items() if value},
            "dates": profile.dates,
            "rounding": defaults.rounding,
            "supplier_gl_profiles": defaults.supplier_gl_profiles,
        }
    )


def build_channel(
    settings: QadSettings,
    profile: QadProfile,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    timeout: float = 30,
    max_concurrency: int | None = None,
    in_flight: InFlight | None = None,
    retries: int = 4,
    sleep: Sleep = asyncio.sleep,
    rng: random.Random | None = None,
) -> QadChannel:
    """The channel a connection with this profile posts through (see module docstring).

    Its channels share one in-flight bound: `in_flight` when given (the workers' shared one),
    else a local one of `max_concurrency`, by default the profile's ``[limits] in_flight``.
    """
    settings = with_profile(settings, profile)
    if in_flight is None:
        in_flight = LocalInFlight(max_concurrency or profile.limits.in_flight)
    rest = RestChannel(
        settings,
        transport=transport,
        timeout=timeout,
        in_flight=in_flight,
        retries=retries,
        sleep=sleep,
        rng=rng,
        browses=profile.browses,
    )
    if not profile.channels.uses_qxtend:
        return rest
    # Loaded only for a profile that routes a capability to QXtend (lxml, the QDoc builders).
    from ml_connector.qad.qxtend.channel import QxtendChannel

    qxtend = QxtendChannel(
        rest,
        settings,
        profile,
        transport=transport,
        timeout=max(timeout, 60),
        retries=retries,
        in_flight=in_flight,
        sleep=sleep,
        rng=rng,
    )
    channels = profile.channels

    def pick(capability: str) -> RestChannel | QxtendChannel:
        return qxtend if getattr(channels, capability) == "qxtend" else rest

    return RoutedChannel(
        suppliers=rest,
        purchasing=pick("purchase_orders"),
        receiving=pick("receipts"),
        invoicing=pick("invoices"),
        reference=rest,
    )
