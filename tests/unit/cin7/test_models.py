"""The Cin7 models read the reference's own examples and absorb every documented quirk."""

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from ml_connector.cin7.models import (
    Purchase,
    PurchaseListRow,
    Supplier,
    format_timestamp,
    parse_timestamp,
)
from ml_connector.errors import InvalidPayload

FIXTURES = Path(__file__).parents[2] / "fixtures"


def load(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-08-28T12:59:44.05", datetime(2026, 8, 28, 12, 59, 44, 50000, tzinfo=UTC)),
        ("2018-04-19T04:03:06.52Z", datetime(2018, 4, 19, 4, 3, 6, 520000, tzinfo=UTC)),
        ("2017-12-05T06:05:06.9472864Z", datetime(2017, 12, 5, 6, 5, 6, 947286, tzinfo=UTC)),
        ("2018-02-22T00:00:00", datetime(2018, 2, 22, tzinfo=UTC)),
        ("2025-10-27", datetime(2025, 10, 27, tzinfo=UTC)),
        ("2026-01-01T10:00:00+02:00", datetime(2026, 1, 1, 8, tzinfo=UTC)),
    ],
)
def test_timestamps_parse_every_seen_format(text: str, expected: datetime) -> None:
    assert parse_timestamp(text) == expected


def test_timestamp_formatting_for_queries_has_milliseconds_and_no_zone() -> None:
    assert format_timestamp(datetime(2026, 8, 28, 12, 59, 44, 50000, tzinfo=UTC)) == (
        "2026-08-28T12:59:44.050"
    )


def test_garbage_timestamp_is_refused() -> None:
    with pytest.raises(ValueError, match="not a Cin7 date"):
        parse_timestamp("yesterday")


def test_simple_purchase_normalises_receipts_by_day() -> None:
    purchase = Purchase.from_cin7(load("simple_purchase.json"))
    assert purchase.order_number == "PO-00412"
    assert not purchase.is_advanced
    assert [r.key for r in purchase.receipts] == ["2024-05-06", "2024-05-08"]
    first = purchase.receipts[0]
    assert first.status == "AUTHORISED"
    assert {(line.sku, line.quantity) for line in first.lines} == {
        ("WID-100", Decimal(6)),
        ("BRK-20", Decimal(40)),
    }
    assert [inv.number for inv in purchase.invoices] == ["HF-INV-5521"]
    assert purchase.invoices[0].charges[0].account == "425"
    assert purchase.credit_notes == []  # NOT AVAILABLE sub-documents are dropped
    assert purchase.raw["OrderNumber"] == "PO-00412"
    assert purchase.last_updated_raw == "2024-05-10T03:21:07.417"
    assert purchase.order_date == date(2024, 5, 1)


def test_advanced_purchase_reads_put_away_not_stock_received() -> None:
    payload = load("simple_purchase.json")
    sr = payload.pop("StockReceived")
    task = "AAAAAAAA-0000-4000-8000-000000000001"
    payload["Type"] = "Advanced Purchase"
    payload["StockReceived"] = [{"TaskID": task, "Status": "DRAFT", "Lines": sr["Lines"]}]
    payload["PutAway"] = [{"TaskID": task, "Status": "AUTHORISED", "Lines": sr["Lines"][:1]}]
    payload["Invoice"] = [{**payload["Invoice"], "TaskID": task}]
    payload["CreditNote"] = [{**payload["CreditNote"], "TaskID": task, "Unstock": []}]
    purchase = Purchase.from_cin7(payload)
    assert purchase.is_advanced
    assert len(purchase.receipts) == 1
    receipt = purchase.receipts[0]
    assert receipt.key == f"{task.lower()}/2024-05-06"
    assert receipt.status == "AUTHORISED"
    assert [line.quantity for line in receipt.lines] == [Decimal(6)]


def test_quirks_strings_nulls_typo_and_uppercase_guids() -> None:
    payload = load("simple_purchase.json")
    payload["ID"] = payload["ID"].upper()
    payload["Order"]["Lines"][0]["Quantity"] = "10.0000"
    payload["Order"]["Lines"][0]["Discount"] = None
    invoice = payload["Invoice"]
    invoice["InvocieNumber"] = invoice.pop("InvoiceNumber")
    purchase = Purchase.from_cin7(payload)
    assert purchase.id == "5b1e7c90-3d2a-4f86-b8e1-2c9d04a7f615"
    assert purchase.order.lines[0].quantity == Decimal(10)
    assert purchase.order.lines[0].discount == Decimal(0)
    assert purchase.invoices[0].number == "HF-INV-5521"


def test_numbers_read_as_written_whatever_their_json_type() -> None:
    payload = load("simple_purchase.json")
    line = payload["Order"]["Lines"][0]
    line.update(Quantity=10, Price=2.50, Discount="7.50", Tax=True)
    with pytest.raises(InvalidPayload, match="not true/false"):
        Purchase.from_cin7(payload)
    line["Tax"] = 0
    read = Purchase.from_cin7(payload).order.lines[0]
    assert (str(read.quantity), str(read.price), str(read.discount), str(read.tax)) == (
        "10",
        "2.5",
        "7.50",
        "0",
    )


def test_the_same_timestamp_read_twice_is_the_same_moment() -> None:
    payload = load("simple_purchase.json")
    first, again = Purchase.from_cin7(payload), Purchase.from_cin7(payload)
    assert first.order_date == again.order_date
    assert first.last_updated == again.last_updated
    payload["OrderDate"] = "2026-02-30"
    with pytest.raises(InvalidPayload):
        Purchase.from_cin7(payload)


def test_mistyped_payload_fails_with_a_readable_reason() -> None:
    payload = load("simple_purchase.json")
    payload["Order"]["Lines"][1]["Quantity"] = "forty"
    with pytest.raises(InvalidPayload) as caught:
        Purchase.from_cin7(payload)
    assert "Quantity" in str(caught.value)
    assert "'forty' is not a number" in str(caught.value)


def test_supplier_and_list_rows() -> None:
    supplier = Supplier.from_cin7(load("supplier.json"))
    assert supplier.name == "Harbour Fasteners Pty Ltd"
    assert supplier.business_address is not None
    assert supplier.business_address.city == "Port Melbourne"
    assert supplier.default_contact is not None
    assert supplier.default_contact.email == "orders@harbourfasteners.example"
    rows = [PurchaseListRow.from_cin7(r) for r in load("purchase_list.json")["PurchaseList"]]
    assert [r.is_simple for r in rows] == [True, True, False]
    assert rows[1].last_updated_raw == "2024-05-08T22:05:41.3"
    assert rows[1].last_updated == datetime(2024, 5, 8, 22, 5, 41, 300000, tzinfo=UTC)
