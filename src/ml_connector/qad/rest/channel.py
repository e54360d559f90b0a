"""`RestChannel`: the QAD channel over QAD's REST API (observed routes plus our gap routes).

One instance talks to one tenant: `QadTransport` (bounded concurrency → retry → bearer auth →
HTTP), `TokenManager` (one token, refreshed once for everyone), and `QadAdapter` (the gap routes
for receipts and invoices, and the browses). Each method is one raw channel operation
(`qad/channel.py`): the idempotent logic above it is in `qad/operations.py`.

Writes follow QAD's REST convention (reference §4): a `C` record to create; to update, the
record as read, with the changed fields and `dataOperation: "U"`, carrying its
`concurrencyHash`. So that an update needs no second read, the channel keeps the last records
it read, keyed by their revision (`_ReadBack`); an update whose revision is no longer there
reads the record again, and one that moved on raises `StaleRecord`.

Usage::

    async with RestChannel(settings) as channel:
        await channel.ping()
        supplier = await channel.get_supplier("S1001")
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import TYPE_CHECKING, Any

import httpx

from ml_connector.backoff import Sleep
from ml_connector.errors import (
    NotFound,
    PermissionDenied,
    StaleRecord,
    Unavailable,
    WrongTenantUrl,
)
from ml_connector.qad.channel import QadChannel
from ml_connector.qad.inflight import DEFAULT_IN_FLIGHT, InFlight, LocalInFlight
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
from ml_connector.qad.profile import Browses
from ml_connector.qad.rest import records as rec
from ml_connector.qad.rest.adapter import QadAdapter
from ml_connector.qad.rest.auth import NOT_JSON, TokenManager
from ml_connector.qad.rest.transport import (
    QadTransport,
    check,
    data_records,
    parse_submit_result,
    rejected,
)
from ml_connector.qad.settings import QadSettings
from ml_connector.qad.wire import qad_http_client

PERMISSION_PATH = "api/qracore/permissionState"

Record = dict[str, Any]


class RestChannel:
    """The REST channel to one QAD tenant (see module docstring).

    `transport` lets tests pass `httpx.MockTransport` or `httpx.ASGITransport(app=sandbox.app)`;
    `sleep` and `clock` let them skip backoff and move token expiry. At most `max_concurrency`
    requests are in flight, or as many as `in_flight` allows when it is given (shared with the
    tenant's other channels, `qad/inflight.py`); transient failures are retried `retries` times.
    """

    def __init__(
        self,
        settings: QadSettings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 30,
        max_concurrency: int = DEFAULT_IN_FLIGHT,
        in_flight: InFlight | None = None,
        retries: int = 4,
        sleep: Sleep = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
        browses: Browses | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.settings = settings
        self._sleep = sleep
        self._rng = rng or random.Random()
        self.in_flight = in_flight = in_flight or LocalInFlight(max_concurrency)
        max_concurrency = in_flight.size
        self._http = qad_http_client(
            settings.base_url + "/",
            transport=transport,
            timeout=timeout,
            max_connections=max(10, 2 * max_concurrency),
        )
        self._tokens = TokenManager(
            settings, self._http, retries=retries, sleep=sleep, clock=clock, rng=self._rng
        )
        self._tx = QadTransport(
            self._http,
            self._tokens,
            retries=retries,
            in_flight=in_flight,
            sleep=sleep,
            rng=self._rng,
        )
        self.adapter = QadAdapter(self._tx, settings, browses=browses)
        self._read_back = _ReadBack()

    def __repr__(self) -> str:
        return f"<RestChannel {self.settings.base_url} user={self.settings.username}>"

    async def __aenter__(self) -> RestChannel:
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
    def token_requests(self) -> int:
        """Requests sent to the token endpoint so far."""
        return self._tokens.requests

    @property
    def calls(self) -> int:
        """Requests sent to `/api/**` so far (retries and 401 re-sends included)."""
        return self._tx.calls

    @property
    def tokens(self) -> TokenManager:
        return self._tokens

    @property
    def transport(self) -> QadTransport:
        """The send path beneath the channel operations (token, retries, concurrency bound).

        Public so that its rules can be tested on raw paths without an operation on top.
        """
        return self._tx

    # ---- health -------------------------------------------------------------------------------

    async def ping(self) -> None:
        """Log in and make one cheap read; raise with a plain reason when that fails.

        `AuthRejected` (bad credentials, unknown client id), `PermissionDenied` (the user may not
        write purchase orders), `ConfigError` (the URL is not a QAD tenant: 404, redirect or
        HTML), `Unavailable` (QAD cannot be reached).
        """
        base = self.settings.base_url
        try:
            await self._tokens.get()
            body = await self._tx.get(
                PERMISSION_PATH,
                {"uri": rec.VIEW_URIS[rec.PO_HEADERS], "action": "WRITE"},
            )
        except Unavailable as exc:
            if exc.code == NOT_JSON and (exc.status or 200) < 500:
                raise WrongTenantUrl(
                    f"{base} answered HTML instead of QAD's JSON: wrong tenant URL?"
                ) from None
            raise Unavailable(
                f"cannot reach QAD at {base}: {exc.message}", system="qad", status=exc.status
            ) from None
        data = body.get("data") if isinstance(body, dict) else None
        if isinstance(data, dict) and data.get("hasPermission") is False:
            raise PermissionDenied(
                f"QAD user {self.settings.username} may not create purchase orders "
                "(missing permission)",
                system="qad",
                status=403,
            )

    # ---- suppliers ----------------------------------------------------------------------------

    def _supplier_params(self, code: str) -> dict[str, str]:
        return self._params(
            rec.SUPPLIERS,
            domainCode="",
            sharedSetCode=self.settings.supplier_shared_set,
            supplierCode=code,
        )

    async def _read_supplier(self, code: str) -> Record | None:
        body = await self._tx.get(rec.SUPPLIERS, self._supplier_params(code))
        found = [
            r for r in data_records(body, "supplierV2s") if rec.text(r, "supplierCode") == code
        ]
        if not found:
            return None
        self._read_back.keep(("supplier", code), found[0])
        return found[0]

    async def get_supplier(self, code: str) -> Supplier | None:
        record = await self._read_supplier(code)
        return rec.parse_supplier(record) if record else None

    async def has_business_relation(self, code: str) -> bool:
        params = self._params(rec.BUSINESS_RELATIONS, businessRelationCode=code)
        body = await self._tx.get(rec.BUSINESS_RELATIONS, params)
        return any(
            rec.text(r, "businessRelationCode") == code
            for r in data_records(body, "businessRelationV2s")
        )

    async def create_business_relation(self, spec: SupplierSpec) -> None:
        code = spec.relation_code
        _, result = await self._tx.submit(
            rec.BUSINESS_RELATIONS,
            "businessRelationV2s",
            rec.business_relation_record(spec),
            self._params(rec.BUSINESS_RELATIONS, businessRelationCode=code),
        )
        check(result, f"business relation {code}")

    async def create_supplier(self, spec: SupplierSpec) -> None:
        _, result = await self._tx.submit(
            rec.SUPPLIERS,
            "supplierV2s",
            rec.supplier_record(spec, self.settings),
            self._supplier_params(spec.code),
        )
        check(result, f"supplier {spec.code}")

    async def update_supplier(self, held: Supplier, change: SupplierChange) -> None:
        record = await self._as_read(
            ("supplier", held.code), held.revision, lambda: self._read_supplier(held.code)
        )
        _, result = await self._tx.submit(
            rec.SUPPLIERS,
            "supplierV2s",
            rec.for_update(record, rec.supplier_fields(change)),
            self._supplier_params(held.code),
        )
        check(result, f"supplier {held.code}")

    # ---- purchase orders ----------------------------------------------------------------------

    def _po_params(self, number: str) -> dict[str, str]:
        return self._params(
            rec.PO_HEADERS, domainCode=self.settings.domain, purchaseOrderNumber=number
        )

    async def _read_po(self, number: str) -> Record | None:
        body = await self._tx.get(rec.PO_HEADERS, self._po_params(number))
        found = [
            r
            for r in data_records(body, "purchaseOrderHeaders")
            if rec.text(r, "purchaseOrderNumber") == number
        ]
        if not found:
            return None
        self._keep_po(number, found[0])
        return found[0]

    def _keep_po(self, number: str, record: Record) -> None:
        self._read_back.keep(("po", number), record)
        for line in record.get("lines") or []:
            if isinstance(line, dict):
                number_of_line = int(rec.dec(line.get("purchaseOrderLine")))
                self._read_back.keep(("po-line", number, str(number_of_line)), line)

    async def _read_po_line(self, number: str, line: int) -> Record | None:
        record = await self._read_po(number)
        for raw in (record or {}).get("lines") or []:
            if isinstance(raw, dict) and int(rec.dec(raw.get("purchaseOrderLine"))) == line:
                return dict(raw)
        return None

    async def get_purchase_order(self, number: str) -> PurchaseOrder | None:
        """The PO with its lines (received and invoiced quantities), or None."""
        record = await self._read_po(number)
        return rec.parse_po(record) if record else None

    async def create_purchase_order(self, spec: PurchaseOrderSpec) -> PurchaseOrder | None:
        saved, result = await self._tx.submit(
            rec.PO_HEADERS,
            "purchaseOrderHeaders",
            rec.po_header_record(spec, self.settings),
            self._po_params(spec.number),
        )
        check(result, f"PO {spec.number}")
        if saved and rec.text(saved[0], "purchaseOrderNumber") == spec.number:
            record = {**saved[0], "lines": saved[0].get("lines") or []}
            self._keep_po(spec.number, record)
            return rec.parse_po(record)
        return None

    async def add_po_line(self, spec: PurchaseOrderSpec, line: PurchaseOrderLineSpec) -> None:
        """Add one line the way QAD's UI does: initialize → fieldChangeV2 per field → commit.

        The field changes only run QAD's defaulting (UOM, GL account, price) and save nothing;
        the commit is the one write.
        """
        what = f"PO {spec.number} line {line.line}"
        site = line.site or spec.ship_to_site or self.settings.default_site
        values: dict[str, Any] = {
            "siteCode": site,
            "itemCode": line.item_code,
            "quantityOrdered": rec.num(line.quantity),
            "purchaseCost": rec.num(line.unit_cost),
        }
        init = await self._tx.get(
            rec.PO_LINES_GRID,
            {
                "initialize": "true",
                "domainCode": self.settings.domain,
                "purchaseOrderNumber": spec.number,
            },
        )
        blank = data_records(init, "purchaseOrderLines")
        if not blank:
            raise Unavailable(f"{what}: QAD did not initialise a line", system="qad")
        draft: Record = {
            **blank[0],
            "domainCode": self.settings.domain,
            "purchaseOrderNumber": spec.number,
            "purchaseOrderLine": line.line,
        }
        for field in rec.LINE_FIELD_ORDER:
            if values[field] is None:
                continue
            draft[field] = values[field]
            answer = await self._tx.post(
                rec.PO_LINE_FIELD_CHANGE,
                {"purchaseOrderLines": [draft]},
                {"fieldName": field},
                idempotent=True,  # defaulting only; QAD saves nothing here
            )
            result = parse_submit_result(answer)
            if not result.success:
                raise rejected(result, what)
            changed = data_records(answer, "purchaseOrderLines")
            if changed:
                draft = {**changed[0], "purchaseOrderLine": line.line}
        if line.due_date:
            draft["dueDate"] = rec.iso(line.due_date, self.settings.dates)
        draft.update(dataOperation="C", concurrencyHash="")
        _, result = await self._tx.submit(rec.PO_LINES_GRID, "purchaseOrderLines", draft)
        check(result, what)

    async def update_po_header(self, held: PurchaseOrder, change: PoHeaderChange) -> None:
        record = await self._as_read(
            ("po", held.number), held.revision, lambda: self._read_po(held.number)
        )
        _, result = await self._tx.submit(
            rec.PO_HEADERS,
            "purchaseOrderHeaders",
            rec.header_for_update(record, rec.po_header_fields(change, self.settings.dates)),
            self._po_params(held.number),
        )
        check(result, f"PO {held.number}")

    async def update_po_line(self, number: str, held: PoLine, change: PoLineChange) -> None:
        record = await self._as_read(
            ("po-line", number, str(held.line)),
            held.revision,
            lambda: self._read_po_line(number, held.line),
        )
        keys = {
            "domainCode": self.settings.domain,
            "purchaseOrderNumber": number,
            "purchaseOrderLine": held.line,
        }
        _, result = await self._tx.submit(
            rec.PO_LINES_GRID,
            "purchaseOrderLines",
            rec.for_update({**record, **keys}, rec.po_line_fields(change)),
        )
        check(result, f"PO {number} line {held.line}")

    # ---- receipts -----------------------------------------------------------------------------

    async def find_receipts(self, po_number: str, packing_slip: str | None = None) -> list[Receipt]:
        """Receivers of a PO, optionally only those with this packing slip."""
        return await self.adapter.find_receipts(po_number, packing_slip)

    async def post_receipt(self, spec: ReceiptSpec) -> str | None:
        number, result = await self.adapter.post_receipt(spec)
        check(result, f"receipt for PO {spec.po_number} packing slip {spec.packing_slip}")
        return number

    # ---- supplier invoices --------------------------------------------------------------------

    async def find_supplier_invoices(
        self, supplier_code: str, reference: str, invoice_type: str | None = None
    ) -> list[SupplierInvoice]:
        """Every invoice of this supplier with this reference (duplicates included)."""
        return await self.adapter.find_invoices(supplier_code, reference, invoice_type)

    async def get_supplier_invoice(
        self, voucher: int, posting_year: int, daybook: str | None = None
    ) -> SupplierInvoice | None:
        return await self.adapter.get_invoice(voucher, posting_year, daybook)

    async def create_supplier_invoice(self, spec: InvoiceSpec) -> CreatedInvoice:
        invoice, result = await self.adapter.create_invoice(spec)
        check(result, f"invoice {spec.reference} of supplier {spec.supplier_code}")
        return CreatedInvoice(invoice=invoice, warnings=result.warnings)

    # ---- reference data -----------------------------------------------------------------------

    async def gl_accounts(self) -> list[GlAccount]:
        return await self.adapter.gl_accounts()

    async def items(self) -> list[Item]:
        return await self.adapter.items()

    async def sites(self) -> list[Site]:
        return await self.adapter.sites()

    async def credit_terms(self) -> list[CreditTerm]:
        return await self.adapter.credit_terms()

    async def currencies(self) -> list[Currency]:
        return await self.adapter.currencies()

    async def tax_classes(self) -> list[TaxClass]:
        return await self.adapter.tax_classes()

    async def suppliers(self) -> list[Supplier]:
        return await self.adapter.suppliers()

    def _item_params(self, code: str) -> dict[str, str]:
        return self._params(rec.ITEMS, domainCode=self.settings.domain, itemCode=code)

    async def get_item(self, code: str) -> Item | None:
        body = await self._tx.get(rec.ITEMS, self._item_params(code))
        found = [r for r in data_records(body, "items") if rec.text(r, "itemCode") == code]
        return rec.parse_item(found[0]) if found else None

    async def create_item(self, spec: ItemSpec) -> None:
        _, result = await self._tx.submit(
            rec.ITEMS,
            "items",
            rec.item_record(spec, self.settings),
            self._item_params(spec.code),
        )
        check(result, f"item {spec.code}")

    # ---- shared helpers -----------------------------------------------------------------------

    @staticmethod
    def _params(path: str, **values: str) -> dict[str, str]:
        view = rec.VIEW_URIS.get(path)
        return {**values, "viewUri": view} if view else dict(values)

    async def _as_read(
        self,
        key: tuple[str, ...],
        revision: str,
        read: Callable[[], Awaitable[Record | None]],
    ) -> Record:
        """The record at `revision` as QAD sent it, to send back as an update.

        Kept from the read the caller's model came from; read again when it is no longer kept.
        A record gone or moved on since is refused before anything is written.
        """
        record = self._read_back.get(key, revision)
        if record is None:
            record = await read()
            if record is None:
                raise NotFound(f"{' '.join(key)} disappeared from QAD", system="qad")
            if rec.text(record, "concurrencyHash") != revision:
                raise StaleRecord(
                    f"{' '.join(key)} was changed since it was read", system="qad", code="stale"
                )
        return record


class _ReadBack:
    """The last records read, by key and revision, so an update sends back what was read.

    Bounded (least recently kept first out): a record that falls out is simply read again.
    """

    def __init__(self, size: int = 512) -> None:
        self._size = size
        self._records: OrderedDict[tuple[tuple[str, ...], str], Record] = OrderedDict()

    def keep(self, key: tuple[str, ...], record: Record) -> None:
        entry = (key, rec.text(record, "concurrencyHash"))
        self._records[entry] = dict(record)
        self._records.move_to_end(entry)
        while len(self._records) > self._size:
            self._records.popitem(last=False)

    def get(self, key: tuple[str, ...], revision: str) -> Record | None:
        record = self._records.get((key, revision))
        return None if record is None else dict(record)


if TYPE_CHECKING:  # mypy proves that RestChannel is a whole QadChannel

    def _is_a_channel(channel: RestChannel) -> QadChannel:
        return channel
