"""A connection's records, searched, and one record in full: snapshots, QAD documents, trail.

:func:`search_records` filters by status, supplier, reference, invoice number and date (see
:mod:`ml_connector.store.search`). :func:`record_detail` gathers what a person needs to judge a
record: every stored version of its Cin7 document and what changed between two of them
(:func:`diff_payloads`), what ml-connector planned and posted in QAD (postings: ``intent`` is a
create about to be sent or in doubt, ``posted`` is held by QAD), its audit trail and whether
that trail is intact (each event's link recomputed under its audit key, no sequence gaps).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Literal

from ml_connector.errors import ConfigError
from ml_connector.store.models import AuditEvent, Posting, Record, Snapshot
from ml_connector.store.search import RecordQuery, SqlRecordSearch
from ml_connector.store.sql import SqlStore
from ml_connector.vocab import RECORD_STATUSES, RecordKind, RecordStatus

__all__ = [
    "Change",
    "RecordDetail",
    "RecordPage",
    "RecordQuery",
    "diff_payloads",
    "parse_statuses",
    "record_detail",
    "search_records",
]

_MAX_PAGE = 500


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class RecordPage:
    """One page of a search: the records, how many match in all, supplier names by id."""

    connection: str
    query: RecordQuery
    records: tuple[Record, ...]
    total: int
    supplier_names: dict[str, str]
    now: datetime

    @property
    def has_more(self) -> bool:
        return self.query.offset + len(self.records) < self.total


@dataclass(frozen=True)
class Change:
    """One difference between two versions of a document, at a JSON path (``Lines[0].Quantity``).

    ``before`` is None for an added value, ``after`` None for a removed one.
    """

    path: str
    before: Any
    after: Any
    kind: Literal["added", "removed", "changed"]


@dataclass(frozen=True)
class RecordDetail:
    connection: str
    record: Record
    supplier_name: str | None
    versions: tuple[Snapshot, ...]
    compared: tuple[int, int] | None  # (older, newer) versions diffed
    changes: tuple[Change, ...]
    postings: tuple[Posting, ...]
    trail: tuple[AuditEvent, ...]
    trail_problems: tuple[str, ...]
    now: datetime

    @property
    def trail_intact(self) -> bool:
        return not self.trail_problems

    @property
    def latest(self) -> Snapshot | None:
        return self.versions[-1] if self.versions else None


def parse_statuses(values: Sequence[str]) -> tuple[RecordStatus, ...]:
    """Known statuses from a form or query string; ConfigError names an unknown one."""
    chosen: list[RecordStatus] = []
    for value in values:
        for known in RECORD_STATUSES:
            if value == known:
                chosen.append(known)
                break
        else:
            if value:
                raise ConfigError(
                    f"unknown status {value!r}: use one of {', '.join(RECORD_STATUSES)}"
                )
    return tuple(dict.fromkeys(chosen))


async def search_records(
    store: SqlStore,
    name: str,
    *,
    kind: RecordKind = "purchase",
    statuses: Sequence[RecordStatus] = (),
    supplier: str = "",
    reference: str = "",
    invoice: str = "",
    changed_from: date | None = None,
    changed_to: date | None = None,
    limit: int = 50,
    offset: int = 0,
    now: Callable[[], datetime] = _now,
) -> RecordPage:
    """Records of connection ``name`` matching every filter given, newest change first."""
    cid = await store.connection_id(name)
    if changed_from and changed_to and changed_from > changed_to:
        raise ConfigError("the 'from' date is after the 'to' date")
    query = RecordQuery(
        kind=kind,
        statuses=tuple(statuses),
        supplier=supplier.strip(),
        reference=reference.strip(),
        invoice=invoice.strip(),
        changed_from=changed_from,
        changed_to=changed_to,
        limit=min(max(limit, 1), _MAX_PAGE),
        offset=max(offset, 0),
    )
    search = SqlRecordSearch(store.engine)
    found, total = await search.search(cid, query)
    names = await search.supplier_names(cid, [r.supplier_id for r in found if r.supplier_id])
    return RecordPage(name, query, tuple(found), total, names, now())


def _flatten(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict) and value:
        for key in value:
            yield from _flatten(value[key], f"{path}.{key}" if path else str(key))
    elif isinstance(value, list) and value:
        for index, item in enumerate(value):
            yield from _flatten(item, f"{path}[{index}]")
    else:
        yield path, value


def diff_payloads(before: Any, after: Any) -> list[Change]:
    """Every leaf that differs between two JSON documents, in the newer document's order.

    >>> [(c.path, c.kind) for c in diff_payloads({"Qty": 1, "A": "x"}, {"Qty": 2, "B": "y"})]
    [('Qty', 'changed'), ('B', 'added'), ('A', 'removed')]
    """
    old = dict(_flatten(before))
    new = dict(_flatten(after))
    changes = [
        Change(path, old[path], value, "changed")
        if path in old
        else Change(path, None, value, "added")
        for path, value in new.items()
        if path not in old or old[path] != value
    ]
    changes.extend(
        Change(path, value, None, "removed") for path, value in old.items() if path not in new
    )
    return changes


async def record_detail(
    store: SqlStore,
    name: str,
    record_id: int,
    *,
    compare: tuple[int, int] | None = None,
    now: Callable[[], datetime] = _now,
) -> RecordDetail:
    """Everything about one record of connection ``name``; ``compare`` picks the two versions
    to diff (default: the last two)."""
    cid = await store.connection_id(name)
    record = await store.get_record_by_id(record_id)
    if record is None or record.connection_id != cid:
        raise ConfigError(f"connection {name!r} has no record {record_id}")
    versions = tuple(await store.snapshot_versions(cid, record.kind, record.cin7_id))
    by_version = {s.version: s for s in versions}
    pair: tuple[int, int] | None = None
    if compare is not None:
        older, newer = sorted(compare)
        if older not in by_version or newer not in by_version:
            raise ConfigError(f"record {record.reference} has no version {older} or {newer}")
        pair = (older, newer)
    elif len(versions) >= 2:
        pair = (versions[-2].version, versions[-1].version)
    changes = (
        tuple(diff_payloads(by_version[pair[0]].payload, by_version[pair[1]].payload))
        if pair
        else ()
    )
    trail = tuple(await store.trail(cid, record.key))
    supplier_name = None
    if record.supplier_id:
        names = await SqlRecordSearch(store.engine).supplier_names(cid, [record.supplier_id])
        supplier_name = names.get(record.supplier_id)
    postings = tuple((await store.posted_state(cid, record)).values())
    return RecordDetail(
        connection=name,
        record=record,
        supplier_name=supplier_name,
        versions=versions,
        compared=pair,
        changes=changes,
        postings=postings,
        trail=trail,
        trail_problems=tuple(
            f"{p.kind} at event {p.seq}: {p.problem}"
            for p in await store.verify_record(cid, record.key)
        ),
        now=now(),
    )
