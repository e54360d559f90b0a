"""The audit trail: append-only, hash-chained per connection, redacted, tamper-evident."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime

import pytest
from store_helpers import raw

from ml_connector.errors import StoreError
from ml_connector.store import GENESIS, SqlStore, event_hash, record_key

KEY = record_key("purchase", "PO-00412")


async def _fill(store: SqlStore, cid: int) -> None:
    await store.append(cid, KEY, "fetched", "sync", {"version": 1, "hash": "ab" * 32})
    await store.append(cid, "supplier:Acme Ltd", "posted", "sync", {"qad_id": "S0001"})
    await store.append(cid, KEY, "planned", "sync", {"actions": ["create_po"]})
    await store.append(cid, KEY, "intent", "sync", {"natural_key": "po:PO-00412"})
    await store.append(cid, KEY, "posted", "sync", {"qad_id": "PO-00412"})


async def test_events_chain_in_order_with_a_sequence_per_record(store: SqlStore, cid: int) -> None:
    first = await store.append(cid, KEY, "fetched", "sync", {"version": 1})
    assert first.seq == 1
    assert first.prev_hash == GENESIS
    assert first.hash == event_hash(
        prev_hash=GENESIS,
        connection_id=cid,
        record_key=KEY,
        seq=1,
        at=first.at,
        event="fetched",
        actor="sync",
        data={"version": 1},
    )
    other = await store.append(cid, "supplier:Acme Ltd", "posted", "sync")
    assert other.seq == 1
    assert other.prev_hash == first.hash
    assert other.data == {}
    second = await store.append(cid, KEY, "planned", "replay:alice", {"n": 2})
    assert second.seq == 2
    assert second.prev_hash == other.hash

    trail = await store.trail(cid, KEY)
    assert [(e.seq, e.event, e.actor) for e in trail] == [
        (1, "fetched", "sync"),
        (2, "planned", "replay:alice"),
    ]
    assert trail[0] == first  # what is read back is what was hashed
    assert await store.verify(cid) == []
    assert [e.id for e in await store.events(cid)] == [first.id, other.id, second.id]
    assert [e.id for e in await store.events(cid, after_id=first.id, limit=1)] == [other.id]


async def test_audit_data_is_redacted_before_it_is_stored(store: SqlStore, cid: int) -> None:
    event = await store.append(
        cid,
        KEY,
        "failed",
        "sync",
        {
            "request": {
                "headers": {
                    "api-auth-applicationkey": "k-123456",
                    "Authorization": "Bearer abc.def",
                },
                "body": {"username": "mfg", "password": "pw-123456"},
            },
            "at": datetime(2024, 5, 6, tzinfo=UTC),
            "error": "login as mfg with app-key-0001 refused",  # the connection's own key
        },
    )
    data = event.data
    assert data["request"]["headers"] == {
        "api-auth-applicationkey": "[redacted]",
        "Authorization": "[redacted]",
    }
    assert data["request"]["body"] == {"username": "mfg", "password": "[redacted]"}
    assert data["at"] == "2024-05-06T00:00:00+00:00"
    assert data["error"] == "login as mfg with [redacted] refused"
    stored = json.dumps([row[0] for row in await raw(store, "SELECT data FROM audit_events")])
    assert "k-123456" not in stored
    assert "pw-123456" not in stored
    assert "app-key-0001" not in stored
    assert await store.verify(cid) == []


async def test_verify_reports_an_edited_event(store: SqlStore, cid: int) -> None:
    await _fill(store, cid)
    target = (await store.trail(cid, KEY))[1]
    forged = json.dumps({"actions": ["create_po", "pay_twice"]})
    await raw(store, "UPDATE audit_events SET data = :d WHERE id = :id", d=forged, id=target.id)

    problems = await store.verify(cid)
    assert [(p.event_id, p.record_key, p.seq) for p in problems] == [(target.id, KEY, 2)]
    assert "modified" in problems[0].problem


async def test_verify_reports_an_edited_field_even_when_the_hash_is_recomputed(
    store: SqlStore, cid: int
) -> None:
    await _fill(store, cid)
    events = await store.events(cid)
    victim, successor = events[2], events[3]
    forged_hash = event_hash(
        prev_hash=victim.prev_hash,
        connection_id=cid,
        record_key=victim.record_key,
        seq=victim.seq,
        at=victim.at,
        event="blocked",
        actor=victim.actor,
        data=victim.data,
    )
    await raw(
        store,
        "UPDATE audit_events SET event = 'blocked', hash = :h WHERE id = :id",
        h=forged_hash,
        id=victim.id,
    )
    problems = await store.verify(cid)
    assert [p.event_id for p in problems] == [successor.id]
    assert "chain broken" in problems[0].problem


async def test_verify_reports_a_deleted_middle_event(store: SqlStore, cid: int) -> None:
    await _fill(store, cid)
    events = await store.events(cid)
    await raw(store, "DELETE FROM audit_events WHERE id = :id", id=events[2].id)

    problems = [(p.event_id, p.problem) for p in await store.verify(cid)]
    assert problems == [
        (events[3].id, "chain broken: the event before this one is missing or was altered"),
        (events[3].id, "gap: event 2 of this record is missing"),
        (None, "trail incomplete: 5 events were appended, 4 remain"),
    ]


async def test_verify_reports_deleted_newest_events(store: SqlStore, cid: int) -> None:
    await _fill(store, cid)
    events = await store.events(cid)
    await raw(store, "DELETE FROM audit_events WHERE id = :id", id=events[-1].id)
    problems = await store.verify(cid)
    assert len(problems) == 1
    assert problems[0].event_id is None
    assert "newest events" in problems[0].problem


async def test_chains_of_connections_are_independent(store: SqlStore, cid: int) -> None:
    from store_helpers import make_config

    other = await store.add_connection(make_config("other"))
    assert other.id is not None
    await _fill(store, cid)
    await store.append(other.id, KEY, "fetched", "sync")
    assert (await store.trail(other.id, KEY))[0].prev_hash == GENESIS
    await raw(store, "DELETE FROM audit_events WHERE connection_id = :c", c=cid)
    assert await store.verify(other.id) == []
    assert await store.verify(cid) != []


async def test_concurrent_appends_never_fork_the_chain(store: SqlStore, cid: int) -> None:
    await asyncio.gather(
        *(store.append(cid, f"purchase:PO-{i % 3}", "fetched", "sync", {"i": i}) for i in range(24))
    )
    assert await store.verify(cid) == []
    seqs = sorted(e.seq for e in await store.trail(cid, "purchase:PO-0"))
    assert seqs == list(range(1, 9))


async def test_an_append_that_rolls_back_leaves_no_trace(store: SqlStore, cid: int) -> None:
    await store.append(cid, KEY, "fetched", "sync")

    async def crash_before_commit() -> None:
        async with store.transaction():
            await store.append(cid, KEY, "intent", "sync")
            raise RuntimeError("crash before commit")

    with pytest.raises(RuntimeError):
        await crash_before_commit()
    after = await store.append(cid, KEY, "intent", "sync")
    assert after.seq == 2
    assert await store.verify(cid) == []


async def test_an_event_needs_key_name_and_actor(store: SqlStore, cid: int) -> None:
    with pytest.raises(StoreError):
        await store.append(cid, KEY, "", "sync")


async def test_awkward_json_values_survive_the_round_trip(store: SqlStore, cid: int) -> None:
    data = {
        "qty": 0.1,
        "big": 1e20,
        "huge": 2**70,
        "name": "Café Ünïcode — 東京",
        "nested": [1.5, None, True, {"b": 2, "a": 1}],
        "nan": float("nan"),
    }
    event = await store.append(cid, KEY, "fetched", "sync", data)
    assert event.data["nan"] == "nan"  # JSON has no NaN; it is kept as text
    assert (await store.trail(cid, KEY))[0].data == event.data
    assert await store.verify(cid) == []


async def test_naive_times_are_refused(store: SqlStore, cid: int) -> None:
    with pytest.raises(StoreError, match="timezone-aware"):
        await store.append(cid, KEY, "fetched", "sync", at=datetime(2024, 5, 6))
