"""Carry out one planned action in QAD through the idempotent operations (`qad/operations.py`).

Every operation here looks for the action's natural key in QAD before creating anything (the
PO number, the packing slip, supplier + invoice reference, the supplier code), so running an
action twice — after a crash, a lost answer or a replay — finds the first result instead of
posting a second document. Returns what QAD identifies the document by (`qad_id`) and, for
supplier invoices, what only QAD knows (`facts`): its invoice status, whether its receiver
matching finished, and the GL account QAD took for each matched line (the item's account).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ml_connector.qad.models import (
    GlLine,
    InvoiceResult,
    InvoiceSpec,
    ItemSpec,
    MatchLine,
    PurchaseOrderLineSpec,
    PurchaseOrderSpec,
    ReceiptLineSpec,
    ReceiptSpec,
    SupplierInvoice,
    SupplierSpec,
)
from ml_connector.qad.operations import QadOperations
from ml_connector.sync.actions import (
    Action,
    ClosePurchaseOrder,
    CreatePurchaseOrder,
    EnsureItem,
    EnsureSupplier,
    PostCreditNote,
    PostInvoice,
    PostReceipt,
    ReverseReceipt,
    UpdatePurchaseOrder,
)


@dataclass(frozen=True)
class Executed:
    """What to record for an action QAD now holds: its QAD id, and `facts` QAD told us that the
    plan could not know (merged into the posted details)."""

    qad_id: str
    facts: Mapping[str, Any] = field(default_factory=dict)


async def execute(action: Action, qad: QadOperations) -> Executed:
    """Run `action` against QAD; the QAD id to record for it, with QAD's facts."""
    if isinstance(action, PostInvoice | PostCreditNote):
        invoice = await qad.ensure_supplier_invoice(_invoice_spec(action))
        return Executed(str(invoice.voucher), invoice_facts(invoice))
    return Executed(await _execute(action, qad))


def invoice_facts(invoice: InvoiceResult | SupplierInvoice) -> dict[str, Any]:
    """`status_code`, `matching_status`, `posting_year`, `daybook` and `accounts` (the GL
    account QAD took per matched PO line) of an invoice as QAD holds it."""
    return {
        "status_code": invoice.status_code,
        "matching_status": invoice.matching_status,
        "posting_year": invoice.posting_year or None,
        "daybook": invoice.daybook,
        "accounts": [
            {"line": line.po_line, "gl_code": line.gl_account}
            for line in invoice.matched
            if line.gl_account
        ],
    }


async def _execute(action: Action, qad: QadOperations) -> str:
    if isinstance(action, EnsureSupplier):
        supplier = await qad.ensure_supplier(_supplier_spec(action))
        return supplier.code
    if isinstance(action, EnsureItem):
        item = await qad.ensure_item(
            ItemSpec(
                code=action.code,
                description=action.description,
                uom=action.uom,
                gl_account=action.gl_account,
                unit_cost=action.unit_cost,
            )
        )
        return item.code
    if isinstance(action, CreatePurchaseOrder | UpdatePurchaseOrder):
        result = await qad.ensure_purchase_order(_po_spec(action))
        return result.number
    if isinstance(action, ClosePurchaseOrder):
        closed = await qad.close_purchase_order(action.number)
        return closed.number
    if isinstance(action, PostReceipt | ReverseReceipt):
        receipt = await qad.post_receipt_once(_receipt_spec(action))
        return receipt.receiver_number
    raise TypeError(f"no executor for {type(action).__name__}")


def _supplier_spec(action: EnsureSupplier) -> SupplierSpec:
    return SupplierSpec(
        code=action.code,
        name=action.name,
        currency=action.currency,
        credit_terms=action.credit_terms,
        street=action.street,
        city=action.city,
        state=action.state,
        zip=action.zip,
        country=action.country,
        email=action.email,
        phone=action.phone,
        tax_class=action.tax_class,
        remarks=action.remarks,
        active=action.active,
    )


def _po_spec(action: CreatePurchaseOrder | UpdatePurchaseOrder) -> PurchaseOrderSpec:
    """The whole PO; lines left out (closed in the plan) are closed by the operation."""
    return PurchaseOrderSpec(
        number=action.number,
        supplier_code=action.supplier_code,
        currency=action.currency,
        exchange_rate=action.exchange_rate,
        credit_terms=action.credit_terms,
        ship_to_site=action.site,
        order_date=action.order_date,
        due_date=action.due_date,
        remarks=action.remarks,
        lines=[
            PurchaseOrderLineSpec(
                line=line.line,
                item_code=line.item_code,
                quantity=line.quantity,
                unit_cost=line.unit_cost,
                site=action.site,
                due_date=action.due_date,
            )
            for line in action.open_lines
        ],
    )


def _receipt_spec(action: PostReceipt | ReverseReceipt) -> ReceiptSpec:
    return ReceiptSpec(
        po_number=action.po_number,
        packing_slip=action.packing_slip,
        effective_date=action.effective_date,
        lines=[
            ReceiptLineSpec(po_line=line.po_line, quantity=line.quantity, site=line.site or None)
            for line in action.lines
            if line.quantity
        ],
    )


def _invoice_spec(action: PostInvoice | PostCreditNote) -> InvoiceSpec:
    return InvoiceSpec(
        supplier_code=action.supplier_code,
        reference=action.reference,
        type=action.invoice_type,
        invoice_date=action.document_date,
        due_date=action.due_date,
        currency=action.currency,
        exchange_rate=action.exchange_rate,
        amount=action.amount,
        tax_amount=action.tax_amount,
        description=action.description,
        po_numbers=[action.po_number] if action.po_number else [],
        matching=[
            MatchLine(
                po_number=action.po_number,
                po_line=line.po_line,
                quantity=line.quantity,
                unit_price=line.unit_price,
            )
            for line in action.matching
        ],
        gl_lines=[
            GlLine(gl_code=line.gl_code, amount=line.amount, description=line.description)
            for line in action.gl_lines
        ],
    )
