"""The audit trail's chain, as pure functions: keyed links, key versions, the chain head.

Each connection has one chain over all its events, in append order. An event's *link* (the
``hash`` column) is an HMAC-SHA256, under the audit key of the event's ``key_version``, of the
canonical JSON of ``(prev_hash, connection, record_key, seq, at, event, actor, data,
key_version)``; ``prev_hash`` is the link of the connection's previous event (:data:`GENESIS`
for the first). Somebody with write access to the database but not the master key can neither
re-link an edited event nor append a forged one: only the master key opens the audit key.

**Audit keys are versioned.** Version N's key is derived (HKDF-SHA256, purpose
:data:`LINK_PURPOSE`) from the master key in force when version N began, and is kept in
``audit_keys`` encrypted under the master key like every stored credential, so ``keys rotate``
re-encrypts it with them, in the same transaction. The alternative, a signed re-chain at every
rotation, rewrites every event of every connection (an UPDATE of rows that are otherwise never
changed, as long as the trail), and a head kept elsewhere before the rotation would stop
matching. With versions a rotation touches one small table, every old link stays as written and
verifiable, and the master key is still needed to check (or forge) any of them.

A version begins the first time the store appends under a master key whose key id (HKDF,
purpose :data:`KEY_ID_PURPOSE`, safe to store) is not the newest version's, and only if the
newest version's key opens with this vault: that proves the vault holds the key it replaces (the
rotation re-encrypted it). A wrong master key cannot begin a version; the append fails with a
:class:`~ml_connector.errors.ConfigError`.

**Legacy events** (written before migration 0005) are version 0: plain SHA-256 links
(:func:`event_hash`). A migration has no master key, so it only adds the columns; the store
*seals* each legacy trail when it is first opened with a vault: a ``trail-sealed`` event under
the audit key, chained to the last legacy link, holding the legacy count and head. Rewriting a
legacy event afterwards, even with its plain chain recomputed, changes the link the seal was
computed over. After a seal, a version-0 event is a break.

**The chain head** is the number of events and the last link, written ``42:ab12…`` (all 64 hex
digits). Kept somewhere the database's writers cannot reach, it lets ``audit verify
--expect-head`` see the newest events deleted even when the stored head was rewritten to match.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any

from ml_connector.errors import ConfigError, StoreError
from ml_connector.store.models import Record, TrailEntry
from ml_connector.store.redact import canonical_json, redact, sha256_hex
from ml_connector.store.rules import check, json_roundtrip
from ml_connector.vocab import AUDIT_EVENT_KINDS, CONNECTION_TRAIL

__all__ = [
    "GENESIS",
    "KEY_ID_PURPOSE",
    "LEGACY",
    "LINK_PURPOSE",
    "ChainHead",
    "clean_entry",
    "event_hash",
    "event_link",
    "link_rows",
    "record_key",
    "seal_entries",
    "status_data",
    "status_entries",
]

GENESIS = "0" * 64
LEGACY = 0
"""The key version of events linked by plain SHA-256, before the trail was keyed."""
LINK_PURPOSE = b"ml-connector audit link v1"
KEY_ID_PURPOSE = b"ml-connector audit key id v1"


def record_key(kind: str, reference: str) -> str:
    """The audit key of a Cin7 document: ``purchase:PO-00412``, ``supplier:Acme Ltd``."""
    return f"{kind}:{reference}"


def event_link(
    key: bytes,
    key_version: int,
    *,
    prev_hash: str,
    connection_id: int,
    record_key: str,
    seq: int,
    at: datetime,
    event: str,
    actor: str,
    data: Any,
) -> str:
    """The link of one event: HMAC-SHA256 under the audit key of ``key_version``, or for a
    legacy event (version 0) the plain SHA-256 it was written with (``key`` unused).

    ``data`` must already be redacted plain JSON. The version is inside what is signed, so an
    event cannot be moved to another version.
    """
    body: dict[str, Any] = {
        "prev_hash": prev_hash,
        "connection": connection_id,
        "record_key": record_key,
        "seq": seq,
        "at": at.astimezone(UTC).isoformat(),
        "event": event,
        "actor": actor,
        "data": data,
    }
    if key_version == LEGACY:
        return sha256_hex(canonical_json(body))
    body["key_version"] = key_version
    return hmac.new(key, canonical_json(body), hashlib.sha256).hexdigest()


event_hash = partial(event_link, b"", LEGACY)
"""The plain SHA-256 link of a legacy (version 0) event, as trails were linked before 0005."""


def status_data(cin7_id: str, before: str | None, after: str, reason: str | None) -> dict[str, Any]:
    """The data of a ``status`` event: which record, from which status to which, and why."""
    return {"cin7_id": cin7_id, "from": before, "to": after, "reason": reason}


def status_entries(
    before: Record | None, after: Record, actor: str, trail: Sequence[TrailEntry] = ()
) -> list[TrailEntry]:
    """What a record write appends: a ``status`` event when the status changed (or the record
    is new), then the caller's ``trail`` entries, all in the write's transaction."""
    entries: list[TrailEntry] = []
    if before is None or before.status != after.status:
        data = status_data(
            after.cin7_id, None if before is None else before.status, after.status, after.reason
        )
        entries.append(TrailEntry(after.key, "status", actor, data))
    entries.extend(trail)
    return entries


@dataclass(frozen=True, slots=True)
class ChainHead:
    """How many events a connection's chain holds and the link of the last one.

    >>> head = ChainHead.parse("2:" + "ab" * 32)
    >>> (head.count, str(head) == "2:" + "ab" * 32)
    (2, True)
    """

    count: int
    link: str

    def __str__(self) -> str:
        return f"{self.count}:{self.link}"

    @classmethod
    def parse(cls, text: str) -> ChainHead:
        """Read ``COUNT:LINK`` as printed by run reports and ``audit head``; ConfigError."""
        count, sep, link = text.strip().partition(":")
        link = link.lower()
        if (
            not sep
            or not count.isdigit()
            or len(link) != 64
            or any(ch not in "0123456789abcdef" for ch in link)
        ):
            raise ConfigError(
                "a chain head is COUNT:LINK as `audit head` prints it "
                "(the event count, a colon and 64 hex digits)"
            )
        return cls(int(count), link)


def link_rows(
    connection_id: int,
    prev: str,
    key: bytes,
    key_version: int,
    entries: Sequence[TrailEntry],
    last_seq: dict[str, int],
) -> list[dict[str, Any]]:
    """The rows of ``entries`` appended after the link ``prev``, each linked to the one before.

    ``entries`` hold redacted plain JSON and an aware ``at``; ``last_seq`` is each record key's
    last sequence number so far (updated in place).
    """
    rows: list[dict[str, Any]] = []
    for entry in entries:
        if entry.at is None:
            raise ValueError("link_rows needs the time of every entry")
        seq = last_seq.get(entry.record_key, 0) + 1
        last_seq[entry.record_key] = seq
        link = event_link(
            key,
            key_version,
            prev_hash=prev,
            connection_id=connection_id,
            record_key=entry.record_key,
            seq=seq,
            at=entry.at,
            event=entry.event,
            actor=entry.actor,
            data=entry.data,
        )
        rows.append(
            {
                "connection_id": connection_id,
                "record_key": entry.record_key,
                "seq": seq,
                "at": entry.at,
                "event": entry.event,
                "actor": entry.actor,
                "data": entry.data,
                "prev_hash": prev,
                "hash": link,
                "key_version": key_version,
            }
        )
        prev = link
    return rows


def seal_entries(legacy: ChainHead, records: Iterable[Record], at: datetime) -> list[TrailEntry]:
    """What sealing a legacy trail appends: the seal, then each record's status as a baseline."""
    entries = [
        TrailEntry(
            CONNECTION_TRAIL,
            "trail-sealed",
            "store",
            {"legacy_events": legacy.count, "legacy_head": legacy.link},
            at,
        )
    ]
    entries.extend(
        TrailEntry(
            record.key,
            "status",
            "store",
            status_data(record.cin7_id, None, record.status, record.reason),
            at,
        )
        for record in records
    )
    return entries


def clean_entry(entry: TrailEntry, now: datetime, secrets: Sequence[str]) -> TrailEntry:
    """``entry`` checked, its data redacted as plain JSON and its time set (``now`` if none).

    StoreError for a missing key, name or actor, an unknown event name or a naive time.
    """
    if not entry.record_key or not entry.event or not entry.actor:
        raise StoreError("an audit event needs a record key, an event name and an actor")
    check(entry.event, AUDIT_EVENT_KINDS, "audit event")
    if entry.at is not None and entry.at.tzinfo is None:
        raise StoreError("audit times must be timezone-aware (UTC)")
    data = json_roundtrip(redact({} if entry.data is None else entry.data, secrets=secrets))
    when = entry.at.astimezone(UTC) if entry.at is not None else now
    return TrailEntry(entry.record_key, entry.event, entry.actor, data, when)
