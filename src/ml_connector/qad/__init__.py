"""The QAD Adaptive ERP client: tenant settings, token manager, envelopes, idempotent posting.

See `QadClient` for the operations and docs/qad-rest.md for the wire contract.
"""

from ml_connector.qad.adapter import BrowseIds, QadAdapter
from ml_connector.qad.client import QadClient
from ml_connector.qad.models import (
    CreditTerm,
    Currency,
    GlAccount,
    GlLine,
    InvoiceResult,
    InvoiceSpec,
    Item,
    ItemSpec,
    MatchLine,
    PoLine,
    PurchaseOrder,
    PurchaseOrderLineSpec,
    PurchaseOrderResult,
    PurchaseOrderSpec,
    Receipt,
    ReceiptLine,
    ReceiptLineSpec,
    ReceiptResult,
    ReceiptSpec,
    Site,
    SubmitResult,
    Supplier,
    SupplierInvoice,
    SupplierResult,
    SupplierSpec,
    TaxClass,
)
from ml_connector.qad.settings import QadSettings, check_base_url
from ml_connector.qad.transport import WriteOutcomeUnknown

__all__ = [
    "BrowseIds",
    "CreditTerm",
    "Currency",
    "GlAccount",
    "GlLine",
    "InvoiceResult",
    "InvoiceSpec",
    "Item",
    "ItemSpec",
    "MatchLine",
    "PoLine",
    "PurchaseOrder",
    "PurchaseOrderLineSpec",
    "PurchaseOrderResult",
    "PurchaseOrderSpec",
    "QadAdapter",
    "QadClient",
    "QadSettings",
    "Receipt",
    "ReceiptLine",
    "ReceiptLineSpec",
    "ReceiptResult",
    "ReceiptSpec",
    "Site",
    "SubmitResult",
    "Supplier",
    "SupplierInvoice",
    "SupplierResult",
    "SupplierSpec",
    "TaxClass",
    "WriteOutcomeUnknown",
    "check_base_url",
]
