"""The error queue: failed, blocked and needs-attention purchases, grouped by what they need.

A blocked purchase names each missing cross-reference in its reason, as the planner writes it
(``missing account 6100 (Freight)``; several are joined by ``; ``). :func:`missing_mappings`
reads those back, and the queue puts the purchase in one group per missing mapping, so adding
that one mapping and replaying the group clears it. Failed and needs-attention purchases, and
blocked ones whose reason names no mapping, are grouped by their reason text. Largest group
first. :func:`queued_references` names the purchases of a whole group, or of the records a
person ticked, for a replay.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from ml_connector.errors import ConfigError
from ml_connector.store.models import Record
from ml_connector.store.search import SqlRecordSearch
from ml_connector.store.sql import SqlStore
from ml_connector.sync.inputs import KIND_WORDS
from ml_connector.vocab import MappingKind, RecordStatus

__all__ = [
    "QUEUED",
    "ErrorGroup",
    "ErrorQueue",
    "MissingMapping",
    "error_queue",
    "missing_mappings",
    "queued_references",
]

QUEUED: tuple[RecordStatus, ...] = ("failed", "blocked", "attention")
_PREFIX = "missing "
# Longest words first, so "tax rule" is not read as something shorter.
_WORDS = sorted(((word, kind) for kind, word in KIND_WORDS.items()), key=lambda p: -len(p[0]))


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class MissingMapping:
    """A cross-reference a blocked purchase waits for: ``kind`` and the Cin7 value to map."""

    kind: MappingKind
    cin7_value: str
    label: str | None = None

    @property
    def text(self) -> str:
        shown = f"{KIND_WORDS[self.kind]} {self.cin7_value}"
        return f"{shown} ({self.label})" if self.label else shown


def missing_mappings(reason: str | None) -> list[MissingMapping]:
    """The missing mappings named in a blocked record's reason (in order, no repeats).

    >>> missing_mappings("missing account 6100 (Freight); missing tax rule GST on Imports")
    [MissingMapping(kind='account', cin7_value='6100', label='Freight'), \
MissingMapping(kind='tax_rule', cin7_value='GST on Imports', label=None)]
    """
    found: list[MissingMapping] = []
    for part in (reason or "").split("; "):
        if not part.startswith(_PREFIX):
            continue
        rest = part[len(_PREFIX) :]
        for word, kind in _WORDS:
            if rest.startswith(word + " "):
                value = rest[len(word) + 1 :].strip()
                label = None
                cut = value.rfind(" (")
                if value.endswith(")") and cut > 0:
                    value, label = value[:cut].strip(), value[cut + 2 : -1].strip() or None
                if value:
                    entry = MissingMapping(kind, value, label)
                    if entry not in found:
                        found.append(entry)
                break
    return found


@dataclass(frozen=True)
class ErrorGroup:
    """Purchases that need the same thing. ``mapping`` is set for a missing-mapping group."""

    key: str
    title: str
    status: RecordStatus
    mapping: MissingMapping | None
    records: tuple[Record, ...]

    @property
    def references(self) -> tuple[str, ...]:
        return tuple(r.reference for r in self.records)


@dataclass(frozen=True)
class ErrorQueue:
    connection: str
    groups: tuple[ErrorGroup, ...]
    supplier_names: dict[str, str] = field(default_factory=dict)
    now: datetime = field(default_factory=_now)

    @property
    def total(self) -> int:
        """Distinct purchases in the queue (one may sit in several mapping groups)."""
        return len({r.id for g in self.groups for r in g.records})

    def group(self, key: str) -> ErrorGroup | None:
        return next((g for g in self.groups if g.key == key), None)


def _key(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:12]


def group_records(records: list[Record]) -> list[ErrorGroup]:
    """Group queued records (pure): per missing mapping, else per status and reason."""
    buckets: dict[str, tuple[str, RecordStatus, MissingMapping | None, list[Record]]] = {}
    for record in records:
        wanted = missing_mappings(record.reason) if record.status == "blocked" else []
        if record.status == "blocked" and record.supplier_id:
            # "supplier X (not found in Cin7)" names the supplier; the mapping is by SupplierID.
            wanted = [
                MissingMapping("supplier", record.supplier_id, m.cin7_value)
                if m.kind == "supplier"
                else m
                for m in wanted
            ]
        if wanted:
            for missing in wanted:
                key = _key("mapping", missing.kind, missing.cin7_value)
                title = f"Missing {missing.text}"
                buckets.setdefault(key, (title, "blocked", missing, []))[3].append(record)
        else:
            reason = record.reason or "(no reason recorded)"
            key = _key(record.status, reason)
            buckets.setdefault(key, (reason, record.status, None, []))[3].append(record)
    groups = [
        ErrorGroup(key, title, status, mapping, tuple(rows))
        for key, (title, status, mapping, rows) in buckets.items()
    ]
    groups.sort(key=lambda g: (-len(g.records), g.status, g.title))
    return groups


async def error_queue(
    store: SqlStore, name: str, *, now: Callable[[], datetime] = _now
) -> ErrorQueue:
    """Connection ``name``'s failed, blocked and needs-attention purchases, grouped."""
    cid = await store.connection_id(name)
    records = await store.list_records(cid, status=list(QUEUED), kind="purchase")
    names = await SqlRecordSearch(store.engine).supplier_names(
        cid, [r.supplier_id for r in records if r.supplier_id]
    )
    return ErrorQueue(name, tuple(group_records(records)), names, now())


async def queued_references(
    store: SqlStore, name: str, *, group: str | None = None, record_ids: Sequence[int] = ()
) -> list[str]:
    """The purchases of one group of the queue (by its key) or of the chosen records, as
    the console replays them: empty when the chosen records have left the queue.
    ConfigError when the group is gone or nothing is chosen."""
    queue = await error_queue(store, name)
    if group is not None:
        found = queue.group(group)
        if found is None:
            raise ConfigError("that group is no longer in the error queue; reload the page")
        return list(found.references)
    if not record_ids:
        raise ConfigError("choose at least one record")
    queued = {r.id: r.reference for g in queue.groups for r in g.records}
    return [queued[i] for i in dict.fromkeys(record_ids) if i in queued]
