"""Going live against both sandboxes, on SQLite and PostgreSQL: history before the cut-over
creates nothing in QAD, a purchase with activity after it waits on the worklist, and posting it
from the worklist posts it once."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from usecase_world import Setup

from ml_connector.errors import ConfigError
from ml_connector.usecases import (
    edit_connection,
    golive_post,
    golive_worklist,
    sync_connection,
)

SKU = "WID-100"


async def _records(s: Setup) -> dict[str, tuple[str, str | None]]:
    config = await s.config()
    assert config.id is not None
    return {
        r.reference: (r.status, r.reason)
        for r in await s.first.list_records(config.id, kind="purchase")
    }


async def test_the_cutover_setting_is_stored_typed_and_can_be_cleared(setup: Setup) -> None:
    edit = await edit_connection(setup.first, "acme", {"since": "2026-01-05"})
    assert edit.settings == ("since",)
    assert edit.config.sync.since == date(2026, 1, 5)
    assert edit.config.sync.adopt_existing is True  # on by default
    edit = await edit_connection(setup.first, "acme", {"adopt_existing": False})
    again = await setup.second.get_connection("acme")  # read back through another store
    assert (again.sync.since, again.sync.adopt_existing) == (date(2026, 1, 5), False)
    cleared = await edit_connection(setup.first, "acme", {"since": None})
    assert cleared.config.sync.since is None
    with pytest.raises(ConfigError):
        await edit_connection(setup.first, "acme", {"since": "2026-13-01"})


async def test_history_before_the_cutover_creates_nothing_in_qad(setup: Setup) -> None:
    await edit_connection(setup.first, "acme", {"since": date(2100, 1, 1)})

    result = await sync_connection(setup.first, "acme", remotes=setup.remotes)

    assert result.report.status == "succeeded", result.report.error
    assert setup.qad_po_numbers() == []
    statuses = {status for status, _ in (await _records(setup)).values()}
    assert "before-cutover" in statuses
    assert not statuses & {"posted", "pending", "held", "go-live"}
    assert result.report.counters.before_cutover >= 1
    assert result.report.counters.purchase_orders == 0


async def test_activity_after_the_cutover_waits_on_the_worklist_until_posted(
    setup: Setup,
) -> None:
    state = setup.cin7.state
    supplier = state.suppliers[0].id
    doc = state.create_purchase("STOCK", [{"sku": SKU, "quantity": 5}], supplier_id=supplier)
    ordered = date.fromisoformat(doc["OrderDate"][:10])
    state.receive(doc["ID"], date=ordered + timedelta(days=2))
    order = doc["OrderNumber"]
    await edit_connection(setup.first, "acme", {"since": ordered + timedelta(days=1)})

    first = await sync_connection(setup.first, "acme", remotes=setup.remotes)

    assert first.report.status == "succeeded", first.report.error
    status, reason = (await _records(setup))[order]
    assert status == "go-live"
    assert reason is not None
    assert "before the cut-over" in reason
    assert order not in setup.qad_po_numbers()
    assert first.report.counters.go_live == 1
    worklist = await golive_worklist(setup.first, "acme")
    [entry] = [e for e in worklist.entries if e.reference == order]
    assert any(line.startswith(f"create PO {order}") for line in entry.would_post), entry
    assert any(line.startswith("receive ") for line in entry.would_post), entry

    again = await sync_connection(setup.first, "acme", remotes=setup.remotes)
    assert order not in setup.qad_po_numbers()  # another pass does not post it either
    assert again.report.counters.purchase_orders == 0

    other = next(r for r, (st, _) in (await _records(setup)).items() if st != "go-live")
    with pytest.raises(ConfigError, match="not on the go-live worklist"):
        await golive_post(setup.first, "acme", [other], remotes=setup.remotes)

    posted = await golive_post(
        setup.first, "acme", [order], actor="golive:finance", remotes=setup.remotes
    )

    assert posted is not None
    assert [(o.reference, o.status) for o in posted.outcomes] == [(order, "posted")]
    assert setup.qad_po_numbers().count(order) == 1
    config = await setup.first.get_connection("acme")
    assert config.id is not None
    trail = await setup.first.trail(config.id, f"purchase:{order}")
    events = [e.event for e in trail]
    assert "go-live" in events
    assert events.index("golive-released") > events.index("go-live")
    assert next(e for e in trail if e.event == "golive-released").actor == "golive:finance"
    assert (await golive_worklist(setup.first, "acme")).entries == ()

    tenant_before = setup.qad.tenant().state()
    later = await sync_connection(setup.first, "acme", remotes=setup.remotes)
    assert later.report.counters.purchase_orders == 0
    assert later.report.counters.receipts == 0
    assert setup.qad.tenant().state()["purchaseOrders"] == tenant_before["purchaseOrders"]
