"""`QxtendChannel`: purchase orders, receipts and supplier invoices through QXtend QDocs.

It implements the purchasing, receiving and invoicing parts of the channel seam
(`qad/channel.py`); suppliers, items and reference lists stay on REST (no public QDoc for them,
reference §4.1), and a profile routes each capability to its channel (`qad/routing.py`).

Writes are QDocs (`qdocs.py`, posted by `QdocTransport`); reads go through the tenant's REST
channel, because QXtend Inbound has no read a connector can rely on:

- a PO with its lines and quantities: REST `purchaseOrderHeaders` (observed, S1);
- receivers of a PO by packing slip: the receipt-history browse (`[browses.receipts]`; prh_hist
  is reference §4.3, the browse id and `prh_ps_nbr` are [INF]);
- invoices by supplier + reference or by voucher: the supplier-invoice browse
  (`[browses.supplier_invoices]`; [INF], D7's browse URI pattern).

So the look-up-before-create and read-back of `qad/operations.py` work unchanged: QXtend's
answer to a receipt carries no receiver number and may lie either way (S6), and the receipt is
settled by what the read-back shows.

A new PO goes in one QDoc with all its lines (QXtend's unit is the document); the seam's
`create_purchase_order` therefore creates the lines too, and the operations above find them
already there and add nothing. `calls` counts the QDoc POSTs and WSDL GETs this channel sent;
its reads are counted by the REST channel it reads through.
"""

from __future__ import annotations

import asyncio
import dataclasses
import random
from collections import defaultdict
from types import TracebackType
from typing import Any

import httpx

from ml_connector.backoff import Sleep
from ml_connector.errors import (
    AuthRejected,
    ConfigError,
    FieldError,
    PermissionDenied,
    Unavailable,
)
from ml_connector.qad.inflight import DEFAULT_IN_FLIGHT, InFlight, LocalInFlight
from ml_connector.qad.models import (
    CreatedInvoice,
    InvoiceSpec,
    MatchedLine,
    PoHeaderChange,
    PoLine,
    PoLineChange,
    PurchaseOrder,
    PurchaseOrderLineSpec,
    PurchaseOrderSpec,
    Receipt,
    ReceiptLine,
    ReceiptSpec,
    SupplierInvoice,
)
from ml_connector.qad.profile import QadProfile
from ml_connector.qad.qxtend.qdocs import (
    InvoiceOptions,
    PoOptions,
    ReceiptOptions,
    VatLine,
    bcinvoice,
    maintain_purchase_order,
    modify_purchase_order,
    receive_purchase_order,
)
from ml_connector.qad.qxtend.soap import QdocAnswer, SessionContext
from ml_connector.qad.qxtend.transport import QdocTransport, QxtendNotExposed
from ml_connector.qad.rest.browse import Filter
from ml_connector.qad.rest.browse import text as cell
from ml_connector.qad.rest.channel import RestChannel
from ml_connector.qad.rest.records import date_of, dec
from ml_connector.qad.settings import QadSettings, check_base_url
from ml_connector.qad.wire import qad_http_client

Row = dict[str, Any]


