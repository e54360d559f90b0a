"""Deterministic QAD codes, the planner's inputs, and its number formatting."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ml_connector.sync import codes
from ml_connector.sync.amounts import fmt_money, fmt_price, fmt_qty
from ml_connector.sync.inputs import Mappings

SLIP = re.compile(r"[A-Za-z0-9-]{1,20}")


@pytest.mark.parametrize(
    ("order_number", "expected"),
    [
        ("PO-00412", "PO-00412"),
        (" PO-1 ", "PO-1"),
        ("PO-000412", "Z" + codes.short_hash("PO-000412", 7)),
        ("PO 12", "Z" + codes.short_hash("PO 12", 7)),
    ],
)
def test_po_number_is_the_order_number_when_it_fits(order_number: str, expected: str) -> None:
    assert codes.po_number(order_number) == expected


@given(st.text(min_size=1, max_size=40))
def test_po_numbers_always_fit_qad(order_number: str) -> None:
    number = codes.po_number(order_number)

    assert re.fullmatch(r"[A-Za-z0-9-]{1,8}", number)
    assert codes.po_number(order_number) == number
    assert len(codes.po_remarks(order_number)) <= 40


def test_supplier_code_is_four_letters_of_the_name_and_a_hash_of_the_id() -> None:
    supplier_id = "3f6c1a2e-8b4d-4c2a-9e51-7d0b2f9a6c11"

    code = codes.supplier_code(supplier_id, "Harbour Fasteners Pty Ltd")

    assert code == "HARB" + codes.short_hash(supplier_id, 4)
    assert codes.supplier_code(supplier_id.upper(), "Harbour") == code
    assert codes.supplier_code(supplier_id, "3M").startswith("3MXX")
    assert codes.supplier_code(supplier_id, "Ökö & Co")[:4] == "KCOX"


def test_item_codes_keep_the_sku_when_qad_can_hold_it() -> None:
    assert codes.item_code(" wid-100 ") == "WID-100"
    long = "A-VERY-LONG-SKU-NAME-1"
    assert codes.item_code(long) == "I" + codes.short_hash(long, 17)
    assert len(codes.item_code("sku with spaces")) == 18


def test_packing_slips_fit_twenty_characters_and_differ_per_block() -> None:
    day = date(2024, 5, 6)

    simple = codes.packing_slip("PO-00412", day, natural_key="k1")
    task = codes.packing_slip("PO-00412", day, natural_key="k2", tag="task-a")
    adjusted = codes.packing_slip("PO-00412", day, natural_key="k3", adjustment=3)
    long = codes.packing_slip("PO-00412", day, natural_key="k4", tag="task-a", adjustment=1)
    unstock = codes.packing_slip("PO-00412", day, natural_key="k5", tag="CN-1", unstock=True)

    assert simple == "PO-00412-240506"
    assert task == "PO-00412-240506" + codes.short_hash("task-a", 4)
    assert adjusted == "PO-00412-240506-A3"
    assert long == "PO-00412-" + codes.short_hash("k4", 11)
    assert unstock == "PO-00412-U240506" + codes.short_hash("CN-1", 4)
    assert all(SLIP.fullmatch(s) for s in (simple, task, adjusted, long, unstock))


def test_document_reference_falls_back_to_po_and_position() -> None:
    assert codes.document_reference(" INV-9 ", "PO-1", letter="I", index=2) == "INV-9"
    assert codes.document_reference("", "PO-1", letter="I", index=2) == "PO-1-I2"
    assert codes.document_reference("", "PO-1", letter="C", index=1) == "PO-1-C1"


def test_mappings_look_up_case_insensitively_and_ignore_blanks() -> None:
    maps = Mappings(
        item={" Wid-100 ": " W100 ", "BRK-20": " "},
        supplier={"3F6C1A2E-8B4D-4C2A-9E51-7D0B2F9A6C11": "HF001"},
        labels={"account": {"425": "Freight & Courier"}},
    )

    assert maps.lookup("item", "WID-100") == "W100"
    assert maps.lookup("item", "BRK-20") is None
    assert maps.lookup("item", "  ") is None
    assert maps.lookup("supplier", "3f6c1a2e-8b4d-4c2a-9e51-7d0b2f9a6c11") == "HF001"
    assert maps.label("account", "425") == "Freight & Courier"
    assert maps.label("item", "WID-100") is None


def test_mappings_from_store_rows() -> None:
    maps = Mappings.from_rows(
        [("account", "425", "6100"), ("currency", "usd", "USD")],
        labels={"account": {"425": "Freight"}},
    )

    assert maps.lookup("account", "425") == "6100"
    assert maps.lookup("currency", "USD") == "USD"
    assert maps.lookup("item", "WID-100") is None
    assert maps.label("account", "425") == "Freight"


@pytest.mark.parametrize(
    ("value", "qty", "money", "price"),
    [
        (Decimal("10.0000"), "10", "10.00", "10.00"),
        (Decimal("1E+1"), "10", "10.00", "10.00"),
        (Decimal("12.5"), "12.5", "12.50", "12.50"),
        (Decimal("0.1234"), "0.1234", "0.12", "0.1234"),
        (Decimal("-0"), "0", "0.00", "0.00"),
        (Decimal("2.005"), "2.005", "2.01", "2.005"),
    ],
)
def test_numbers_read_the_way_finance_writes_them(
    value: Decimal, qty: str, money: str, price: str
) -> None:
    assert (fmt_qty(value), fmt_money(value), fmt_price(value)) == (qty, money, price)


@given(st.text(min_size=1, max_size=200), st.text(min_size=1, max_size=60))
def test_invoice_descriptions_fit_qad_and_name_the_order(order: str, reference: str) -> None:
    text = codes.invoice_description(order, reference)

    assert len(text) <= 80
    assert text == codes.invoice_description(order, reference)
    assert text.startswith(f"Cin7 {order.strip()}"[:80])
