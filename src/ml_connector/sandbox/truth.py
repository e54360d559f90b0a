"""What QAD holds against what Cin7 says it should: losses, duplicates and early invoices.

The proof benches (`bench/chaos.py`, `bench/badinput.py`) and the crash tests judge a run from
the two sandboxes' own books, never from the connector's store:

- the Cin7 sandbox's `/_sandbox/ledger` (per purchase: ordered, received net of unstock,
  invoices and credit notes, from its records);
- the QAD sandbox's `/_sandbox/state` (POs with received quantities, receipts, invoices) and
  `/_sandbox/journal` (receipts and invoices in the order they were posted).

A QAD PO belongs to the Cin7 order its remarks name (`Cin7 PO-00412`, as the connector writes
them). For every purchase the caller expects in QAD (by default: order AUTHORISED, not voided):

- **lost**: no QAD PO; or an AUTHORISED/PAID Cin7 invoice that QAD's receipts cover with no QAD
  invoice of that reference on that PO; for a Service purchase (no PO), an invoice with no QAD
  invoice of that reference without a PO whose description names the order;
- **duplicates**: each PO, receipt (same packing slip on one PO), invoice or credit note
  (same supplier, reference, type and PO, or description without one) beyond the first;
- **receipt_mismatches**: each SKU whose QAD PO line received quantity, or whose sum over QAD
  receipts, differs from Cin7's received quantity;
- **early_invoices** (whole journal): each invoice that, when it was posted, matched more of a
  PO line than QAD had received on it (less what earlier invoices had matched, plus credits).

Item codes are the SKUs unless `item_codes` maps them (the shared catalogue renames a few).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import httpx

Entry = Mapping[str, Any]
ACTIVE_INVOICE = ("AUTHORISED", "PAID")
_ZERO = Decimal(0)


@dataclass(frozen=True)
class Books:
    """Both sandboxes' books at one moment."""

    ledger: list[dict[str, Any]]
    qad: dict[str, Any]
    journal: list[dict[str, Any]]

    def entry(self, order_number: str) -> Entry | None:
        return next((e for e in self.ledger if e["order_number"] == order_number), None)


def read_books(cin7_control: str, qad_control: str, *, timeout: float = 60) -> Books:
    """Read both sandboxes' books over their `/_sandbox/` controls."""
    with httpx.Client(timeout=timeout) as http:
        ledger = http.get(f"{cin7_control}/ledger").raise_for_status().json()
        qad = http.get(f"{qad_control}/state").raise_for_status().json()
        journal = http.get(f"{qad_control}/journal").raise_for_status().json()
    return Books(ledger, qad, journal)


def authorised(entry: Entry) -> bool:
    """The default expectation: an AUTHORISED order that is not voided reaches QAD."""
    return entry["order_status"] == "AUTHORISED" and not entry["voided"]


@dataclass
class Verdict:
    """The counts, and one readable line per finding (for a failing test's message)."""

    purchases: int = 0
    lost: int = 0
    duplicates: int = 0
    receipt_mismatches: int = 0
    early_invoices: int = 0
    findings: list[str] = field(default_factory=list)

    def add(self, kind: str, text: str, count: int = 1) -> None:
        setattr(self, kind, getattr(self, kind) + count)
        self.findings.append(text)

    @property
    def clean(self) -> bool:
        return not (self.lost or self.duplicates or self.receipt_mismatches or self.early_invoices)


def _dec(value: Any) -> Decimal:
    return Decimal(str(value))


def order_of_remarks(remarks: str) -> str:
    return remarks.removeprefix("Cin7 ").strip()


