"""A voided purchase's documents that ml-connector sent to QAD but never recorded as posted.

The planner decides what a void means from what QAD holds (`plan._plan_void`): nothing there,
nothing to do; a PO with nothing received or invoiced, close it; anything else, a person acts.
What QAD holds is what the store says was posted. A document whose create reached QAD without
its outcome being written (a kill between QAD's commit and ours, a lost answer, a refusal after
QAD saved part of it) is missing from that picture, and a void would be planned as a void of
nothing: the PO would stay open in QAD, an invoice would stay posted with nobody told.

Before a voided purchase is planned, the engine asks `complete_for_void` to look such documents
up in QAD. Only our own work is looked for: a key with an open intent row, or an `intent` event
in the record's trail (written before every QAD create, kept after the row is dropped). Found,
the document is recorded as posted (`intent-resolved`, with `voided`), so the plan closes the PO
or flags the invoice exactly as it does for a posted one. Not found, an open intent is dropped
and the void is recorded as before. Documents never sent by us are not looked for: a voided
purchase never adopts what finance keyed by hand.

Crash intents of receipts, invoices and credit notes with an open row are resolved by the
engine's first step already; a PO intent is not (its operation finishes a partial PO), and an
intent whose row was dropped after a refusal is known only from the trail. Those are what is
left here. An invoice's look-up is rebuilt from its natural key
(`<kind>:<supplier>:<PO>:<reference>`) the same way the plan built it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from ml_connector.cin7.models import Purchase
from ml_connector.qad.operations import QadOperations
from ml_connector.store.protocols import SyncStateStore
from ml_connector.sync import codes
from ml_connector.sync.inputs import Posted
from ml_connector.sync.journal import Journal

__all__ = ["complete_for_void"]

_DOCUMENT_KINDS = {"invoice": "invoice", "credit": "credit_note"}


async def complete_for_void(
    store: SyncStateStore,
    connection_id: int,
    ops: QadOperations,
    journal: Journal,
    purchase: Purchase,
    posted: dict[str, Posted],
    *,
    record: bool = True,
) -> None:
    """Add to `posted` what QAD holds of our own unrecorded documents of voided `purchase`.

    With `record`, each look-up's outcome goes to `journal` (posted, or its intent dropped) with
    an `intent-resolved` event; without it (a dry run) only `posted` changes.
    """
    order_number = purchase.order_number.strip()
    sent: dict[str, bool] = {}  # our key → whether QAD may hold it (not looked up since)
    for event, data in await journal.trail():
        if event in ("intent", "intent-resolved") and isinstance(data, dict):
            key = str(data.get("natural_key") or "")
            sent[key] = event == "intent" or bool(data.get("found"))
    po_key = f"po:{order_number}"
    keys = [po_key] if order_number else []
    keys += [k for k in sent if k.split(":", 1)[0] in _DOCUMENT_KINDS]
    keys = [k for k in keys if k not in posted and sent.get(k, True)]
    if not keys:
        return
    rows = await store.get_postings(connection_id, keys)
    for key in keys:
        row = rows.get(key)
        if row is not None and row.state == "posted":
            continue
        open_row = row is not None and row.state == "intent"
        if not open_row and not sent.get(key):
            continue
        details = dict((row.details.get("posted_details") or {}) if open_row and row else {})
        if key == po_key:
            found = await _purchase_order(ops, order_number, details)
        else:
            found = await _document(ops, key, order_number, posted)
        if found is None:
            if record:
                if open_row:
                    await journal.commit(_dropper(store, connection_id, key))
                journal.note(
                    "intent-resolved", {"natural_key": key, "found": False, "voided": True}
                )
            continue
        qad_id, held = found
        kind = "create_po" if key == po_key else _DOCUMENT_KINDS[key.split(":", 1)[0]]
        details = {**details, **held}
        if record:
            journal.note_posted(key, qad_id, details, kind)
            journal.note(
                "intent-resolved",
                {"natural_key": key, "found": True, "qad_id": qad_id, "voided": True},
            )
        posted[key] = Posted(qad_id, details)


def _dropper(store: SyncStateStore, connection_id: int, key: str) -> Callable[[], Awaitable[bool]]:
    return lambda: store.abandon_intent(connection_id, key)


async def _purchase_order(
    ops: QadOperations, order_number: str, intended: dict[str, Any]
) -> tuple[str, dict[str, Any]] | None:
    """Our PO as QAD holds it: its number and the intended lines QAD took, or None."""
    number = str(intended.get("number") or codes.po_number(order_number))
    found = await ops.adoptable_purchase_order(number)
    if found is None or found.qad_id is None:
        return None
    supplier = intended.get("supplier_code")
    if supplier and found.found.get("supplier_code") != supplier:
        return None  # another supplier's PO under our number: ours never got in
    held = {int(line["line"]) for line in found.found.get("lines", [])}
    lines = [line for line in intended.get("lines", []) if int(line.get("line", 0)) in held]
    return found.qad_id, {"number": found.qad_id, "lines": lines}


async def _document(
    ops: QadOperations, key: str, order_number: str, posted: dict[str, Posted]
) -> tuple[str, dict[str, Any]] | None:
    """Our invoice or credit note as QAD holds it, found by its natural key, or None."""
    parts = key.split(":", 3)
    if len(parts) != 4:
        return None  # a key of an older shape: nothing to rebuild the look-up from
    prefix, supplier_code, po_number, reference = parts
    has_po = f"po:{order_number}" in posted
    found = await ops.adoptable_invoice(
        supplier_code,
        reference,
        "CreditNote" if prefix == "credit" else "Invoice",
        po_number if has_po else "",
        codes.invoice_description(order_number, reference),
    )
    if found is None or found.qad_id is None:
        return None
    return found.qad_id, {
        "reference": reference,
        "supplier_code": supplier_code,
        "voucher": found.qad_id,
        "amount": found.found.get("amount"),
    }
