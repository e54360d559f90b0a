"""`QadClient`: the idempotent operations the sync engine posts with, and the readers.

Every create is preceded by a look-up of its natural key, and every write whose answer was lost
(`WriteOutcomeUnknown`) is resolved by reading back, never by posting again blindly:

| operation | natural key | lost answer / "already exists" |
|---|---|---|
| `ensure_supplier` | shared set + supplier code | read back, compare, update with `U` |
| `ensure_purchase_order` | domain + PO number, line number | read back, compare, update lines |
| `post_receipt_once` | PO + packing slip | read receivers by slip and PO quantities |
| `ensure_supplier_invoice` | supplier + reference + type | search before and after posting |

Usage::

    async with QadClient(settings) as qad:
        await qad.ping()
        await qad.ensure_supplier(SupplierSpec(code="S1001", name="Acme", currency="USD",
                                               credit_terms="N30"))

Receipts assume one receipt per PO at a time (the engine posts a purchase's receipts in order):
the silent no-op check compares the PO's received quantities before and after.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from decimal import Decimal
from types import TracebackType
from typing import Any

import httpx

from ml_connector import backoff
from ml_connector.backoff import Sleep
from ml_connector.errors import (
    ConfigError,
    NotFound,
    PermissionDenied,
    RecordRejected,
    Unavailable,
)
from ml_connector.qad import records as rec
from ml_connector.qad.adapter import BrowseIds, QadAdapter
from ml_connector.qad.auth import NOT_JSON, TokenManager
from ml_connector.qad.models import (
    CreditTerm,
    Currency,
    GlAccount,
    InvoiceResult,
    InvoiceSpec,
    Item,
    ItemSpec,
    PoLine,
    PurchaseOrder,
    PurchaseOrderLineSpec,
    PurchaseOrderResult,
    PurchaseOrderSpec,
    Receipt,
    ReceiptResult,
    ReceiptSpec,
    Site,
    Supplier,
    SupplierInvoice,
    SupplierResult,
    SupplierSpec,
    TaxClass,
)
from ml_connector.qad.settings import QadSettings
from ml_connector.qad.transport import (
    QadTransport,
    WriteOutcomeUnknown,
    data_records,
    is_duplicate,
    is_stale,
    parse_submit_result,
    rejected,
)

WRITE_ATTEMPTS = 3
RECEIPT_ATTEMPTS = 3
PERMISSION_PATH = "api/qracore/permissionState"

Record = dict[str, Any]


class QadClient:
    """An async client for one QAD tenant (see module docstring).

    `transport` lets tests pass `httpx.MockTransport` or `httpx.ASGITransport(app=sandbox.app)`;
    `sleep` and `clock` let them skip backoff and move token expiry. At most `max_concurrency`
    requests are in flight; transient failures are retried `retries` times.
    """

    def __init__(
        self,
        settings: QadSettings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 30,
        max_concurrency: int = 8,
        retries: int = 4,
        sleep: Sleep = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
        browse_ids: BrowseIds | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.settings = settings
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._http = httpx.AsyncClient(
            base_url=settings.base_url + "/",
            transport=transport,
            timeout=timeout,
            follow_redirects=False,  # a redirect could lead off the checked host
            limits=httpx.Limits(
                max_connections=max(10, 2 * max_concurrency),
                max_keepalive_connections=max(10, 2 * max_concurrency),
            ),
            trust_env=False,
        )
        self._tokens = TokenManager(
            settings, self._http, retries=retries, sleep=sleep, clock=clock, rng=self._rng
        )
        self._tx = QadTransport(
            self._http,
            self._tokens,
            retries=retries,
            max_concurrency=max_concurrency,
            sleep=sleep,
            rng=self._rng,
        )
        self.adapter = QadAdapter(self._tx, settings, browse_ids=browse_ids)

    def __repr__(self) -> str:
        return f"<QadClient {self.settings.base_url} user={self.settings.username}>"

    async def __aenter__(self) -> QadClient:
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
        """The send path beneath the typed operations (token, retries, concurrency bound).

        Public so that its rules can be tested on raw paths without a typed operation on top.
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
                raise ConfigError(
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
        return found[0] if found else None

    async def get_supplier(self, code: str) -> Supplier | None:
        record = await self._read_supplier(code)
        return rec.parse_supplier(record) if record else None

    async def ensure_supplier(self, spec: SupplierSpec) -> SupplierResult:
        """Make QAD hold `spec`: look up, create (business relation first), or update.

        Name, currency and credit terms that differ are updated with `U` and the read-back
        `concurrencyHash`. Returns whether this call created or updated the supplier.
        """
        maybe_ours = False
        for _ in range(WRITE_ATTEMPTS):
            record = await self._read_supplier(spec.code)
            if record is not None:
                updated = await self._update(
                    rec.SUPPLIERS,
                    "supplierV2s",
                    self._supplier_params(spec.code),
                    record,
                    lambda r: rec.supplier_differences(spec, r),
                    lambda: self._read_supplier(spec.code),
                    f"supplier {spec.code}",
                )
                return SupplierResult(code=spec.code, created=maybe_ours, updated=updated)
            await self._ensure_business_relation(spec)
            try:
                _, result = await self._tx.submit(
                    rec.SUPPLIERS,
                    "supplierV2s",
                    rec.supplier_record(spec, self.settings),
                    self._supplier_params(spec.code),
                )
            except WriteOutcomeUnknown:
                maybe_ours = True
                continue
            if result.success:
                return SupplierResult(code=spec.code, created=True)
            if not is_duplicate(result):
                raise rejected(result, f"supplier {spec.code}")
        raise Unavailable(f"supplier {spec.code}: QAD gave no usable answer", system="qad")

    async def _ensure_business_relation(self, spec: SupplierSpec) -> None:
        code = spec.relation_code
        params = self._params(rec.BUSINESS_RELATIONS, businessRelationCode=code)
        for _ in range(WRITE_ATTEMPTS):
            body = await self._tx.get(rec.BUSINESS_RELATIONS, params)
            if any(
                rec.text(r, "businessRelationCode") == code
                for r in data_records(body, "businessRelationV2s")
            ):
                return
            try:
                _, result = await self._tx.submit(
                    rec.BUSINESS_RELATIONS,
                    "businessRelationV2s",
                    rec.business_relation_record(spec),
                    params,
                )
            except WriteOutcomeUnknown:
                continue
            if result.success or is_duplicate(result):
                return
            raise rejected(result, f"business relation {code}")
        raise Unavailable(f"business relation {code}: QAD gave no usable answer", system="qad")

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
        return found[0] if found else None

    async def _read_po_required(self, number: str) -> Record:
        record = await self._read_po(number)
        if record is None:
            raise NotFound(f"PO {number} does not exist in QAD", system="qad")
        return record

    async def get_purchase_order(self, number: str) -> PurchaseOrder | None:
        """The PO with its lines (received and invoiced quantities), or None."""
        record = await self._read_po(number)
        return rec.parse_po(record) if record else None

    async def close_purchase_order(self, number: str) -> PurchaseOrder:
        """Close the PO (`orderStatus` C); closing a closed PO changes nothing."""
        record = await self._read_po_required(number)
        await self._update(
            rec.PO_HEADERS,
            "purchaseOrderHeaders",
            self._po_params(number),
            record,
            lambda r: {} if rec.text(r, "orderStatus") == "C" else {"orderStatus": "C"},
            lambda: self._read_po(number),
            f"PO {number}",
            build=rec.header_for_update,
        )
        return rec.parse_po(await self._read_po_required(number))

    async def ensure_purchase_order(self, spec: PurchaseOrderSpec) -> PurchaseOrderResult:
        """Make QAD hold the PO as `spec` says, under our own PO number.

        Creates the header (or reads it back on "already exists" and updates remarks, due date
        and credit terms), adds missing lines through initialize → fieldChangeV2 (site, item,
        quantity, cost) → commit, updates quantity/cost on lines that differ, and closes open
        lines the spec no longer has. A PO number held by another supplier, or a line holding
        another item, raises `RecordRejected`.
        """
        record, created = await self._ensure_po_header(spec)
        header_updated = False
        if not created:
            conflicts = rec.po_header_conflicts(spec, record)
            if conflicts:
                raise RecordRejected(
                    f"PO {spec.number} already exists in QAD for a different order: "
                    + ", ".join(conflicts),
                    system="qad",
                    code="conflict",
                )
            header_updated = await self._update(
                rec.PO_HEADERS,
                "purchaseOrderHeaders",
                self._po_params(spec.number),
                record,
                lambda r: rec.po_header_differences(spec, r),
                lambda: self._read_po(spec.number),
                f"PO {spec.number}",
                build=rec.header_for_update,
            )
            if header_updated:
                record = await self._read_po_required(spec.number)
        existing = _lines_by_number(record)
        wanted = {line.line for line in spec.lines}
        if rec.text(record, "orderStatus") == "C":
            # A closed PO closed its lines too: it matches when nothing else differs.
            if any(
                line.line not in existing or _line_changes(existing[line.line], line, reopen=False)
                for line in spec.lines
            ):
                raise RecordRejected(
                    f"PO {spec.number} is closed in QAD", system="qad", code="closed"
                )
            return _po_result(spec.number, record, created=False, header_updated=header_updated)
        added: list[int] = []
        updated: list[int] = []
        closed: list[int] = []
        for line in spec.lines:
            raw = existing.get(line.line)
            if raw is None:
                if await self._add_line(spec, line):
                    added.append(line.line)
                    continue
                raw = _lines_by_number(await self._read_po_required(spec.number)).get(line.line)
                if raw is None:
                    raise Unavailable(
                        f"PO {spec.number} line {line.line}: added but not found", system="qad"
                    )
            if await self._sync_line(spec.number, line, raw):
                updated.append(line.line)
        to_close = [n for n, raw in existing.items() if n not in wanted and _is_open(raw)]
        for number in to_close:
            if await self._set_line(spec.number, number, existing[number], _close_changes):
                closed.append(number)
        if header_updated or added or updated or closed or created:
            record = await self._read_po_required(spec.number)
        return _po_result(
            spec.number,
            record,
            created=created,
            header_updated=header_updated,
            lines_added=added,
            lines_updated=updated,
            lines_closed=closed,
        )

    async def _ensure_po_header(self, spec: PurchaseOrderSpec) -> tuple[Record, bool]:
        maybe_ours = False
        for _ in range(WRITE_ATTEMPTS):
            record = await self._read_po(spec.number)
            if record is not None:
                return record, maybe_ours and not record.get("lines")
            try:
                saved, result = await self._tx.submit(
                    rec.PO_HEADERS,
                    "purchaseOrderHeaders",
                    rec.po_header_record(spec, self.settings),
                    self._po_params(spec.number),
                )
            except WriteOutcomeUnknown:
                maybe_ours = True
                continue
            if result.success:
                if saved and rec.text(saved[0], "purchaseOrderNumber") == spec.number:
                    return {**saved[0], "lines": saved[0].get("lines") or []}, True
                return await self._read_po_required(spec.number), True
            if not is_duplicate(result):
                raise rejected(result, f"PO {spec.number}")
        raise Unavailable(f"PO {spec.number}: QAD gave no usable answer", system="qad")

    async def _add_line(self, spec: PurchaseOrderSpec, line: PurchaseOrderLineSpec) -> bool:
        """Add one line the way QAD's UI does; False when it turned out to exist already."""
        what = f"PO {spec.number} line {line.line}"
        site = line.site or spec.ship_to_site or self.settings.default_site
        values: dict[str, Any] = {
            "siteCode": site,
            "itemCode": line.item_code,
            "quantityOrdered": rec.num(line.quantity),
            "purchaseCost": rec.num(line.unit_cost),
        }
        for _ in range(WRITE_ATTEMPTS):
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
                draft["dueDate"] = rec.iso(line.due_date)
            draft.update(dataOperation="C", concurrencyHash="")
            try:
                _, result = await self._tx.submit(rec.PO_LINES_GRID, "purchaseOrderLines", draft)
            except WriteOutcomeUnknown:
                record = await self._read_po_required(spec.number)
                if line.line in _lines_by_number(record):
                    return True
                continue
            if result.success:
                return True
            if is_duplicate(result):
                return False
            raise rejected(result, what)
        raise Unavailable(f"{what}: QAD gave no usable answer", system="qad")

    async def _sync_line(self, number: str, line: PurchaseOrderLineSpec, raw: Record) -> bool:
        if rec.text(raw, "itemCode") != line.item_code:
            raise RecordRejected(
                f"PO {number} line {line.line} holds item {rec.text(raw, 'itemCode')} in QAD, "
                f"not {line.item_code}",
                system="qad",
                code="conflict",
            )
        if not _line_changes(raw, line):
            return False
        return await self._set_line(number, line.line, raw, lambda r: _line_changes(r, line))

    async def _set_line(
        self, number: str, line: int, raw: Record, diff: Callable[[Record], Record]
    ) -> bool:
        async def reread() -> Record | None:
            return _lines_by_number(await self._read_po_required(number)).get(line)

        keys = {
            "domainCode": self.settings.domain,
            "purchaseOrderNumber": number,
            "purchaseOrderLine": line,
        }
        return await self._update(
            rec.PO_LINES_GRID,
            "purchaseOrderLines",
            None,
            {**raw, **keys},
            diff,
            reread,
            f"PO {number} line {line}",
            build=lambda r, changes: rec.for_update({**r, **keys}, changes),
        )

    # ---- receipts -----------------------------------------------------------------------------

    async def find_receipts(self, po_number: str, packing_slip: str | None = None) -> list[Receipt]:
        """Receivers of a PO, optionally only those with this packing slip."""
        return await self.adapter.find_receipts(po_number, packing_slip)

    async def post_receipt_once(self, spec: ReceiptSpec) -> ReceiptResult:
        """Post a goods receipt exactly once, keyed by PO + packing slip.

        1. A receiver with this packing slip already exists → return it (`created=False`).
        2. Post, then read back the receivers by packing slip and the PO's received quantities.
        3. QAD's silent no-op (success, nothing posted) shows as no receiver and unchanged
           quantities: post again, at most `RECEIPT_ATTEMPTS` times in all.
        4. A lost answer (timeout, 5xx after the POST) is settled by the same read-back, looked
           at twice with a pause, never by posting blindly.
        `verified` is True when the receiver holds the quantities asked for and the PO lines
        rose by them.
        """
        what = f"receipt for PO {spec.po_number} packing slip {spec.packing_slip}"
        existing, baseline = await self._receipt_state(spec)
        if existing:
            return ReceiptResult(
                receiver_number=existing[0].receiver_number,
                created=False,
                verified=_receipts_cover(existing, spec),
            )
        claimed: str | None = None
        lost_answers = 0
        for attempt in range(1, RECEIPT_ATTEMPTS + 1):
            lost = False
            try:
                number, result = await self.adapter.post_receipt(spec)
                if not result.success:
                    raise rejected(result, what)
                claimed = number or claimed
            except WriteOutcomeUnknown:
                lost = True
                lost_answers += 1
            checks = 2 if lost else 1
            for check in range(checks):
                if check:
                    await self._sleep(backoff.QAD.delay(attempt + 1, self._rng))
                found, received = await self._receipt_state(spec)
                raised = _raised(baseline, received, spec)
                if found:
                    return ReceiptResult(
                        receiver_number=found[0].receiver_number,
                        created=True,
                        verified=_receipts_cover(found, spec) and raised == "exact",
                        attempts=attempt,
                    )
                if raised != "none":
                    # Quantity moved but no receiver carries our slip: posting again could
                    # receive twice, so report what QAD said and leave it unverified.
                    return ReceiptResult(
                        receiver_number=claimed or "",
                        created=True,
                        verified=False,
                        attempts=attempt,
                    )
        if lost_answers:
            raise Unavailable(
                f"{what}: nothing recorded after {RECEIPT_ATTEMPTS} posts "
                f"({lost_answers} answers lost)",
                system="qad",
            )
        raise Unavailable(
            f"{what}: QAD reported success {RECEIPT_ATTEMPTS} times but recorded nothing",
            system="qad",
            code="silent-no-op",
        )

    async def _receipt_state(self, spec: ReceiptSpec) -> tuple[list[Receipt], dict[int, Decimal]]:
        found, po = await asyncio.gather(
            self.adapter.find_receipts(spec.po_number, spec.packing_slip),
            self._read_po_required(spec.po_number),
        )
        return found, _received(po)

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

    async def ensure_supplier_invoice(self, spec: InvoiceSpec) -> InvoiceResult:
        """Create the invoice unless supplier + reference + type already has one.

        QAD accepts a duplicate reference with only a warning, so the search comes first and
        a lost answer is settled by searching again. A refused three-way match raises
        `RecordRejected` with QAD's message (the engine holds the invoice on it).
        """
        found = await self.adapter.find_invoices(spec.supplier_code, spec.reference, spec.type)
        if found:
            return _invoice_result(found[0], created=False)
        what = f"invoice {spec.reference} of supplier {spec.supplier_code}"
        for attempt in range(WRITE_ATTEMPTS):
            try:
                invoice, result = await self.adapter.create_invoice(spec)
            except WriteOutcomeUnknown:
                for check in range(2):
                    if check:
                        await self._sleep(backoff.QAD.delay(attempt + 2, self._rng))
                    found = await self.adapter.find_invoices(
                        spec.supplier_code, spec.reference, spec.type
                    )
                    if found:
                        return _invoice_result(found[0], created=True)
                continue
            if not result.success:
                raise rejected(result, what)
            if invoice is None:
                found = await self.adapter.find_invoices(
                    spec.supplier_code, spec.reference, spec.type
                )
                if not found:
                    raise Unavailable(f"{what}: QAD saved it but returned no voucher", system="qad")
                invoice = found[0]
            return _invoice_result(invoice, created=True, warnings=result.warnings)
        raise Unavailable(f"{what}: QAD gave no usable answer", system="qad")

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

    async def create_item(self, spec: ItemSpec) -> Item:
        """Create an item master record; an existing item with this code is returned as is."""
        for _ in range(WRITE_ATTEMPTS):
            item = await self.get_item(spec.code)
            if item is not None:
                return item
            try:
                _, result = await self._tx.submit(
                    rec.ITEMS,
                    "items",
                    rec.item_record(spec, self.settings),
                    self._item_params(spec.code),
                )
            except WriteOutcomeUnknown:
                continue
            if not result.success and not is_duplicate(result):
                raise rejected(result, f"item {spec.code}")
        item = await self.get_item(spec.code)
        if item is None:
            raise Unavailable(f"item {spec.code}: QAD gave no usable answer", system="qad")
        return item

    # ---- shared helpers -----------------------------------------------------------------------

    @staticmethod
    def _params(path: str, **values: str) -> dict[str, str]:
        view = rec.VIEW_URIS.get(path)
        return {**values, "viewUri": view} if view else dict(values)

    async def _update(
        self,
        path: str,
        key: str,
        params: dict[str, str] | None,
        record: Record,
        diff: Callable[[Record], Record],
        reread: Callable[[], Awaitable[Record | None]],
        what: str,
        *,
        build: Callable[[Record, Record], Record] = rec.for_update,
    ) -> bool:
        """Bring `record` in line with `diff` through `U` writes; True if anything changed.

        A stale `concurrencyHash` or a lost answer re-reads the record and compares again, so
        an update that did land is not sent twice.
        """
        current: Record | None = record
        changed = False
        for _ in range(WRITE_ATTEMPTS):
            if current is None:
                raise NotFound(f"{what} disappeared from QAD while updating it", system="qad")
            changes = diff(current)
            if not changes:
                return changed
            try:
                _, result = await self._tx.submit(path, key, build(current, changes), params)
            except WriteOutcomeUnknown:
                changed = True
                current = await reread()
                continue
            if result.success:
                return True
            if not is_stale(result):
                raise rejected(result, what)
            current = await reread()
        raise Unavailable(f"{what}: update did not settle", system="qad")


def _lines_by_number(record: Record) -> dict[int, Record]:
    lines = record.get("lines") or []
    return {
        int(rec.dec(line.get("purchaseOrderLine"))): line
        for line in lines
        if isinstance(line, dict)
    }


def _is_open(raw: Record) -> bool:
    return (rec.text(raw, "lineStatus") or "O") != "C"


def _close_changes(raw: Record) -> Record:
    return {"lineStatus": "C"} if _is_open(raw) else {}


def _line_changes(raw: Record, line: PurchaseOrderLineSpec, *, reopen: bool = True) -> Record:
    """What to change on a QAD line to match the spec (a closed line is reopened)."""
    changes: Record = {}
    if rec.dec(raw.get("quantityOrdered")) != line.quantity:
        changes["quantityOrdered"] = rec.num(line.quantity)
    if rec.dec(raw.get("purchaseCost")) != line.unit_cost:
        changes["purchaseCost"] = rec.num(line.unit_cost)
    if reopen and not _is_open(raw):
        changes["lineStatus"] = "O"
    return changes


def _po_result(
    number: str,
    record: Record,
    *,
    created: bool,
    header_updated: bool,
    lines_added: list[int] | None = None,
    lines_updated: list[int] | None = None,
    lines_closed: list[int] | None = None,
) -> PurchaseOrderResult:
    po = rec.parse_po(record)
    return PurchaseOrderResult(
        number=number,
        created=created,
        header_updated=header_updated,
        lines_added=lines_added or [],
        lines_updated=lines_updated or [],
        lines_closed=lines_closed or [],
        status=po.status,
        lines=po.lines,
    )


def _received(record: Record) -> dict[int, Decimal]:
    return {line.line: line.quantity_received for line in _po_lines(record)}


def _po_lines(record: Record) -> list[PoLine]:
    return rec.parse_po(record).lines


def _raised(before: dict[int, Decimal], after: dict[int, Decimal], spec: ReceiptSpec) -> str:
    """'exact': each line rose by the receipt's quantity; 'none': nothing moved; else 'other'."""
    wanted = _wanted(spec)
    deltas = {n: after.get(n, Decimal(0)) - before.get(n, Decimal(0)) for n in after}
    if all(delta == 0 for delta in deltas.values()):
        return "none"
    if all(deltas.get(n, Decimal(0)) == q for n, q in wanted.items()) and all(
        delta == 0 for n, delta in deltas.items() if n not in wanted
    ):
        return "exact"
    return "other"


def _receipts_cover(receipts: list[Receipt], spec: ReceiptSpec) -> bool:
    got: dict[int, Decimal] = {}
    for receipt in receipts:
        for done in receipt.lines:
            got[done.po_line] = got.get(done.po_line, Decimal(0)) + done.quantity
    return got == _wanted(spec)


def _wanted(spec: ReceiptSpec) -> dict[int, Decimal]:
    wanted: dict[int, Decimal] = {}
    for line in spec.lines:
        wanted[line.po_line] = wanted.get(line.po_line, Decimal(0)) + line.quantity
    return wanted


def _invoice_result(
    invoice: SupplierInvoice, *, created: bool, warnings: list[Any] | None = None
) -> InvoiceResult:
    return InvoiceResult(
        voucher=invoice.voucher,
        created=created,
        matching_status=invoice.matching_status,
        warnings=list(warnings or []),
        posting_year=invoice.posting_year or None,
        daybook=invoice.daybook,
    )
