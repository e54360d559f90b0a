"""`resync --from`: the purchase cursor moves back, the next pass lists that window again,
and nothing is posted twice (SQLite and PostgreSQL, both sandboxes in-process)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from usecase_world import Setup

from ml_connector.usecases import resync_from, sync_connection


async def test_a_replayed_window_posts_nothing_twice(setup: Setup) -> None:
    first = await sync_connection(setup.first, "acme", remotes=setup.remotes)
    assert first.report.status == "succeeded", first.report.error
    assert first.report.counters.purchase_orders > 0
    config = await setup.config()
    assert config.id is not None
    cursor = await setup.first.get_cursor(config.id, "purchases")
    assert cursor is not None
    assert cursor.value_at is not None
    tenant_before = setup.qad.tenant().state()

    day = cursor.value_at.date() - timedelta(days=400)
    move = await resync_from(setup.first, "acme", day)

    assert move.moved
    assert move.after == datetime(day.year, day.month, day.day, tzinfo=UTC)
    moved = await setup.first.get_cursor(config.id, "purchases")
    assert moved is not None
    assert moved.value_at is not None
    assert moved.value_at.replace(tzinfo=UTC) == move.after

    again = await sync_connection(setup.first, "acme", remotes=setup.remotes)

    assert again.report.status == "succeeded", again.report.error
    c = again.report.counters
    assert (c.purchase_orders, c.receipts, c.invoices, c.credit_notes) == (0, 0, 0, 0)
    after = setup.qad.tenant().state()
    for kind in ("purchaseOrders", "receivers", "supplierInvoices"):
        assert after.get(kind) == tenant_before.get(kind), kind


async def test_a_cursor_already_before_the_day_stays(setup: Setup) -> None:
    assert not (await resync_from(setup.first, "acme", date(2020, 1, 1))).moved  # no cursor yet
    await sync_connection(setup.first, "acme", remotes=setup.remotes)
    config = await setup.config()
    assert config.id is not None
    cursor = await setup.first.get_cursor(config.id, "purchases")
    assert cursor is not None

    move = await resync_from(setup.first, "acme", date(2999, 1, 1))

    assert not move.moved
    assert await setup.first.get_cursor(config.id, "purchases") == cursor
