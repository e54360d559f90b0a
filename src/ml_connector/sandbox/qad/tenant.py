"""One sandbox tenant: its reference data, users, tokens, documents, counters, stats and faults."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ml_connector.sandbox.catalog import (
    QadCatalog,
    QadCreditTerm,
    QadSite,
    QadTaxClass,
    qad_catalog,
)
from ml_connector.sandbox.qad.auth import TokenStore, User
from ml_connector.sandbox.qad.envelope import num, to_decimal
from ml_connector.sandbox.qad.faults import Faults
from ml_connector.sandbox.qad.records import (
    BusinessRelation,
    GlAccount,
    Item,
    PurchaseOrder,
    Receiver,
    Supplier,
    SupplierInvoice,
)

DOMAIN = "10USA"
ENTITY = "10USACO"
SHARED_SET = "10USA"
DEFAULT_SITE = "10-100"
VIEWER = "viewer"

CURRENCY_NAMES = {
    "USD": "US Dollar",
    "EUR": "Euro",
    "GBP": "Pound Sterling",
    "CAD": "Canadian Dollar",
    "AUD": "Australian Dollar",
}


@dataclass(frozen=True)
class InvoiceStatus:
    code: str
    description: str
    receiver_matching: bool


INVOICE_STATUSES = (
    InvoiceStatus("AP-INITIAL", "Initial invoice, payment locked", True),
    InvoiceStatus("AP-NOALLOC", "Unallocated invoice", True),
    InvoiceStatus("AP-RMALLOC", "Matched, approved, allocated", False),
    InvoiceStatus("AP-GLALLOC", "GL-allocated, no receiver matching", False),
)
DAYBOOKS = {"SUPINV": "Supplier invoices", "SUPCN": "Supplier credit notes"}


@dataclass
class Stats:
    calls: int = 0
    writes: int = 0
    by_path: Counter[str] = field(default_factory=Counter)
    token_requests: int = 0
    unauthorized: int = 0
    forbidden: int = 0
    faults: Counter[str] = field(default_factory=Counter)  # injected, by kind

    def to_json(self) -> dict[str, Any]:
        return {
            "calls": self.calls,
            "writes": self.writes,
            "by_path": dict(sorted(self.by_path.items())),
            "token_requests": self.token_requests,
            "unauthorized": self.unauthorized,
            "forbidden": self.forbidden,
            "faults": dict(sorted(self.faults.items())),
        }


class QadTenant:
    """The in-memory state of one QAD tenant, and the helpers tests and the demo drive it with.

    Business rules live in the resource modules (`parties`, `purchasing`, `receipts`,
    `matching`, `reference`, `browses`); this class only holds what they read and change.
    """

    def __init__(
        self,
        name: str,
        *,
        seed: int,
        client_id: str,
        username: str,
        password: str,
        token_ttl: float,
        clock: Callable[[], float],
        catalog: QadCatalog | None = None,
    ) -> None:
        catalog = catalog or qad_catalog()
        self.name = name
        self.client_id = client_id
        self.username = username
        self.password = password
        self.domain = DOMAIN
        self.entity = ENTITY
        self.shared_set = SHARED_SET
        self.default_site = DEFAULT_SITE
        self.over_receipt_tolerance_pct = Decimal(10)
        self.price_tolerance_pct = Decimal(5)
        self.rng = random.Random(f"qad:{seed}:{name}")
        self.users: dict[str, User] = {
            username: User(username, password),
            VIEWER: User(VIEWER, password, can_write=False),
        }
        self.tokens = TokenStore(ttl=token_ttl, clock=clock)
        self.faults = Faults()
        self.traffic = Stats()
        # False: the tenant does not expose QXtend Inbound (QdocWebService answers 404), as a
        # cloud tenant may not (reference §1: every public QXtend example is on-premise).
        self.qxtend_exposed = True

        self.gl_accounts: dict[str, GlAccount] = {
            a.code: GlAccount(
                a.code,
                a.description,
                a.type,
                a.requires_sub_account,
                a.requires_cost_centre,
                a.active,
            )
            for a in catalog.gl_accounts
        }
        self.items: dict[str, Item] = {
            i.code: Item(
                i.code, i.description, i.uom, i.product_line, i.gl_account, i.unit_cost, i.status
            )
            for i in catalog.items
        }
        self.sites: dict[str, QadSite] = {s.code: s for s in catalog.sites}
        self.credit_terms: dict[str, QadCreditTerm] = {c.code: c for c in catalog.credit_terms}
        self.tax_classes: dict[str, QadTaxClass] = {t.code: t for t in catalog.tax_classes}
        self.currencies: dict[str, Decimal] = dict(catalog.currencies)
        self.sub_accounts: set[str] = set(catalog.sub_accounts)
        self.cost_centres: set[str] = set(catalog.cost_centres)
        self.invoice_statuses = {s.code: s for s in INVOICE_STATUSES}
        self.rate_types = frozenset({"ACCOUNTING", "BUDGET"})
        self.daybooks = dict(DAYBOOKS)

        self.business_relations: dict[str, BusinessRelation] = {}
        self.suppliers: dict[tuple[str, str], Supplier] = {}
        self.purchase_orders: dict[tuple[str, str], PurchaseOrder] = {}
        self.receivers: dict[str, Receiver] = {}
        self.invoices: dict[int, SupplierInvoice] = {}
        # Indexes, so lookups stay O(1) at benchmark scale (tens of thousands of documents).
        self.receivers_by_po: dict[tuple[str, str], list[Receiver]] = {}
        self.invoices_by_supplier: dict[str, list[SupplierInvoice]] = {}
        # Receipts and invoices in the order they were posted (`/_sandbox/journal`).
        self.journal: list[dict[str, Any]] = []
        self.counters: dict[str, int] = {
            "purchase_order": 0,
            "receiver": 0,
            "voucher": 0,
            "supplier_id": 0,
        }

    def __repr__(self) -> str:
        return f"QadTenant({self.name!r}, domain={self.domain!r}, entity={self.entity!r})"

    # -- counters -------------------------------------------------------------------------------

    def next_number(self, counter: str) -> int:
        self.counters[counter] += 1
        return self.counters[counter]

    def next_po_number(self, domain: str) -> str:
        while True:
            number = f"PO{self.next_number('purchase_order'):06d}"
            if (domain, number) not in self.purchase_orders:
                return number

    def next_receiver_number(self) -> str:
        return f"RC{self.next_number('receiver'):06d}"

    # -- helpers for tests and the demo -----------------------------------------------------------

    def add_receiver(self, receiver: Receiver) -> None:
        self.receivers[receiver.number] = receiver
        key = (receiver.domain, receiver.po_number)
        self.receivers_by_po.setdefault(key, []).append(receiver)
        self.journal.append(
            {
                "kind": "receipt",
                "number": receiver.number,
                "purchaseOrderNumber": receiver.po_number,
                "lines": [
                    {"line": ln.po_line, "quantity": num(ln.quantity)} for ln in receiver.lines
                ],
            }
        )

    def add_invoice(self, invoice: SupplierInvoice) -> None:
        self.invoices[invoice.voucher] = invoice
        self.invoices_by_supplier.setdefault(invoice.supplier, []).append(invoice)
        self.journal.append(
            {
                "kind": "credit_note" if invoice.type == "CreditNote" else "invoice",
                "number": str(invoice.voucher),
                "invoiceReference": invoice.reference,
                "lines": [
                    {
                        "purchaseOrderNumber": m.po_number,
                        "line": m.po_line,
                        "quantity": num(m.quantity),
                    }
                    for m in invoice.matching
                ],
            }
        )

    def state(self) -> dict[str, Any]:
        """Everything posted so far, in the `_sandbox/state` shape."""
        return {
            "suppliers": [
                {"supplierCode": s.code, "name": s.name, "currencyCode": s.currency}
                for s in self.suppliers.values()
            ],
            "purchaseOrders": [
                {
                    "purchaseOrderNumber": po.number,
                    "supplierCode": po.supplier,
                    "status": po.status,
                    "remarks": po.remarks,
                    "lines": [
                        {
                            "line": ln.line,
                            "itemCode": ln.item,
                            "quantityOrdered": num(ln.qty_ordered),
                            "quantityReceived": num(ln.qty_received),
                            "quantityInvoiced": num(ln.qty_invoiced),
                            "purchaseCost": num(ln.cost),
                            "glAccount": ln.gl_account,
                        }
                        for _, ln in sorted(po.lines.items())
                    ],
                }
                for po in self.purchase_orders.values()
            ],
            "receipts": [
                {
                    "receiverNumber": rc.number,
                    "purchaseOrderNumber": rc.po_number,
                    "packingSlip": rc.packing_slip,
                    "lines": [
                        {"line": ln.po_line, "quantity": num(ln.quantity)} for ln in rc.lines
                    ],
                }
                for rc in self.receivers.values()
            ],
            "supplierInvoices": [
                {
                    "voucher": inv.voucher,
                    "supplierCode": inv.supplier,
                    "invoiceReference": inv.reference,
                    "type": inv.type,
                    "amountTC": num(inv.amount),
                    "currencyCode": inv.currency,
                    "matchingStatus": inv.matching_status,
                    "purchaseOrders": [number for _, number in inv.purchase_orders],
                    "description": inv.description,
                }
                for inv in self.invoices.values()
            ],
        }

    def stats(self) -> dict[str, Any]:
        """`{"calls", "writes", "by_path", "token_requests", "unauthorized", "forbidden"}`.

        `calls` counts API calls (REST and QDocs); `writes` those that may change a document:
        REST POSTs other than field-change defaulting, and every posted QDoc.
        """
        return self.traffic.to_json()

    def reset_stats(self) -> None:
        self.traffic = Stats()

    def set_faults(
        self,
        *,
        error_rate: float | None = None,
        latency_ms: float | None = None,
        html_rate: float | None = None,
        expire_tokens_now: bool = False,
        silent_receipt_rate: float | None = None,
        lost_response_rate: float | None = None,
        qdoc_silent_receipt_rate: float | None = None,
        qdoc_posted_error_rate: float | None = None,
        qdoc_no_receiver_rate: float | None = None,
        timeout_rate: float | None = None,
        timeout_seconds: float | None = None,
        burst_rate: float | None = None,
        burst_seconds: float | None = None,
    ) -> dict[str, float]:
        """Change fault settings (None leaves one as it is); returns the current settings."""
        given = {
            "timeout_rate": timeout_rate,
            "timeout_seconds": timeout_seconds,
            "burst_rate": burst_rate,
            "burst_seconds": burst_seconds,
            "error_rate": error_rate,
            "latency_ms": latency_ms,
            "html_rate": html_rate,
            "silent_receipt_rate": silent_receipt_rate,
            "lost_response_rate": lost_response_rate,
            "qdoc_silent_receipt_rate": qdoc_silent_receipt_rate,
            "qdoc_posted_error_rate": qdoc_posted_error_rate,
            "qdoc_no_receiver_rate": qdoc_no_receiver_rate,
        }
        self.faults.update({k: v for k, v in given.items() if v is not None})
        if expire_tokens_now:
            self.expire_tokens()
        return self.faults.to_json()

    def expire_tokens(self) -> None:
        """Invalidate every access token now: the next API call answers 401."""
        self.tokens.expire_all()

    def add_user(
        self, name: str, password: str, *, can_write: bool = True, denied: Iterable[str] = ()
    ) -> None:
        """Add a user; `denied` names resources (e.g. `supplierInvoices`) it gets 403 on."""
        self.users[name] = User(name, password, can_write, frozenset(denied))

    def add_item(
        self,
        code: str,
        description: str,
        *,
        uom: str = "EA",
        product_line: str = "",
        gl_account: str = "630",
        unit_cost: Decimal | float | str = 0,
        status: str = "ACTIVE",
        sub_account: str = "",
        cost_centre: str = "",
    ) -> dict[str, Any]:
        """Add or replace an item; raises ValueError on a bad GL account or cost."""
        cost = to_decimal(unit_cost)
        if not code or len(code) > 18:
            raise ValueError("item code must be 1 to 18 characters")
        if gl_account not in self.gl_accounts:
            raise ValueError(f"GL account {gl_account} does not exist")
        if cost is None or cost < 0:
            raise ValueError("unit cost must be a number not below zero")
        item = Item(
            code, description, uom, product_line, gl_account, cost, status, sub_account, cost_centre
        )
        previous = self.items.get(code)
        item.revision = previous.revision + 1 if previous else 0
        self.items[code] = item
        return item.to_json(self.domain)

    def add_account(
        self,
        code: str,
        description: str,
        *,
        gl_type: str = "EXPENSE",
        requires_sub_account: bool = False,
        requires_cost_centre: bool = False,
        active: bool = True,
    ) -> dict[str, Any]:
        """Add or replace a GL account with its analysis requirements."""
        if not code or len(code) > 8:
            raise ValueError("GL code must be 1 to 8 characters")
        account = GlAccount(
            code, description, gl_type, requires_sub_account, requires_cost_centre, active
        )
        self.gl_accounts[code] = account
        return account.to_json()

    # -- lookups used by the resource modules -----------------------------------------------------

    def supplier(self, code: str) -> Supplier | None:
        return self.suppliers.get((self.shared_set, code))

    def purchase_order(self, domain: str, number: str) -> PurchaseOrder | None:
        return self.purchase_orders.get((domain, number))
