"""The chain check as a pure walk: each kind of break, named with the event or record it concerns;
chain heads as text."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest

from ml_connector.errors import ConfigError
from ml_connector.store.audit import GENESIS, ChainHead, event_hash, link_rows, status_data
from ml_connector.store.audit_check import ChainChecker
from ml_connector.store.models import AuditEvent, Record, TrailEntry

pytestmark = pytest.mark.unit

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
K1, K2 = b"1" * 32, b"2" * 32


def _chain(
    *entries: TrailEntry,
    version: int = 1,
    key: bytes = K1,
    prev: str = GENESIS,
    first_id: int = 1,
    last_seq: dict[str, int] | None = None,
) -> list[AuditEvent]:
    rows = link_rows(7, prev, key, version, entries, {} if last_seq is None else last_seq)
    return [AuditEvent(id=first_id + i, **row) for i, row in enumerate(rows)]


def _entry(key: str, event: str, data: object = None) -> TrailEntry:
    return TrailEntry(key, event, "sync", {} if data is None else data, NOW)  # type: ignore[arg-type]


def _record(cin7_id: str, reference: str, status: str) -> Record:
    return Record(
        1,
        7,
        "purchase",
        cin7_id,
        reference,
        None,
        status,
        None,
        None,
        None,
        None,
        {},  # type: ignore[arg-type]
        NOW,
        NOW,
        NOW,
    )


def _walk(
    events: list[AuditEvent],
    *,
    keys: dict[int, bytes] | None = None,
    versions: tuple[int, ...] = (1, 2),
    expect: ChainHead | None = None,
    records: list[Record] | None = None,
) -> list[tuple[int | None, str]]:
    checker = ChainChecker(7, {1: K1, 2: K2} if keys is None else keys, versions, expect=expect)
    checker.check(events)
    stored = ChainHead(len(events), events[-1].hash) if events else ChainHead(0, GENESIS)
    return [(p.event_id, p.kind) for p in checker.finish(stored, records)]


def _three() -> list[AuditEvent]:
    return _chain(
        _entry("purchase:PO-1", "fetched"),
        _entry("purchase:PO-1", "planned"),
        _entry("purchase:PO-1", "posted"),
    )


def test_an_intact_chain_and_a_head_at_any_earlier_point() -> None:
    events = _three()
    assert _walk(events) == []
    assert _walk(events, expect=ChainHead(2, events[1].hash)) == []
    assert _walk(events, expect=ChainHead(0, GENESIS)) == []
    assert _walk(events, expect=ChainHead(2, events[2].hash)) == [(None, "head-mismatch")]
    assert _walk(events, expect=ChainHead(4, events[2].hash)) == [(None, "truncated")]


def test_each_kind_of_event_break_is_named_at_its_event() -> None:
    events = _three()
    edited = [events[0], dataclasses.replace(events[1], actor="mallory"), events[2]]
    assert _walk(edited) == [(2, "link-mismatch")]
    gone = [events[0], events[2]]
    assert _walk(gone) == [(3, "chain-broken"), (3, "missing-sequence")]  # head rewritten too
    assert _walk(events, versions=(), keys={}) == [(1, "unknown-key-version")]
    assert _walk(events, keys={}) == [(1, "key-unavailable")]


def test_versions_only_go_forward_and_plain_events_only_come_first() -> None:
    first = _three()
    later = _chain(
        _entry("purchase:PO-1", "completed"),
        version=2,
        key=K2,
        prev=first[-1].hash,
        first_id=4,
        last_seq={"purchase:PO-1": 3},
    )
    assert _walk(first + later) == []
    back = _chain(
        _entry("purchase:PO-1", "completed"),
        prev=later[-1].hash,
        first_id=5,
        last_seq={"purchase:PO-1": 4},
    )
    assert _walk(first + later + back) == [(5, "retired-key")]

    link = event_hash(
        prev_hash=first[-1].hash,
        connection_id=7,
        record_key="purchase:PO-1",
        seq=4,
        at=NOW,
        event="completed",
        actor="sync",
        data={},
    )
    plain = AuditEvent(
        4, 7, "purchase:PO-1", 4, NOW, "completed", "sync", {}, first[-1].hash, link, 0
    )
    assert _walk([*first, plain]) == [(4, "unkeyed-event")]
    assert _walk(
        [
            dataclasses.replace(
                plain,
                id=1,
                seq=1,
                prev_hash=GENESIS,
                hash=event_hash(
                    prev_hash=GENESIS,
                    connection_id=7,
                    record_key="purchase:PO-1",
                    seq=1,
                    at=NOW,
                    event="completed",
                    actor="sync",
                    data={},
                ),
            )
        ]
    ) == [(None, "unsealed")]


def test_a_status_changed_behind_the_stores_back_is_named_with_its_record() -> None:
    events = _chain(
        _entry("purchase:PO-1", "status", status_data("id-1", None, "pending", None)),
        _entry("purchase:PO-1", "status", status_data("id-1", "pending", "held", "x")),
    )
    assert _walk(events, records=[_record("id-1", "PO-1", "held")]) == []
    checker = ChainChecker(7, {1: K1}, (1,))
    checker.check(events)
    problems = checker.finish(
        ChainHead(2, events[-1].hash),
        [_record("id-1", "PO-1", "posted"), _record("id-2", "PO-2", "held")],
    )
    assert [(p.record_key, p.kind) for p in problems] == [
        ("purchase:PO-1", "status-without-event"),
        ("purchase:PO-2", "status-without-event"),
    ]
    assert "last status event says held" in problems[0].problem


def test_a_record_trail_alone_checks_links_and_sequence_only() -> None:
    events = _chain(
        _entry("purchase:PO-1", "fetched"),
        _entry("supplier:A", "posted"),
        _entry("purchase:PO-1", "posted"),
    )
    own = [events[0], events[2]]  # its predecessor belongs to another record
    checker = ChainChecker(7, {1: K1}, (1,), whole_chain=False)
    checker.check(own)
    assert checker.problems == []


def test_chain_heads_read_back_what_they_print() -> None:
    head = ChainHead(42, "AB" * 32)
    assert ChainHead.parse(f" 42:{'AB' * 32} ") == ChainHead(42, "ab" * 32)
    assert str(ChainHead.parse(str(head))) == f"42:{'ab' * 32}"
    for bad in ("42", f"x:{'ab' * 32}", "42:abc", f"42:{'zz' * 32}", f"-1:{'ab' * 32}"):
        with pytest.raises(ConfigError, match="COUNT:LINK"):
            ChainHead.parse(bad)


def test_a_walk_that_found_nothing_goes_on_with_what_it_learned() -> None:
    first = _chain(_entry("purchase:A", "fetched"), _entry("purchase:A", "planned"))
    later = _chain(
        _entry("purchase:A", "posted"),
        prev=first[-1].hash,
        first_id=3,
        last_seq={"purchase:A": 2},
    )
    walk = ChainChecker(7, {1: K1}, (1,))
    walk.check(first)
    assert walk.finish(ChainHead(2, first[-1].hash)) == []
    assert walk.last_id == 2

    walk.resume({1: K1}, (1,))
    walk.check(later)
    assert walk.finish(ChainHead(3, later[-1].hash)) == []

    # going on from the walk, a new event that skips a sequence number is still a break
    skipped = _chain(
        _entry("purchase:A", "fetched"),
        prev=later[-1].hash,
        first_id=4,
        last_seq={"purchase:A": 4},
    )
    walk.resume({1: K1}, (1,))
    walk.check(skipped)
    assert [p.kind for p in walk.finish(ChainHead(4, skipped[-1].hash))] == ["missing-sequence"]
    with pytest.raises(ValueError, match="found nothing"):
        walk.resume({1: K1}, (1,))
