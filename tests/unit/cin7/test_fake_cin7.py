"""FakeCin7 answers as Cin7Client does: the same models, `since` strictly after, errors by kind."""

from __future__ import annotations

import pytest

from ml_connector.errors import AuthRejected, NotFound
from ml_connector.testing import FakeCin7, FakeClock


async def test_lists_filter_strictly_after_the_stamp_and_count_calls() -> None:
    cin7 = FakeCin7(clock=FakeClock())
    suppliers = [s async for s in cin7.suppliers()]
    assert len(suppliers) == 6
    assert [r async for r in cin7.purchase_list()] == []

    first = cin7.state.create_purchase(
        "STOCK", [{"sku": "WID-100", "quantity": 2}], supplier_id=suppliers[0].id
    )
    [row] = [r async for r in cin7.purchase_list()]
    assert (row.id, row.order_number) == (first["ID"], first["OrderNumber"])
    assert [r async for r in cin7.purchase_list(row.last_updated_raw)] == []
    cin7.state.receive(first["ID"])
    [again] = [r async for r in cin7.purchase_list(row.last_updated_raw)]
    assert again.last_updated is not None
    assert row.last_updated is not None
    assert again.last_updated > row.last_updated

    detail = await cin7.purchase_json(row.id, row.type)
    assert detail["ID"] == first["ID"]
    assert detail["OrderNumber"] == first["OrderNumber"]
    assert cin7.calls == 6  # one per list page or detail


async def test_reference_reads_and_failures() -> None:
    cin7 = FakeCin7(clock=FakeClock())
    assert await cin7.accounts()
    assert await cin7.tax_rules()
    assert await cin7.payment_terms()
    assert await cin7.locations()
    assert [p async for p in cin7.products()]
    with pytest.raises(NotFound):
        await cin7.purchase_json("00000000-0000-4000-8000-000000000000")
    cin7.fail_with(AuthRejected("Method authentication failed", system="cin7", status=403))
    with pytest.raises(AuthRejected):
        await cin7.accounts()
    cin7.recover()
    assert await cin7.accounts()