class QxtendChannel:
    """QDoc writes and REST reads for one tenant (see module docstring).

    `rest` is the tenant's REST channel (shared, not closed here). `transport` lets tests pass
    `httpx.ASGITransport(app=sandbox.app)`; `sleep` skips backoff.
    """

    def __init__(
        self,
        rest: RestChannel,
        settings: QadSettings,
        profile: QadProfile,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 60,
        retries: int = 4,
        max_concurrency: int = DEFAULT_IN_FLIGHT,
        in_flight: InFlight | None = None,
        sleep: Sleep = asyncio.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.in_flight = in_flight = in_flight or LocalInFlight(max_concurrency)
        max_concurrency = in_flight.size
        self._rest = rest
        self.settings = settings
        self.profile = profile
        url = check_base_url(
            profile.qxtend_url(settings.base_url), allow_local=settings.allow_local
        )
        self._http = qad_http_client(
            destination=url,
            transport=transport,
            timeout=timeout,
            max_connections=max(10, 2 * max_concurrency),
        )
        self._context = SessionContext(
            username=settings.username,
            password=settings.password,
            domain=settings.domain,
            receiver=profile.qxtend.receiver,
        )
        self._qdocs = QdocTransport(
            url,
            self._context,
            self._http,
            retries=retries,
            in_flight=in_flight,
            sleep=sleep,
            rng=rng,
        )
        self._sites: dict[str, dict[int, str]] = {}

    def __repr__(self) -> str:
        return f"<QxtendChannel {self._qdocs.url} user={self.settings.username}>"

    async def __aenter__(self) -> QxtendChannel:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()
        await self.in_flight.aclose()

    @property
    def url(self) -> str:
        return self._qdocs.url

    @property
    def calls(self) -> int:
        """QDoc POSTs and WSDL GETs sent (reads are counted by the REST channel)."""
        return self._qdocs.calls

    async def ping(self) -> None:
        """GET the WSDL: QXtend answers at the configured URL (never posts a QDoc).

        Raises `QxtendNotExposed` (404), `AuthRejected`/`PermissionDenied` (a gateway's 401/403),
        `ConfigError` (a redirect or something that is not a WSDL), `Unavailable`.
        """
        status, body = await self._qdocs.wsdl()
        where = self._qdocs.url
        if status == 404:
            raise QxtendNotExposed.at(where)
        if status == 401:
            raise AuthRejected(f"QXtend at {where} refused us (HTTP 401)", system="qad")
        if status == 403:
            raise PermissionDenied(f"QXtend at {where} refused us (HTTP 403)", system="qad")
        if status >= 500:
            raise Unavailable(f"QXtend at {where} answered HTTP {status}", system="qad")
        if status != 200 or b"definitions" not in body[:2000]:
            raise ConfigError(f"QXtend at {where} answered HTTP {status} without a WSDL")

    def _session(self, qdoc: str, *, entity: str = "", action: str = "") -> SessionContext:
        version = str(getattr(self.profile.qxtend.versions, qdoc))
        return dataclasses.replace(self._context, version=version, entity=entity, action=action)

    async def _post(
        self, qdoc: str, payload: Any, *, entity: str = "", action: str = ""
    ) -> QdocAnswer:
        return await self._qdocs.post(
            qdoc, payload, self._session(qdoc, entity=entity, action=action)
        )

    # ---- purchase orders ----------------------------------------------------------------------

    async def get_purchase_order(self, number: str) -> PurchaseOrder | None:
        po = await self._rest.get_purchase_order(number)
        if po is not None:
            self._sites[number] = {line.line: line.site for line in po.lines if line.site}
        return po

    def _po_options(self) -> PoOptions:
        settings = self.settings
        return PoOptions(
            default_site=settings.default_site or "",
            bill_to=settings.bill_to,
            exchange_rate_type=settings.exchange_rate_type,
        )

    async def create_purchase_order(self, spec: PurchaseOrderSpec) -> PurchaseOrder | None:
        """Add the PO with all its lines in one QDoc (see module docstring); None: read it."""
        await self._post(
            "maintainPurchaseOrder",
            maintain_purchase_order(spec, operation="A", options=self._po_options()),
        )
        return None

    async def add_po_line(self, spec: PurchaseOrderSpec, line: PurchaseOrderLineSpec) -> None:
        await self._post(
            "maintainPurchaseOrder",
            maintain_purchase_order(
                spec,
                operation="M",
                lines=[line.line],
                added=[line.line],
                options=self._po_options(),
            ),
        )

    async def update_po_header(self, held: PurchaseOrder, change: PoHeaderChange) -> None:
        fields: list[tuple[str, object]] = []
        if change.remarks is not None:
            fields.append(("poRmks", change.remarks))
        if change.due_date is not None:
            fields.append(("poDueDate", change.due_date))
        if change.credit_terms is not None:
            fields.append(("poCrTerms", change.credit_terms))
        if change.status is not None:
            fields.append(("poStat", change.status))
        await self._post("maintainPurchaseOrder", modify_purchase_order(held.number, fields))

    async def update_po_line(self, number: str, held: PoLine, change: PoLineChange) -> None:
        fields: list[tuple[str, object]] = []
        if change.quantity is not None:
            fields.append(("podQtyOrd", change.quantity))
        if change.unit_cost is not None:
            fields.append(("podPurCost", change.unit_cost))
        if change.status is not None:
            fields.append(("podStatus", change.status))
        await self._post(
            "maintainPurchaseOrder", modify_purchase_order(number, lines=[(held.line, fields)])
        )

    # ---- receipts -----------------------------------------------------------------------------

    async def find_receipts(self, po_number: str, packing_slip: str | None = None) -> list[Receipt]:
        """Receivers of a PO (by packing slip) from the receipt-history browse."""
        keys = self.profile.browses.receipts
        filters = [Filter(keys.po_number, "eq", po_number)] if "," not in po_number else []
        if packing_slip is not None and "," not in packing_slip:
            filters.append(Filter(keys.packing_slip, "eq", packing_slip))
        rows = await self._rest.adapter.browse(keys.id, *filters)
        grouped: dict[str, list[Row]] = defaultdict(list)
        for row in rows:
            if cell(row, keys.po_number) != po_number:
                continue
            if packing_slip is not None and cell(row, keys.packing_slip) != packing_slip:
                continue
            grouped[cell(row, keys.receiver)].append(row)
        return [
            Receipt(
                receiver_number=receiver,
                po_number=po_number,
                packing_slip=cell(lines[0], keys.packing_slip),
                effective_date=date_of(lines[0].get(keys.date)),
                lines=[
                    ReceiptLine(
                        po_line=int(dec(r.get(keys.line))),
                        quantity=dec(r.get(keys.quantity)),
                        item_code=cell(r, keys.item),
                    )
                    for r in lines
                ],
            )
            for receiver, lines in grouped.items()
        ]

    async def post_receipt(self, spec: ReceiptSpec) -> str | None:
        """Post one `receivePurchaseOrder`; the receiver number only if QXtend echoed one."""
        sites = self._sites.get(spec.po_number)
        if sites is None and all(line.site for line in spec.lines):
            sites = {}  # every line names its site: the PO's sites are not needed
        if sites is None:
            await self.get_purchase_order(spec.po_number)
            sites = self._sites.get(spec.po_number, {})
        answer = await self._post(
            "receivePurchaseOrder",
            receive_purchase_order(
                spec,
                sites=sites,
                options=ReceiptOptions(site=self.settings.default_site or ""),
            ),
        )
        return answer.first("receiverNumber") or None

    # ---- supplier invoices --------------------------------------------------------------------

    def _invoice(self, rows: list[Row]) -> SupplierInvoice:
        """One invoice from its browse rows (one per matched line or linked PO)."""
        keys = self.profile.browses.supplier_invoices
        row = rows[0]
        kind = cell(row, keys.type)
        pos = [cell(r, keys.po_number) for r in rows]
        return SupplierInvoice(
            voucher=int(dec(row.get(keys.voucher))),
            posting_year=int(dec(row.get(keys.posting_year))),
            daybook=cell(row, keys.daybook),
            supplier_code=cell(row, keys.supplier),
            reference=cell(row, keys.reference),
            type="CreditNote" if kind.replace(" ", "").lower() == "creditnote" else "Invoice",
            currency=cell(row, keys.currency),
            amount=dec(row.get(keys.amount)),
            tax_amount=dec(row.get(keys.tax_amount)),
            invoice_date=date_of(row.get(keys.invoice_date)),
            due_date=date_of(row.get(keys.due_date)),
            matching_status=cell(row, keys.matching_status),
            po_numbers=list(dict.fromkeys(po for po in pos if po)),
            description=cell(row, keys.description),
            status_code=cell(row, keys.status_code),
            matched=[
                MatchedLine(
                    po_number=cell(r, keys.po_number),
                    po_line=int(dec(r.get(keys.match_line))),
                    quantity=dec(r.get(keys.match_quantity)),
                    unit_price=dec(r.get(keys.match_unit_price)),
                    gl_account=cell(r, keys.match_gl_account),
                )
                for r in rows
                if cell(r, keys.match_line)
            ],
        )

    async def _invoices(self, *filters: Filter) -> list[SupplierInvoice]:
        keys = self.profile.browses.supplier_invoices
        rows = await self._rest.adapter.browse(keys.id, *filters)
        grouped: dict[tuple[str, str, str], list[Row]] = defaultdict(list)
        for row in rows:
            identity = (
                cell(row, keys.voucher),
                cell(row, keys.posting_year),
                cell(row, keys.daybook),
            )
            grouped[identity].append(row)
        return [self._invoice(group) for group in grouped.values()]

    async def find_supplier_invoices(
        self, supplier_code: str, reference: str, invoice_type: str | None = None
    ) -> list[SupplierInvoice]:
        keys = self.profile.browses.supplier_invoices
        filters = [
            Filter(key, "eq", value)
            for key, value in ((keys.supplier, supplier_code), (keys.reference, reference))
            if "," not in value
        ]
        return [
            inv
            for inv in await self._invoices(*filters)
            if inv.supplier_code == supplier_code
            and inv.reference == reference
            and (invoice_type is None or inv.type == invoice_type)
        ]

    async def get_supplier_invoice(
        self, voucher: int, posting_year: int, daybook: str | None = None
    ) -> SupplierInvoice | None:
        keys = self.profile.browses.supplier_invoices
        found = await self._invoices(Filter(keys.voucher, "eq", str(voucher)))
        return next(
            (
                inv
                for inv in found
                if inv.voucher == voucher
                and inv.posting_year == posting_year
                and (daybook is None or inv.daybook == daybook)
            ),
            None,
        )

    def vat_lines(self, spec: InvoiceSpec) -> list[VatLine]:
        """The tax lines of a taxable invoice: one line carrying Cin7's tax on the rest."""
        if spec.tax_amount == 0:
            return []
        return [VatLine(base=spec.amount - spec.tax_amount, amount=spec.tax_amount)]

    async def create_supplier_invoice(self, spec: InvoiceSpec) -> CreatedInvoice:
        """Post one `bcinvoice`; the voucher is read back by the operations (browse)."""
        settings = self.settings
        options = InvoiceOptions(
            entity=settings.entity,
            domain=settings.domain,
            daybook=settings.daybook,
            daybook_set=settings.daybook_set,
            invoice_status=settings.invoice_status,
            exchange_rate_type=settings.exchange_rate_type,
            places=settings.rounding,
        )
        answer = await self._post(
            "bcinvoice",
            bcinvoice(spec, vat=self.vat_lines(spec), options=options),
            entity=self.settings.entity,
            action="Save",
        )
        return CreatedInvoice(
            invoice=None,
            warnings=[
                FieldError(message=w.description, field=w.field, code=w.number, severity="warning")
                for w in answer.warnings
            ],
        )
