"""The fake QAD channel's own contract (faults, counting, the shipped surface), and the routed
channel (`qad/routing.py`) mixing channels per capability, shown on two fakes."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from qad_fakes import po_spec, supplier_spec

from ml_connector.errors import AuthRejected, RecordRejected, Unavailable, WriteOutcomeUnknown
from ml_connector.qad import QadOperations, ReceiptSpec
from ml_connector.qad.channel import Channel
from ml_connector.qad.fake import FakeQadChannel, default_reference
from ml_connector.qad.routing import RoutedChannel


def test_the_fake_is_a_channel() -> None:
    assert isinstance(FakeQadChannel(), Channel)


def test_faults_name_a_real_operation_and_fit_it() -> None:
    fake = FakeQadChannel()
    with pytest.raises(ValueError, match="no channel operation"):
        fake.inject("post_reciept", "silent")
    with pytest.raises(ValueError, match="does not write"):
        fake.inject("find_receipts", "lost-answer")
    fake.inject("find_receipts", "unavailable")  # reads can fail, too


async def test_read_faults_fail_the_call_and_are_used_up() -> None:
    fake = FakeQadChannel()
    fake.inject("get_supplier", "unavailable")
    fake.inject("ping", "auth-rejected")
    with pytest.raises(Unavailable):
        await fake.get_supplier("S1001")
    assert await fake.get_supplier("S1001") is None
    with pytest.raises(AuthRejected):
        await fake.ping()
    await fake.ping()
    assert fake.calls == 4
    assert fake.calls_by_operation == {"get_supplier": 2, "ping": 2}


async def test_write_faults_apply_or_not_as_named() -> None:
    fake = FakeQadChannel()
    spec = supplier_spec()
    fake.inject("create_business_relation", "not-sent")
    with pytest.raises(WriteOutcomeUnknown):
        await fake.create_business_relation(spec)
    assert not await fake.has_business_relation(spec.relation_code)
    fake.inject("create_business_relation", "lost-answer")
    with pytest.raises(WriteOutcomeUnknown):
        await fake.create_business_relation(spec)
    assert await fake.has_business_relation(spec.relation_code)
    fake.inject("create_supplier", "silent")
    await fake.create_supplier(spec)  # "success"
    assert await fake.get_supplier(spec.code) is None
    fake.inject("create_supplier", "error-after-write")
    with pytest.raises(RecordRejected, match="did not complete"):
        await fake.create_supplier(spec)
    assert await fake.get_supplier(spec.code) is not None
    assert fake.writes == ["create_business_relation", "create_supplier"]


async def test_a_refusal_changes_nothing() -> None:
    fake = FakeQadChannel()
    ops = QadOperations(fake)
    await ops.ensure_supplier(supplier_spec())
    spec = po_spec("FK000001", lines=2)
    await ops.ensure_purchase_order(spec)
    mixed = ReceiptSpec(
        po_number=spec.number,
        packing_slip="PS-1",
        effective_date=dt.date(2026, 3, 10),
        lines=[(1, Decimal(1)), (7, Decimal(1))],  # line 7 does not exist
    )
    with pytest.raises(RecordRejected, match="line 7 does not exist"):
        await fake.post_receipt(mixed)
    po = await fake.get_purchase_order(spec.number)
    assert po is not None
    assert [line.quantity_received for line in po.lines] == [0, 0]
    assert fake.receipts_posted == []


async def test_reference_lists_are_the_tenants() -> None:
    reference = default_reference()
    fake = FakeQadChannel(reference=reference)
    assert [i.code for i in await fake.items()] == [i.code for i in reference.items]
    assert {s.code for s in await fake.sites()} == {"10-100", "10-200"}
    assert [t.code for t in await fake.credit_terms()] == ["N30", "N60"]
    assert len(await fake.gl_accounts()) == len(reference.gl_accounts)
    assert len(await fake.currencies()) == len(reference.currencies)
    assert len(await fake.tax_classes()) == len(reference.tax_classes)
    assert await fake.suppliers() == []


async def test_routed_channel_sends_each_capability_to_its_channel() -> None:
    parties, documents = FakeQadChannel(), FakeQadChannel()
    routed = RoutedChannel(
        suppliers=parties,
        purchasing=documents,
        receiving=documents,
        invoicing=documents,
        reference=parties,
    )
    await QadOperations(routed).ensure_supplier(supplier_spec())
    assert await parties.get_supplier("S1001") is not None
    assert await documents.get_supplier("S1001") is None
    assert await routed.get_item("WID-100") is not None
    assert parties.calls_by_operation["get_item"] == 1
    assert routed.calls == parties.calls + documents.calls
    await routed.ping()
    assert (parties.calls_by_operation["ping"], documents.calls_by_operation["ping"]) == (1, 1)
    async with routed:
        pass
    assert parties.closed
    assert documents.closed


async def test_one_channel_serving_every_capability_is_counted_and_pinged_once() -> None:
    fake = FakeQadChannel()
    routed = RoutedChannel(
        suppliers=fake, purchasing=fake, receiving=fake, invoicing=fake, reference=fake
    )
    await routed.ping()
    await QadOperations(routed).ensure_supplier(supplier_spec())
    assert routed.calls == fake.calls
    assert fake.calls_by_operation["ping"] == 1
