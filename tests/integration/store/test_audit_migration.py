"""Upgrading a database whose trails were written before they were keyed (revision 0004).

The trail is built as the previous head held it (plain SHA-256 links, no key versions) by
writing one with today's store, re-linking it the old way, and downgrading the schema to it.
Migration 0005 only adds columns; the store opened with the master key seals each legacy
chain, and from then on a legacy event rewritten together with its plain chain is found.
"""

from __future__ import annotations

from alembic import command
from sqlalchemy import inspect, text
from store_helpers import make_config, raw

from ml_connector.store import SqlStore, create_engine, current_revision, event_hash, upgrade
from ml_connector.store.audit import GENESIS, ChainHead
from ml_connector.store.db import alembic_config
from ml_connector.vault import Vault

KEY = "purchase:PO-1"
PREVIOUS = "0004_shared_throttles"


async def _downgrade(url: str, revision: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:

            def down(sync: object) -> None:
                cfg = alembic_config()
                cfg.attributes["connection"] = sync
                command.downgrade(cfg, revision)

            await conn.run_sync(down)
    finally:
        await engine.dispose()


async def _relink_plainly(
    store: SqlStore, cid: int, *, start: int = 0, stop: int | None = None
) -> str:
    """Re-link events[start:stop] with plain SHA-256, each chained to the one before."""
    events = (await store.events(cid))[start:stop]
    prev = events[0].prev_hash
    for ev in events:
        link = event_hash(
            prev_hash=prev,
            connection_id=cid,
            record_key=ev.record_key,
            seq=ev.seq,
            at=ev.at,
            event=ev.event,
            actor=ev.actor,
            data=ev.data,
        )
        await raw(
            store,
            "UPDATE audit_events SET prev_hash = :prev, hash = :link, key_version = 0 "
            "WHERE id = :id",
            prev=prev,
            link=link,
            id=ev.id,
        )
        prev = link
    return prev


async def _legacy_database(url: str, vault: Vault) -> tuple[int, ChainHead]:
    """A database at the previous head: one connection, two records, a plain-hash trail."""
    store = await SqlStore.open(url, vault)
    try:
        added = await store.add_connection(make_config("acme"))
        assert added.id is not None
        cid = added.id
        await store.upsert_record(cid, "purchase", "id-1", reference="PO-1", status="posted")
        await store.upsert_record(cid, "supplier", "s-1", reference="Acme Ltd")
        for event in ("fetched", "planned", "intent", "posted"):
            await store.append(cid, KEY, event, "sync", {"step": event})  # type: ignore[arg-type]
        count = len(await store.events(cid))
        last = await _relink_plainly(store, cid)
        await raw(store, "UPDATE audit_heads SET last_hash = :h, count = :n", h=last, n=count)
        await raw(store, "DELETE FROM audit_keys")
    finally:
        await store.close()
    await _downgrade(url, PREVIOUS)
    return cid, ChainHead(count, last)


async def test_upgrade_from_the_previous_head_keeps_the_trail_and_the_store_seals_it(
    database_url: str,
) -> None:
    vault = Vault.ephemeral()
    cid, legacy = await _legacy_database(database_url, vault)
    assert await current_revision(database_url) == PREVIOUS
    engine = create_engine(database_url)
    try:
        async with engine.connect() as conn:
            columns = await conn.run_sync(
                lambda sync: [c["name"] for c in inspect(sync).get_columns("audit_events")]
            )
        assert "key_version" not in columns
    finally:
        await engine.dispose()

    await upgrade(database_url)
    unsealed = await SqlStore.open(database_url)  # no vault: nothing can be sealed
    try:
        assert [e.key_version for e in await unsealed.events(cid)] == [0] * legacy.count
        assert [p.kind for p in await unsealed.verify(cid)] == ["unsealed"]
    finally:
        await unsealed.close()

    store = await SqlStore.open(database_url, vault)
    try:
        events = await store.events(cid)
        assert [e.key_version for e in events[: legacy.count]] == [0] * legacy.count
        seal = events[legacy.count]
        assert (seal.event, seal.key_version, seal.prev_hash) == ("trail-sealed", 1, legacy.link)
        assert seal.data == {"legacy_events": legacy.count, "legacy_head": legacy.link}
        baseline = {(e.record_key, e.data["to"]) for e in events[legacy.count + 1 :]}
        assert baseline == {(KEY, "posted"), ("supplier:Acme Ltd", "pending")}
        assert await store.verify(cid) == []
        head = await store.head(cid)
        assert head.count == len(events)

        # Opening again seals nothing more.
        again = await SqlStore.open(database_url, vault, migrate=False)
        await again.close()
        assert len(await store.events(cid)) == len(events)

        # A legacy event edited, its plain chain recomputed up to the seal: the seal notices.
        await raw(
            store, "UPDATE audit_events SET actor = 'someone' WHERE id = :id", id=events[1].id
        )
        await _relink_plainly(store, cid, start=1, stop=legacy.count)
        problems = await store.verify(cid, expect=head)
        assert [(p.event_id, p.kind) for p in problems] == [(seal.id, "chain-broken")]
    finally:
        await store.close()


async def test_a_new_database_has_no_legacy_to_seal(database_url: str) -> None:
    store = await SqlStore.open(database_url, Vault.ephemeral())
    try:
        added = await store.add_connection(make_config("acme"))
        assert added.id is not None
        assert await store.head(added.id) == ChainHead(0, GENESIS)
        async with store.engine.connect() as conn:
            assert (await conn.execute(text("SELECT COUNT(*) FROM audit_keys"))).scalar() == 0
    finally:
        await store.close()
