"""The records a sandbox tenant holds, each able to render itself as QAD's JSON."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ml_connector.sandbox.qad.envelope import concurrency_hash, num


@dataclass
class BusinessRelation:
    code: str
    name: str
    street1: str = ""
    city: str = ""
    state: str = ""
    zip: str = ""
    country: str = ""
    email: str = ""
    phone: str = ""
    is_active: bool = True
    revision: int = 0

    def content(self) -> dict[str, Any]:
        return {
            "businessRelationCode": self.code,
            "name": self.name,
            "addressStreet1": self.street1,
            "city": self.city,
            "state": self.state,
            "zip": self.zip,
            "country": self.country,
            "email": self.email,
            "phone": self.phone,
            "isActive": self.is_active,
        }

    @property
    def hash(self) -> str:
        return concurrency_hash(self.content(), self.revision)

    def to_json(self) -> dict[str, Any]:
        return {
            **self.content(),
            "concurrencyHash": self.hash,
            "uri": f"urn:be:com.qad.base.address.IBusinessRelationV2:{self.code}",
        }


@dataclass
class Supplier:
    shared_set: str
    code: str
    business_relation: str
    name: str
    currency: str
    credit_terms: str
    invoice_status: str
    supplier_id: int
    tax_class: str = ""
    remarks: str = ""
    is_active: bool = True
    revision: int = 0

    def content(self) -> dict[str, Any]:
        return {
            "sharedSetCode": self.shared_set,
            "supplierCode": self.code,
            "businessRelationCode": self.business_relation,
            "name": self.name,
            "isActive": self.is_active,
            "currencyCode": self.currency,
            "creditTermsCode": self.credit_terms,
            "invoiceStatusCode": self.invoice_status,
            "taxClass": self.tax_class,
            "remarks": self.remarks,
        }

    @property
    def hash(self) -> str:
        return concurrency_hash(self.content(), self.revision)

    def to_json(self) -> dict[str, Any]:
        return {
            **self.content(),
            "supplierID": self.supplier_id,
            "concurrencyHash": self.hash,
            "uri": f"urn:be:com.qad.base.supplier.ISupplierV2:{self.shared_set}.{self.code}",
        }


@dataclass
class PoLine:
    domain: str
    po_number: str
    line: int
    site: str
    item: str
    description: str
    uom: str
    qty_ordered: Decimal
    cost: Decimal
    gl_account: str
    sub_account: str = ""
    cost_centre: str = ""
    project: str = ""
    due_date: str = ""
    status: str = "O"
    qty_received: Decimal = Decimal(0)
    qty_invoiced: Decimal = Decimal(0)
    revision: int = 0

    def content(self) -> dict[str, Any]:
        return {
            "domainCode": self.domain,
            "purchaseOrderNumber": self.po_number,
            "purchaseOrderLine": self.line,
            "siteCode": self.site,
            "itemCode": self.item,
            "description": self.description,
            "unitOfMeasure": self.uom,
            "quantityOrdered": num(self.qty_ordered),
            "quantityReceived": num(self.qty_received),
            "quantityInvoiced": num(self.qty_invoiced),
            "purchaseCost": num(self.cost),
            "glAccount": self.gl_account,
            "subAccount": self.sub_account,
            "costCentre": self.cost_centre,
            "project": self.project,
            "dueDate": self.due_date,
            "lineStatus": self.status,
        }

    @property
    def hash(self) -> str:
        return concurrency_hash(self.content(), self.revision)

    def to_json(self) -> dict[str, Any]:
        return {**self.content(), "concurrencyHash": self.hash}

    def label(self) -> str:
        """How messages name the line: `PO PO000123 line 2 (WID-100)`."""
        return f"PO {self.po_number} line {self.line} ({self.item})"


@dataclass
class PurchaseOrder:
    domain: str
    number: str
    supplier: str
    currency: str
    exchange_rate: Decimal
    credit_terms: str
    ship_to_site: str
    order_date: str
    due_date: str
    remarks: str = ""
    status: str = "O"
    lines: dict[int, PoLine] = field(default_factory=dict)
    revision: int = 0

    def content(self) -> dict[str, Any]:
        return {
            "domainCode": self.domain,
            "purchaseOrderNumber": self.number,
            "supplierCode": self.supplier,
            "currencyCode": self.currency,
            "exchangeRate": num(self.exchange_rate),
            "creditTermsCode": self.credit_terms,
            "shipToSite": self.ship_to_site,
            "orderDate": self.order_date,
            "dueDate": self.due_date,
            "remarks": self.remarks,
            "orderStatus": self.status,
        }

    @property
    def hash(self) -> str:
        return concurrency_hash(self.content(), self.revision)

    def to_json(self) -> dict[str, Any]:
        return {
            **self.content(),
            "concurrencyHash": self.hash,
            "uri": "urn:be:com.qad.purchasing.purchaseorders.IPurchaseOrderHeader:"
            f"{self.domain}.{self.number}",
            "lines": [self.lines[n].to_json() for n in sorted(self.lines)],
        }

    def next_line(self) -> int:
        return max(self.lines, default=0) + 1


@dataclass
class ReceiverLine:
    po_line: int
    item: str
    quantity: Decimal
    site: str
    location: str = ""
    lot_serial: str = ""
    invoiced: Decimal = Decimal(0)

    def to_json(self) -> dict[str, Any]:
        return {
            "purchaseOrderLine": self.po_line,
            "itemCode": self.item,
            "quantityReceived": num(self.quantity),
            "quantityInvoiced": num(self.invoiced),
            "siteCode": self.site,
            "location": self.location,
            "lotSerial": self.lot_serial,
        }


@dataclass
class Receiver:
    number: str
    domain: str
    po_number: str
    packing_slip: str
    effective_date: str
    lines: list[ReceiverLine]

    def to_json(self) -> dict[str, Any]:
        return {
            "receiverNumber": self.number,
            "domainCode": self.domain,
            "purchaseOrderNumber": self.po_number,
            "packingSlip": self.packing_slip,
            "effectiveDate": self.effective_date,
            "lines": [ln.to_json() for ln in self.lines],
        }


@dataclass(frozen=True)
class InvoiceMatch:
    po_number: str
    po_line: int
    item: str
    quantity: Decimal
    unit_price: Decimal
    receiver: str = ""
    gl_account: str = ""  # the PO line's account, taken from the item (APMatchingLn GL)

    def to_json(self) -> dict[str, Any]:
        return {
            "purchaseOrderNumber": self.po_number,
            "purchaseOrderLine": self.po_line,
            "itemCode": self.item,
            "quantity": num(self.quantity),
            "unitPrice": num(self.unit_price),
            "receiverNumber": self.receiver,
            "glAccount": self.gl_account,
        }


@dataclass(frozen=True)
class InvoiceGlLine:
    gl_code: str
    amount: Decimal
    sub_account: str = ""
    cost_centre: str = ""
    project: str = ""
    description: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "glCode": self.gl_code,
            "subAccount": self.sub_account,
            "costCentre": self.cost_centre,
            "project": self.project,
            "amountTC": num(self.amount),
            "description": self.description,
        }


@dataclass
class SupplierInvoice:
    voucher: int
    entity: str
    posting_year: int
    daybook: str
    supplier: str
    reference: str
    type: str
    invoice_date: str
    posting_date: str
    due_date: str
    currency: str
    exchange_rate: Decimal
    amount: Decimal
    tax_amount: Decimal
    status_code: str
    description: str
    purchase_orders: list[tuple[str, str]]
    matching: list[InvoiceMatch]
    gl_lines: list[InvoiceGlLine]
    matching_status: str = "Finished"

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "entityCode": self.entity,
            "postingYear": self.posting_year,
            "daybookCode": self.daybook,
            "voucher": self.voucher,
            "supplierCode": self.supplier,
            "invoiceReference": self.reference,
            "invoiceType": self.type,
            "invoiceDate": self.invoice_date,
            "postingDate": self.posting_date,
            "dueDate": self.due_date,
            "currencyCode": self.currency,
            "exchangeRate": num(self.exchange_rate),
            "amountTC": num(self.amount),
            "taxAmountTC": num(self.tax_amount),
            "invoiceStatusCode": self.status_code,
            "description": self.description,
            "matchingStatus": self.matching_status,
            "purchaseOrders": [
                {"domainCode": d, "purchaseOrderNumber": n} for d, n in self.purchase_orders
            ],
            "matching": [m.to_json() for m in self.matching],
            "glLines": [g.to_json() for g in self.gl_lines],
        }
        body["concurrencyHash"] = concurrency_hash(body)
        return body


@dataclass
class Item:
    code: str
    description: str
    uom: str
    product_line: str
    gl_account: str
    unit_cost: Decimal
    status: str = "ACTIVE"
    sub_account: str = ""
    cost_centre: str = ""
    revision: int = 0

    def content(self, domain: str) -> dict[str, Any]:
        return {
            "domainCode": domain,
            "itemCode": self.code,
            "description": self.description,
            "unitOfMeasure": self.uom,
            "productLine": self.product_line,
            "glAccount": self.gl_account,
            "subAccount": self.sub_account,
            "costCentre": self.cost_centre,
            "unitCost": num(self.unit_cost),
            "itemStatus": self.status,
        }

    def to_json(self, domain: str) -> dict[str, Any]:
        content = self.content(domain)
        return {
            **content,
            "concurrencyHash": concurrency_hash(content, self.revision),
            "uri": f"urn:be:com.qad.base.item.IItem:{domain}.{self.code}",
        }

    @property
    def active(self) -> bool:
        return self.status.upper() == "ACTIVE"


@dataclass
class GlAccount:
    code: str
    description: str
    type: str
    requires_sub_account: bool = False
    requires_cost_centre: bool = False
    active: bool = True

    def to_json(self) -> dict[str, Any]:
        return {
            "glCode": self.code,
            "description": self.description,
            "glType": self.type,
            "requiresSubAccount": self.requires_sub_account,
            "requiresCostCentre": self.requires_cost_centre,
            "isActive": self.active,
        }
