"""Cin7 Core client: typed models, a paced and retrying send path, paging, incremental listing."""

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
from ml_connector.cin7.pacer import Pacer, pacer_for
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
