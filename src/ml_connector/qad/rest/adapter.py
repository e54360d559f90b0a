"""The routes QAD does not publish ("gap" routes of docs/qad-rest.md) and the browse ids.

PO receipts, supplier invoices, the GL account and tax class browses are our design (reference
§8), not observed QAD traffic. Business-entity browse rows are read by `<entity>.<field>` keys in
camelCase, as observed (`priceListV2.priceListCode`; [CODE] S1, S4); the entity and field names
per browse are our reading of that convention ([INF]); the classic item browse `mfg:gp340` keeps
table-style keys (`pt_mstr.pt_part`), as classic browses have. Everything that knows their
paths, bodies and row keys is in this module, so that tracing a real tenant changes this file
and nothing in `channel.py`. Browse ids and row keys come from the tenant profile's
`[browses]` (`qad/profile.py`), because they differ between QAD versions and tenants.
"""

from __future__ import annotations

from typing import Any

from ml_connector.qad.models import (
    CreditTerm,
    Currency,
    GlAccount,
    InvoiceSpec,
    Item,
    MatchedLine,
    Receipt,
    ReceiptLine,
    ReceiptSpec,
    Site,
    Supplier,
    SupplierInvoice,
    TaxClass,
)
from ml_connector.qad.profile import Browses
from ml_connector.qad.rest.browse import BrowsePaginator, Filter, fetch_all, flag
from ml_connector.qad.rest.browse import text as cell
from ml_connector.qad.rest.records import date_of, dec, iso, num, text
from ml_connector.qad.rest.transport import QadTransport, SubmitResult, data_records
from ml_connector.qad.settings import QadSettings

# Guesses, both: no public trace of a REST receipt or supplier-invoice route exists (reference
# §4.3, §4.4, §8.2 "(gap)", [INF]); what public code shows for these is QXtend (S6, S8), which
# the `mixed` and `qxtend` profiles use instead. `connection fit` probes both.
RECEIPTS = "api/erp/purchaseOrderReceipts"
INVOICES = "api/erp/supplierInvoices"