def purchase_orders_by_order(qad: Mapping[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """QAD POs grouped by the Cin7 OrderNumber their remarks name."""
    found: dict[str, list[dict[str, Any]]] = {}
    for po in qad["purchaseOrders"]:
        found.setdefault(order_of_remarks(str(po.get("remarks") or "")), []).append(po)
    return found


def documents_of(books: Books, order_number: str) -> list[str]:
    """Every QAD document that belongs to one Cin7 purchase: its POs, their receipts, and the
    invoices of its Cin7 invoice references or linked to its POs."""
    pos = purchase_orders_by_order(books.qad).get(order_number, [])
    numbers = {po["purchaseOrderNumber"] for po in pos}
    entry = books.entry(order_number)
    references = {inv["number"] for inv in entry["invoices"] if inv["number"]} if entry else set()
    found = [f"PO {n}" for n in sorted(numbers)]
    found += [
        f"receipt {r['receiverNumber']}"
        for r in books.qad["receipts"]
        if r["purchaseOrderNumber"] in numbers
    ]
    found += [
        f"{inv['type']} {inv['invoiceReference']} (voucher {inv['voucher']})"
        for inv in books.qad["supplierInvoices"]
        if inv["invoiceReference"] in references or numbers & set(inv["purchaseOrders"])
    ]
    return found


def audit(
    books: Books,
    *,
    expected: Callable[[Entry], bool] = authorised,
    item_codes: Mapping[str, str] | None = None,
) -> Verdict:
    """Compare the books (see the module docstring)."""
    verdict = Verdict()
    index = _Index(books.qad, item_codes)
    for entry in books.ledger:
        if expected(entry):
            verdict.purchases += 1
            _check_purchase(verdict, entry, index)
    _check_duplicate_documents(verdict, books.qad)
    _check_journal(verdict, books.journal)
    return verdict


def landed(books: Books, entry: Entry, *, item_codes: Mapping[str, str] | None = None) -> list[str]:
    """Why one purchase is not (yet) wholly in QAD: its findings; empty when it landed."""
    verdict = Verdict()
    _check_purchase(verdict, entry, _Index(books.qad, item_codes))
    return verdict.findings


class _Index:
    def __init__(self, qad: Mapping[str, Any], item_codes: Mapping[str, str] | None) -> None:
        self.codes = {sku.upper(): code for sku, code in (item_codes or {}).items()}
        self.pos = purchase_orders_by_order(qad)
        self.received = _receipts_by_line(qad["receipts"])
        self.invoices = _invoices(qad["supplierInvoices"])
        self.unlinked = [
            inv
            for inv in qad["supplierInvoices"]
            if inv["type"] == "Invoice" and not inv["purchaseOrders"]
        ]


def _check_service(
    verdict: Verdict, order: str, entry: Entry, unlinked: list[Mapping[str, Any]]
) -> None:
    """A Service purchase has no PO: each of its invoices is a QAD invoice without one, its
    description naming the order (`Cin7 <order> <reference>`)."""
    for inv in entry["invoices"]:
        if inv["status"] not in ACTIVE_INVOICE:
            continue
        found = [
            q
            for q in unlinked
            if q["invoiceReference"] == inv["number"]
            and str(q.get("description", f"Cin7 {order} ")).startswith(f"Cin7 {order} ")
        ]
        if not found:
            verdict.add("lost", f"{order}: service invoice {inv['number']} is not in QAD")


def _check_purchase(verdict: Verdict, entry: Entry, index: _Index) -> None:
    order = entry["order_number"]
    if entry.get("type") == "Service Purchase":
        _check_service(verdict, order, entry, index.unlinked)
        return
    found = index.pos.get(order, [])
    if not found:
        verdict.add("lost", f"{order}: no PO in QAD")
        return
    if len(found) > 1:
        numbers = ", ".join(po["purchaseOrderNumber"] for po in found)
        verdict.add("duplicates", f"{order}: {len(found)} POs in QAD ({numbers})", len(found) - 1)
    po = found[0]
    _check_receipts(verdict, order, entry, po, index.received, index.codes)
    _check_invoices(verdict, order, entry, po, index.invoices)


def _receipts_by_line(receipts: Iterable[Mapping[str, Any]]) -> dict[tuple[str, int], Decimal]:
    totals: dict[tuple[str, int], Decimal] = {}
    for receipt in receipts:
        for line in receipt["lines"]:
            key = (receipt["purchaseOrderNumber"], int(line["line"]))
            totals[key] = totals.get(key, _ZERO) + _dec(line["quantity"])
    return totals


def _invoices(
    invoices: Iterable[Mapping[str, Any]],
) -> dict[tuple[str, str], list[Mapping[str, Any]]]:
    """QAD invoices (not credit notes) by (PO number, reference)."""
    out: dict[tuple[str, str], list[Mapping[str, Any]]] = {}
    for inv in invoices:
        if inv["type"] != "Invoice":
            continue
        for number in inv["purchaseOrders"]:
            out.setdefault((number, inv["invoiceReference"]), []).append(inv)
    return out


def _check_receipts(
    verdict: Verdict,
    order: str,
    entry: Entry,
    po: Mapping[str, Any],
    received: Mapping[tuple[str, int], Decimal],
    codes: Mapping[str, str],
) -> None:
    lines: dict[str, list[Mapping[str, Any]]] = {}
    for line in po["lines"]:
        lines.setdefault(str(line["itemCode"]).upper(), []).append(line)
    skus = set(entry["received"]) | set(entry["ordered"])
    for sku in sorted(skus):
        want = _dec(entry["received"].get(sku, "0"))
        item = codes.get(sku.upper(), sku).upper()
        on_po = lines.get(item, [])
        if not on_po:
            if want:
                verdict.add("receipt_mismatches", f"{order} {sku}: received {want}, no PO line")
            continue
        have = sum((_dec(line["quantityReceived"]) for line in on_po), _ZERO)
        via_receipts = sum(
            (received.get((po["purchaseOrderNumber"], int(line["line"])), _ZERO) for line in on_po),
            _ZERO,
        )
        if have != want or via_receipts != want:
            verdict.add(
                "receipt_mismatches",
                f"{order} {sku}: Cin7 received {want}, QAD PO line {have}, receipts {via_receipts}",
            )


def _check_invoices(
    verdict: Verdict,
    order: str,
    entry: Entry,
    po: Mapping[str, Any],
    invoices: Mapping[tuple[str, str], list[Mapping[str, Any]]],
) -> None:
    received = {sku: _dec(q) for sku, q in entry["received"].items()}
    invoiced: dict[str, Decimal] = {}
    for inv in entry["invoices"]:
        if inv["status"] not in ACTIVE_INVOICE:
            continue
        for sku, qty in inv["quantities"].items():
            invoiced[sku] = invoiced.get(sku, _ZERO) + _dec(qty)
        found = invoices.get((po["purchaseOrderNumber"], inv["number"]), [])
        covered = all(received.get(sku, _ZERO) >= qty for sku, qty in invoiced.items())
        if not found and covered:
            verdict.add("lost", f"{order}: invoice {inv['number']} is covered but not in QAD")


def _check_duplicate_documents(verdict: Verdict, qad: Mapping[str, Any]) -> None:
    slips = Counter(
        (r["purchaseOrderNumber"], r["packingSlip"]) for r in qad["receipts"] if r["packingSlip"]
    )
    for (po, slip), count in sorted(slips.items()):
        if count > 1:
            verdict.add("duplicates", f"PO {po}: receipt {slip} posted {count} times", count - 1)
    refs = Counter(
        (
            inv["supplierCode"],
            inv["invoiceReference"],
            inv["type"],
            tuple(inv["purchaseOrders"]) or inv.get("description", ""),
        )
        for inv in qad["supplierInvoices"]
    )
    for (supplier, reference, kind, _), count in sorted(refs.items()):
        if count > 1:
            verdict.add(
                "duplicates", f"{kind} {reference} of {supplier} posted {count} times", count - 1
            )


def _check_journal(verdict: Verdict, journal: Iterable[Mapping[str, Any]]) -> None:
    received: dict[tuple[str, int], Decimal] = {}
    invoiced: dict[tuple[str, int], Decimal] = {}
    for event in journal:
        if event["kind"] == "receipt":
            for line in event["lines"]:
                key = (event["purchaseOrderNumber"], int(line["line"]))
                received[key] = received.get(key, _ZERO) + _dec(line["quantity"])
            continue
        sign = -1 if event["kind"] == "credit_note" else 1
        early = []
        for line in event["lines"]:
            key = (line["purchaseOrderNumber"], int(line["line"]))
            invoiced[key] = invoiced.get(key, _ZERO) + sign * _dec(line["quantity"])
            if sign > 0 and invoiced[key] > received.get(key, _ZERO):
                early.append(f"PO {key[0]} line {key[1]}")
        if early:
            verdict.add(
                "early_invoices",
                f"invoice {event['invoiceReference']} matched more than was received on "
                + ", ".join(early),
            )
