"""Quarantine snapshots and the bounded identities of unreadable Cin7 rows."""

from __future__ import annotations

from ml_connector.sync.quarantine import (
    CIN7_ID_MAX,
    cin7_id_of,
    quarantine_payload,
    quarantined,
    reference_of,
    refused,
    stamp_of,
    unreadable,
)


def test_a_quarantine_snapshot_carries_its_reason_and_a_document_does_not() -> None:
    why = unreadable(["purchase list row: OrderDate: not a Cin7 date: '19/12/2025'"])
    payload = quarantine_payload(why, {"ID": "x", "OrderDate": "19/12/2025"})
    assert quarantined(payload) == why
    assert why.startswith("Cin7 document unreadable: purchase list row: OrderDate")
    assert quarantined({"ID": "x", "OrderNumber": "PO-1"}) is None
    assert refused("GET purchase: gone") == "Cin7 refused the purchase detail: GET purchase: gone"


def test_identities_fit_the_store_and_stay_distinct() -> None:
    first, second = cin7_id_of("A" * 300 + "1"), cin7_id_of("A" * 300 + "2")
    assert first is not None
    assert second is not None
    assert len(first) <= CIN7_ID_MAX
    assert first != second
    assert cin7_id_of(" ABC ") == "abc"
    assert cin7_id_of(None) is None
    assert cin7_id_of({"nested": 1}) is None
    assert reference_of("PO-" + "7" * 300, "abc").startswith("PO-777")
    assert len(reference_of("PO-" + "7" * 300, "abc")) <= 128
    assert reference_of(None, "abc") == "abc"
    assert reference_of(["PO-1"], "abc") == "abc"
    assert stamp_of(None) == ""
    assert len(stamp_of("z" * 100)) <= 64