class QadAdapter:
    """Gap routes and browses for one tenant, over a `QadTransport`."""

    def __init__(
        self,
        transport: QadTransport,
        settings: QadSettings,
        *,
        browses: Browses | None = None,
        page_size: int = 100,
    ) -> None:
        self._tx = transport
        self._settings = settings
        self.browses = browses or Browses()
        self._page_size = page_size

    # ---- receipts ---------------------------------------------------------------------------

    def receipt_record(self, spec: ReceiptSpec) -> dict[str, Any]:
        return {
            "domainCode": self._settings.domain,
            "purchaseOrderNumber": spec.po_number,
            "effectiveDate": iso(spec.effective_date, self._settings.dates),
            "packingSlip": spec.packing_slip,
            "lines": [
                {
                    "purchaseOrderLine": line.po_line,
                    "quantityReceived": num(line.quantity),
                    **({"siteCode": line.site} if line.site else {}),
                }
                for line in spec.lines
            ],
        }

    async def post_receipt(self, spec: ReceiptSpec) -> tuple[str | None, SubmitResult]:
        """Post one receiver (not idempotent: each call adds quantity); its number if given."""
        saved, result = await self._tx.submit(
            RECEIPTS, "purchaseOrderReceipts", self.receipt_record(spec)
        )
        number = text(saved[0], "receiverNumber") if saved else ""
        return number or None, result

    async def find_receipts(self, po_number: str, packing_slip: str | None = None) -> list[Receipt]:
        params = {"domainCode": self._settings.domain, "purchaseOrderNumber": po_number}
        if packing_slip is not None:
            params["packingSlip"] = packing_slip
        body = await self._tx.get(RECEIPTS, params)
        receipts = [
            _parse_receipt(r, po_number) for r in data_records(body, "purchaseOrderReceipts")
        ]
        # Trust but verify: a route that ignored the filter must not make another slip ours.
        return [
            r
            for r in receipts
            if r.po_number == po_number and (packing_slip is None or r.packing_slip == packing_slip)
        ]

    # ---- supplier invoices -------------------------------------------------------------------

    def invoice_record(self, spec: InvoiceSpec) -> dict[str, Any]:
        settings = self._settings
        po_numbers = list(dict.fromkeys([*spec.po_numbers, *(m.po_number for m in spec.matching)]))
        matching = []
        for line in spec.matching:
            entry: dict[str, Any] = {
                "purchaseOrderNumber": line.po_number,
                "purchaseOrderLine": line.po_line,
                "quantity": num(line.quantity),
                "unitPrice": num(line.unit_price),
            }
            if line.receiver_number:
                entry["receiverNumber"] = line.receiver_number
            matching.append(entry)
        record: dict[str, Any] = {
            "entityCode": settings.entity,
            "supplierCode": spec.supplier_code,
            "invoiceReference": spec.reference,
            "invoiceType": spec.type,
            "invoiceDate": iso(spec.invoice_date, settings.dates),
            "postingDate": iso(spec.posting_date or spec.invoice_date, settings.dates),
            "currencyCode": spec.currency,
            "exchangeRate": num(spec.exchange_rate),
            "amountTC": num(spec.amount),
            "taxAmountTC": num(spec.tax_amount),
            "invoiceStatusCode": settings.invoice_status,
            "daybookCode": settings.daybook,
            "description": spec.description,
            "purchaseOrders": [
                {"domainCode": settings.domain, "purchaseOrderNumber": po} for po in po_numbers
            ],
            "matching": matching,
            "glLines": [
                {
                    "glCode": g.gl_code,
                    "subAccount": g.sub_account,
                    "costCentre": g.cost_centre,
                    "project": g.project,
                    "amountTC": num(g.amount),
                    "description": g.description,
                }
                for g in spec.gl_lines
            ],
        }
        if spec.due_date:  # left out, QAD derives it from the supplier's credit terms
            record["dueDate"] = iso(spec.due_date, settings.dates)
        if settings.exchange_rate_type:  # QAD's rate of this type instead of Cin7's
            del record["exchangeRate"]
            record["exchangeRateType"] = settings.exchange_rate_type
        return record

    async def create_invoice(
        self, spec: InvoiceSpec
    ) -> tuple[SupplierInvoice | None, SubmitResult]:
        saved, result = await self._tx.submit(
            INVOICES, "supplierInvoices", self.invoice_record(spec)
        )
        invoice = _parse_invoice(saved[0]) if saved and saved[0].get("voucher") else None
        return invoice, result

    async def find_invoices(
        self, supplier_code: str, reference: str, invoice_type: str | None = None
    ) -> list[SupplierInvoice]:
        params = {
            "entityCode": self._settings.entity,
            "supplierCode": supplier_code,
            "invoiceReference": reference,
        }
        if invoice_type:
            params["invoiceType"] = invoice_type
        body = await self._tx.get(INVOICES, params)
        found = [_parse_invoice(r) for r in data_records(body, "supplierInvoices")]
        return [
            inv
            for inv in found
            if inv.supplier_code == supplier_code
            and inv.reference == reference
            and (invoice_type is None or inv.type == invoice_type)
        ]

    async def get_invoice(
        self, voucher: int, posting_year: int, daybook: str | None = None
    ) -> SupplierInvoice | None:
        params = {
            "entityCode": self._settings.entity,
            "postingYear": str(posting_year),
            "daybookCode": daybook or self._settings.daybook,
            "voucher": str(voucher),
        }
        body = await self._tx.get(INVOICES, params)
        found = [_parse_invoice(r) for r in data_records(body, "supplierInvoices")]
        return next((inv for inv in found if inv.voucher == voucher), None)

    # ---- browses ----------------------------------------------------------------------------

    async def browse(self, browse_id: str, *filters: Filter) -> list[dict[str, Any]]:
        """All rows of a browse, in the tenant's domain and entity."""
        workspace = {"x-qad-workspace-id": f"{self._settings.domain}_{self._settings.entity}"}
        paginator = BrowsePaginator(browse_id, page_size=self._page_size, filters=filters)
        return await fetch_all(self._tx, paginator, headers=workspace)

    async def gl_accounts(self) -> list[GlAccount]:
        keys = self.browses.gl_accounts
        rows = await self.browse(keys.id)
        return [
            GlAccount(
                code=cell(r, keys.code),
                description=cell(r, keys.description),
                type=cell(r, keys.type),
                requires_sub_account=flag(r, keys.requires_sub_account),
                requires_cost_centre=flag(r, keys.requires_cost_centre),
                active=flag(r, keys.active, default=True),
            )
            for r in rows
        ]

    async def items(self) -> list[Item]:
        keys = self.browses.items
        rows = await self.browse(keys.id)
        return [
            Item(
                code=cell(r, keys.code),
                description=cell(r, keys.description),
                uom=cell(r, keys.uom),
                product_line=cell(r, keys.product_line),
                status=cell(r, keys.status),
            )
            for r in rows
        ]

    async def sites(self) -> list[Site]:
        keys = self.browses.sites
        rows = await self.browse(keys.id)
        return [Site(code=cell(r, keys.code), description=cell(r, keys.description)) for r in rows]

    async def credit_terms(self) -> list[CreditTerm]:
        keys = self.browses.credit_terms
        rows = await self.browse(keys.id)
        result = []
        for r in rows:
            days = r.get(keys.due_days)
            result.append(
                CreditTerm(
                    code=cell(r, keys.code),
                    description=cell(r, keys.description),
                    due_days=None if days in (None, "") else int(dec(days)),
                )
            )
        return result

    async def currencies(self) -> list[Currency]:
        keys = self.browses.currencies
        rows = await self.browse(keys.id)
        return [
            Currency(code=cell(r, keys.code), description=cell(r, keys.description)) for r in rows
        ]

    async def tax_classes(self) -> list[TaxClass]:
        keys = self.browses.tax_classes
        rows = await self.browse(keys.id)
        return [
            TaxClass(
                code=cell(r, keys.code),
                description=cell(r, keys.description),
                percent=None if r.get(keys.percent) in (None, "") else dec(r.get(keys.percent)),
            )
            for r in rows
        ]

    async def suppliers(self) -> list[Supplier]:
        keys = self.browses.suppliers
        rows = await self.browse(keys.id)
        return [
            Supplier(
                code=cell(r, keys.code),
                name=cell(r, keys.name),
                currency=cell(r, keys.currency),
                active=flag(r, keys.active, default=True),
            )
            for r in rows
        ]


