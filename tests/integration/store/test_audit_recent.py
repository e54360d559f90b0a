"""The audit alert's check after every pass walks only what is new: the events appended since
the store last found the chain intact (and every record's status). `audit verify` still walks
the whole chain, so an edit of an old event is found there, and by the alert's next whole walk.
On SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text

from ml_connector.store import SqlStore
from ml_connector.store.models import AuditEvent
from ml_connector.store.sql import trail
from ml_connector.vault import Vault

KEY = "purchase:PO-1"


async def _append(store: SqlStore, cid: int, *events: str) -> list[AuditEvent]:
    return [await store.append(cid, KEY, e, "sync") for e in events]  # type: ignore[arg-type]


async def _tamper(store: SqlStore, event_id: int) -> None:
    async with store.engine.begin() as c:
        await c.execute(
            text("UPDATE audit_events SET actor = 'mallory' WHERE id = :id"), {"id": event_id}
        )


def _pages_from(store: SqlStore, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The ``after_id`` of every page of events the store reads from now on."""
    seen: list[int] = []
    read = store.events

    async def spy(connection_id: int, **kwargs: Any) -> list[AuditEvent]:
        seen.append(kwargs.get("after_id", 0))
        return await read(connection_id, **kwargs)

    monkeypatch.setattr(store, "events", spy)
    return seen


async def test_after_an_intact_walk_only_the_new_events_are_read(
    store: SqlStore, cid: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = await _append(store, cid, "fetched", "planned", "posted")
    pages = _pages_from(store, monkeypatch)
    assert await store.verify_recent(cid) == []
    assert pages[0] == 0  # the first check walks the whole chain

    new = await _append(store, cid, "fetched", "planned")
    pages.clear()
    assert await store.verify_recent(cid) == []
    assert pages[0] == old[-1].id  # then only what was appended since
    pages.clear()
    assert await store.verify_recent(cid) == []
    assert pages == [new[-1].id]  # nothing new: one empty page


async def test_a_tampered_new_event_is_caught_by_the_recent_check(
    store: SqlStore, cid: int
) -> None:
    await _append(store, cid, "fetched", "planned", "posted")
    assert await store.verify_recent(cid) == []
    new = await _append(store, cid, "fetched", "planned")
    await _tamper(store, new[0].id)

    broken = await store.verify_recent(cid)

    assert [(b.kind, b.event_id) for b in broken] == [("link-mismatch", new[0].id)]
    assert await store.verify(cid) == broken


async def test_a_tampered_old_event_is_caught_by_the_full_verify_and_the_next_whole_walk(
    store: SqlStore, cid: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = await _append(store, cid, "fetched", "planned", "posted")
    assert await store.verify_recent(cid) == []
    await _tamper(store, old[1].id)
    await _append(store, cid, "fetched")

    # walked and found intact before the edit: the recent check does not read it again...
    assert await store.verify_recent(cid) == []
    # ...`audit verify` walks everything...
    full = await store.verify(cid)
    assert [(b.kind, b.event_id) for b in full] == [("link-mismatch", old[1].id)]
    # ...and so does the recent check once its whole walk is old enough
    monkeypatch.setattr(trail, "FULL_WALK_EVERY_S", 0.0)
    assert await store.verify_recent(cid) == full
    # a chain found broken leaves no walk to go on from: the next check walks it all again
    monkeypatch.setattr(trail, "FULL_WALK_EVERY_S", 3600.0)
    assert await store.verify_recent(cid) == full


async def test_events_appended_by_another_store_are_walked_on_from_the_checkpoint(
    store: SqlStore, cid: int, database_url: str, vault: Vault
) -> None:
    await _append(store, cid, "fetched", "planned")
    assert await store.verify_recent(cid) == []
    other = await SqlStore.open(database_url, vault, migrate=False)
    try:
        await _append(other, cid, "posted", "fetched")
        assert await store.verify_recent(cid) == []
        later = await _append(other, cid, "planned")
        await _tamper(other, later[0].id)
        assert [(b.kind, b.event_id) for b in await store.verify_recent(cid)] == [
            ("link-mismatch", later[0].id)
        ]
    finally:
        await other.close()


@pytest.mark.parametrize("whole", [True, False], ids=["verify", "verify_recent"])
async def test_an_append_landing_mid_walk_is_no_break(
    store: SqlStore,
    cid: int,
    database_url: str,
    vault: Vault,
    monkeypatch: pytest.MonkeyPatch,
    whole: bool,
) -> None:
    await _append(store, cid, "fetched", "planned")
    if not whole:
        assert await store.verify_recent(cid) == []
    other = await SqlStore.open(database_url, vault, migrate=False)
    read = store.events

    async def then_append(connection_id: int, **kwargs: Any) -> list[AuditEvent]:
        page = await read(connection_id, **kwargs)
        if not page:  # the walk has read the last page: another process appends now
            await _append(other, cid, "posted")
        return page

    monkeypatch.setattr(store, "events", then_append)
    try:
        check = store.verify(cid) if whole else store.verify_recent(cid)
        assert await check == []
        monkeypatch.setattr(store, "events", read)
        assert await store.verify(cid) == []  # and the appended event verifies too
    finally:
        await other.close()
