"""QAD Adaptive ERP: the channel seam, the idempotent operations above it, and their models.

`QadChannel` (`channel.py`) is what the engine needs from a tenant; `QadOperations`
(`operations.py`) posts through any channel exactly once. The channels live in subpackages
(`rest/`) and are imported from there, so that importing this package loads no HTTP client.
"""

from ml_connector.qad.channel import QadChannel
from ml_connector.qad.models import (
    CreatedInvoice,
    CreditTerm,
    Currency,
    GlAccount,
    GlLine,
    InvoiceResult,
    InvoiceSpec,
    Item,
    ItemSpec,
    MatchLine,
    PoHeaderChange,
    PoLine,
    PoLineChange,
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
    Supplier,
    SupplierChange,
    SupplierInvoice,
    SupplierResult,
    SupplierSpec,
    TaxClass,
)
from ml_connector.qad.operations import QadOperations
from ml_connector.qad.settings import QadSettings, check_base_url

__all__ = [
    "CreatedInvoice",
    "CreditTerm",
    "Currency",
    "GlAccount",
    "GlLine",
    "InvoiceResult",
    "InvoiceSpec",
    "Item",
    "ItemSpec",
    "MatchLine",
    "PoHeaderChange",
    "PoLine",
    "PoLineChange",
    "PurchaseOrder",
    "PurchaseOrderLineSpec",
    "PurchaseOrderResult",
    "PurchaseOrderSpec",
    "QadChannel",
    "QadOperations",
    "QadSettings",
    "Receipt",
    "ReceiptLine",
    "ReceiptLineSpec",
    "ReceiptResult",
    "ReceiptSpec",
    "Site",
    "Supplier",
    "SupplierChange",
    "SupplierInvoice",
    "SupplierResult",
    "SupplierSpec",
    "TaxClass",
    "check_base_url",
]