def _parse_receipt(record: dict[str, Any], po_number: str) -> Receipt:
    lines = record.get("lines") or []
    return Receipt(
        receiver_number=text(record, "receiverNumber"),
        po_number=text(record, "purchaseOrderNumber") or po_number,
        packing_slip=text(record, "packingSlip"),
        effective_date=date_of(record.get("effectiveDate")),
        lines=[
            ReceiptLine(
                po_line=int(dec(line.get("purchaseOrderLine"))),
                quantity=dec(line.get("quantityReceived", line.get("quantity"))),
                item_code=text(line, "itemCode"),
            )
            for line in lines
            if isinstance(line, dict)
        ],
    )


def _parse_invoice(record: dict[str, Any]) -> SupplierInvoice:
    pos = record.get("purchaseOrders") or []
    return SupplierInvoice(
        voucher=int(dec(record.get("voucher"))),
        posting_year=int(dec(record.get("postingYear"))),
        daybook=text(record, "daybookCode"),
        supplier_code=text(record, "supplierCode"),
        reference=text(record, "invoiceReference"),
        type=text(record, "invoiceType") or "Invoice",
        currency=text(record, "currencyCode"),
        amount=dec(record.get("amountTC")),
        tax_amount=dec(record.get("taxAmountTC")),
        invoice_date=date_of(record.get("invoiceDate")),
        due_date=date_of(record.get("dueDate")),
        matching_status=text(record, "matchingStatus"),
        po_numbers=[text(p, "purchaseOrderNumber") for p in pos if isinstance(p, dict)],
        description=text(record, "description"),
        status_code=text(record, "invoiceStatusCode"),
        matched=[
            MatchedLine(
                po_number=text(m, "purchaseOrderNumber"),
                po_line=int(dec(m.get("purchaseOrderLine"))),
                quantity=dec(m.get("quantity")),
                unit_price=dec(m.get("unitPrice")),
                gl_account=text(m, "glAccount"),
            )
            for m in record.get("matching") or []
            if isinstance(m, dict)
        ],
    )
