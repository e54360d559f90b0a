"""Deterministic QAD codes derived from Cin7 identities, within QAD's field lengths.

Every function here is pure and stable: the same Cin7 input gives the same code on every run and
every machine, which is what lets the engine find a document in QAD again after a crash.

- PO number (≤ 8): the Cin7 `OrderNumber` itself when it is 1-8 characters of `[A-Za-z0-9-]`,
  otherwise `Z` + 7 hex digits of its SHA-256 (the full `OrderNumber` is always in the remarks).
- Supplier code (≤ 8): 4 letters/digits of the name (upper case, padded with `X`) + 4 hex digits
  of the SHA-256 of the Cin7 supplier ID, e.g. `HARB3F1C`.
- Packing slip (≤ 20): `<PO>-<yymmdd>`, plus 4 hex digits of the task for an Advanced receiving
  task, plus `-A<n>` for the n-th adjustment; `U` before the date for a credit-note unstock, with
  4 hex digits of the credit-note reference. Anything longer than 20 becomes `<PO>-` + hex digits
  of the natural key's hash.
- Reference of an invoice or credit note that has no number in Cin7: `<PO>-I<n>` / `<PO>-C<n>`,
  n = its 1-based position among the purchase's invoices (credit notes). Cin7 appends blocks, and
  a Simple purchase turned Advanced keeps its one invoice first, so the position is stable where
  a TaskID is not (the conversion gives blocks task IDs they did not have).
- Item code for a created item (≤ 18): the SKU in upper case when it fits, otherwise `I` + hex.
- Supplier invoice description (≤ 80): `Cin7 <OrderNumber> <reference>`, cut to fit.
"""

from __future__ import annotations

import hashlib
import re
from datetime import date

PO_NUMBER_MAX = 8
SUPPLIER_CODE_MAX = 8
PACKING_SLIP_MAX = 20
REMARKS_MAX = 40
DESCRIPTION_MAX = 80
ITEM_CODE_MAX = 18

_PO_NUMBER = re.compile(r"[A-Za-z0-9-]{1,8}")
_ITEM_CODE = re.compile(r"[A-Z0-9][A-Z0-9._/-]{0,17}")
_NOT_ALNUM = re.compile(r"[^A-Z0-9]")


def short_hash(text: str, length: int) -> str:
    """The first `length` hex digits (upper case) of the SHA-256 of `text`."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:length].upper()


def po_number(order_number: str) -> str:
    """QAD PO number for a Cin7 `OrderNumber`.

    >>> po_number("PO-00412")
    'PO-00412'
    >>> len(po_number("PO-0000412"))
    8
    """
    number = order_number.strip()
    if _PO_NUMBER.fullmatch(number):
        return number
    return "Z" + short_hash(number, PO_NUMBER_MAX - 1)


def po_remarks(order_number: str) -> str:
    """PO remarks carrying the Cin7 `OrderNumber` (QAD allows 40 characters)."""
    return f"Cin7 {order_number.strip()}"[:REMARKS_MAX]


def invoice_description(order_number: str, reference: str) -> str:
    """A supplier invoice's description (QAD allows 80 characters): `Cin7 <order> <reference>`.

    It names the Cin7 purchase, so an invoice without a PO (a Service purchase) is found again
    by it; cut to the field rather than refused, and the same cut on every run.

    >>> invoice_description("PO-00430", "HF-SVC-88")
    'Cin7 PO-00430 HF-SVC-88'
    """
    return f"Cin7 {order_number.strip()} {reference.strip()}"[:DESCRIPTION_MAX]


def supplier_code(supplier_id: str, name: str) -> str:
    """QAD supplier code for a Cin7 supplier.

    >>> supplier_code("3f6c1a2e-8b4d-4c2a-9e51-7d0b2f9a6c11", "Harbour Fasteners")[:4]
    'HARB'
    """
    letters = _NOT_ALNUM.sub("", name.upper())[:4].ljust(4, "X")
    return letters + short_hash(supplier_id.strip().lower(), SUPPLIER_CODE_MAX - 4)


def item_code(sku: str) -> str:
    """QAD item code for an item created from a Cin7 SKU."""
    code = sku.strip().upper()
    if _ITEM_CODE.fullmatch(code):
        return code
    return "I" + short_hash(sku.strip(), ITEM_CODE_MAX - 1)


def packing_slip(
    po: str,
    day: date,
    *,
    natural_key: str,
    tag: str | None = None,
    adjustment: int = 0,
    unstock: bool = False,
) -> str:
    """Packing slip (QAD's key for a receipt) for one receipt block or one of its adjustments.

    `tag` is the Advanced receiving task (or the credit-note reference for an unstock); it adds 4
    hex digits of its hash so that two blocks on one day differ.
    """
    slip = f"{po}-{'U' if unstock else ''}{day:%y%m%d}"
    if tag:
        slip += short_hash(tag, 4)
    if adjustment:
        slip += f"-A{adjustment}"
    if len(slip) > PACKING_SLIP_MAX:
        slip = f"{po}-{short_hash(natural_key, PACKING_SLIP_MAX - len(po) - 1)}"
    return slip


def document_reference(number: str, po: str, *, letter: str, index: int) -> str:
    """The supplier's document number, or a stable fallback when Cin7 has none."""
    if number.strip():
        return number.strip()
    return f"{po}-{letter}{index}"
