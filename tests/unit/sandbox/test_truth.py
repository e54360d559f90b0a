"""Losses, duplicates and early invoices, judged from the two sandboxes' books alone."""

from __future__ import annotations

import copy
from typing import Any

from ml_connector.sandbox.truth import Books, audit, authorised, documents_of, landed


def _entry(order: str, **changes: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "id": f"id-{order}",
        "order_number": order,
        "order_status": "AUTHORISED",
        "voided": False,
        "tampered": False,
        "ordered": {"WID-100": "10", "CBL-050": "4"},
        "received": {"WID-100": "10", "CBL-050": "4"},
        "invoices": [
            {
                "number": f"INV-{order}",
                "status": "AUTHORISED",
                "total": "130",
                "quantities": {"WID-100": "10"},
            }
        ],
        "credit_notes": [],
    }
    entry.update(changes)
    return entry


def _po(order: str, number: str, received: tuple[int, int] = (10, 4)) -> dict[str, Any]:
    return {
        "purchaseOrderNumber": number,
        "supplierCode": "S1",
        "remarks": f"Cin7 {order}",
        "lines": [
            {"line": 1, "itemCode": "WID-100", "quantityReceived": received[0]},
            {"line": 2, "itemCode": "CBL050", "quantityReceived": received[1]},
        ],
    }


def _books() -> Books:
    """PO-1 wholly in QAD; PO-2 waiting for its invoice, which QAD's receipts do not cover."""
    ledger = [
        _entry("PO-1"),
        _entry("PO-2", received={"WID-100": "4"}),
        _entry("PO-3", order_status="DRAFT"),
    ]
    qad = {
        "purchaseOrders": [_po("PO-1", "P1"), _po("PO-2", "P2", (4, 0))],
        "receipts": [
            {
                "receiverNumber": "R1",
                "purchaseOrderNumber": "P1",
                "packingSlip": "P1-1",
                "lines": [{"line": 1, "quantity": 10}, {"line": 2, "quantity": 4}],
            },
            {
                "receiverNumber": "R2",
                "purchaseOrderNumber": "P2",
                "packingSlip": "P2-1",
                "lines": [{"line": 1, "quantity": 4}],
            },
        ],
        "supplierInvoices": [
            {
                "voucher": 1,
                "supplierCode": "S1",
                "invoiceReference": "INV-PO-1",
                "type": "Invoice",
                "purchaseOrders": ["P1"],
            }
        ],
    }
    journal = [
        {"kind": "receipt", "number": "R1", "purchaseOrderNumber": "P1", "lines": [
            {"line": 1, "quantity": 10}, {"line": 2, "quantity": 4}]},
        {"kind": "receipt", "number": "R2", "purchaseOrderNumber": "P2", "lines": [
            {"line": 1, "quantity": 4}]},
        {"kind": "invoice", "number": "1", "invoiceReference": "INV-PO-1", "lines": [
            {"purchaseOrderNumber": "P1", "line": 1, "quantity": 10}]},
    ]  # fmt: skip
    return Books(ledger, qad, journal)


CODES = {"CBL-050": "CBL050"}


def test_books_that_agree_are_clean_and_a_held_invoice_is_not_lost() -> None:
    verdict = audit(_books(), item_codes=CODES)
    assert verdict.clean, verdict.findings
    assert verdict.purchases == 2, "the draft order is not expected in QAD"


def test_item_codes_come_from_the_caller() -> None:
    verdict = audit(_books())
    assert verdict.findings == ["PO-1 CBL-050: received 4, no PO line"], "CBL050 in QAD"


def test_a_missing_po_and_a_covered_invoice_missing_are_lost() -> None:
    books = _books()
    books.qad["purchaseOrders"].pop(1)
    books.qad["supplierInvoices"].clear()
    verdict = audit(books, item_codes=CODES)
    assert verdict.lost == 2
    assert "PO-2: no PO in QAD" in verdict.findings
    assert "PO-1: invoice INV-PO-1 is covered but not in QAD" in verdict.findings


def test_twice_posted_documents_are_duplicates() -> None:
    books = _books()
    books.qad["purchaseOrders"].append(_po("PO-1", "P9"))
    books.qad["receipts"].append(copy.deepcopy(books.qad["receipts"][1]))
    books.qad["supplierInvoices"].append(dict(books.qad["supplierInvoices"][0], voucher=2))
    verdict = audit(books, item_codes=CODES)
    assert verdict.duplicates == 3, verdict.findings


def test_a_received_quantity_that_differs_is_a_mismatch() -> None:
    books = _books()
    books.qad["purchaseOrders"][0]["lines"][0]["quantityReceived"] = 14
    verdict = audit(books, item_codes=CODES)
    assert verdict.receipt_mismatches == 1
    assert verdict.findings == ["PO-1 WID-100: Cin7 received 10, QAD PO line 14, receipts 10"]


def test_an_invoice_posted_before_its_goods_is_early() -> None:
    books = _books()
    books.journal.insert(0, books.journal.pop())
    verdict = audit(books, item_codes=CODES)
    assert verdict.early_invoices == 1
    assert "matched more than was received on PO P1 line 1" in verdict.findings[0]


def test_a_credit_note_gives_matched_quantity_back() -> None:
    books = _books()
    books.journal.extend([
        {"kind": "credit_note", "number": "2", "invoiceReference": "CR-1", "lines": [
            {"purchaseOrderNumber": "P1", "line": 1, "quantity": 10}]},
        {"kind": "invoice", "number": "3", "invoiceReference": "INV-B", "lines": [
            {"purchaseOrderNumber": "P1", "line": 1, "quantity": 10}]},
    ])  # fmt: skip
    assert audit(books, item_codes=CODES).early_invoices == 0


def test_documents_of_and_landed_speak_of_one_purchase() -> None:
    books = _books()
    assert documents_of(books, "PO-1") == [
        "PO P1",
        "receipt R1",
        "Invoice INV-PO-1 (voucher 1)",
    ]
    assert documents_of(books, "PO-3") == []
    assert landed(books, books.ledger[0], item_codes=CODES) == []
    books.qad["supplierInvoices"].clear()
    assert landed(books, books.ledger[0], item_codes=CODES) == [
        "PO-1: invoice INV-PO-1 is covered but not in QAD"
    ]
    assert authorised(books.ledger[0])
    assert not authorised(books.ledger[2])


def test_a_service_purchase_is_judged_by_its_invoice_without_a_po() -> None:
    service = _entry("PO-9", type="Service Purchase", ordered={}, received={})
    service["invoices"][0]["quantities"] = {}
    books = _books()
    ledger = [*books.ledger, service]
    posted = {
        "voucher": 9,
        "supplierCode": "S1",
        "invoiceReference": "INV-PO-9",
        "type": "Invoice",
        "purchaseOrders": [],
        "description": "Cin7 PO-9 INV-PO-9",
    }
    other = {**posted, "voucher": 10, "description": "Cin7 PO-10 INV-PO-9"}

    missing = audit(Books(ledger, books.qad, books.journal))
    landed_ok = audit(
        Books(
            ledger,
            {**books.qad, "supplierInvoices": [*books.qad["supplierInvoices"], posted, other]},
            books.journal,
        )
    )

    assert "PO-9: service invoice INV-PO-9 is not in QAD" in missing.findings
    assert not [f for f in landed_ok.findings if "PO-9" in f]
    assert landed_ok.duplicates == 0
