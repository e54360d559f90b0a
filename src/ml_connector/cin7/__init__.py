"""Cin7 Core client: typed models, a paced and retrying send path, paging, incremental listing.

Names are loaded on first use (:mod:`ml_connector.lazy`), so the pure planner can import
``ml_connector.cin7.models`` without loading httpx.
"""

from typing import TYPE_CHECKING

from ml_connector.lazy import lazy_exports

if TYPE_CHECKING:
    from ml_connector.cin7.client import DEFAULT_BASE_URL, Cin7Auth, Cin7Client
    from ml_connector.cin7.incremental import DEFAULT_OVERLAP, IncrementalScan
    from ml_connector.cin7.models import (
        Account,
        Company,
        Location,
        PaymentTerm,
        Product,
        Purchase,
        PurchaseListRow,
        Supplier,
        TaxRule,
        format_timestamp,
        parse_timestamp,
    )
    from ml_connector.cin7.pacer import LocalPacer, Pacer, pacer_for
    from ml_connector.cin7.paging import MAX_LIMIT, Paginator

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_OVERLAP",
    "MAX_LIMIT",
    "Account",
    "Cin7Auth",
    "Cin7Client",
    "Company",
    "IncrementalScan",
    "LocalPacer",
    "Location",
    "Pacer",
    "Paginator",
    "PaymentTerm",
    "Product",
    "Purchase",
    "PurchaseListRow",
    "Supplier",
    "TaxRule",
    "format_timestamp",
    "pacer_for",
    "parse_timestamp",
]

__getattr__ = lazy_exports(
    __name__,
    {
        "client": ("DEFAULT_BASE_URL", "Cin7Auth", "Cin7Client"),
        "incremental": ("DEFAULT_OVERLAP", "IncrementalScan"),
        "models": (
            "Account",
            "Company",
            "Location",
            "PaymentTerm",
            "Product",
            "Purchase",
            "PurchaseListRow",
            "Supplier",
            "TaxRule",
            "format_timestamp",
            "parse_timestamp",
        ),
        "pacer": ("LocalPacer", "Pacer", "pacer_for"),
        "paging": ("MAX_LIMIT", "Paginator"),
    },
)
