"""The words ml-connector's state is written in: each a `Literal` type and the tuple of its values.

These live apart from the store so that the pure core (`sync/plan.py` and what it imports) can
name a mapping kind or a record status without loading SQLAlchemy, Alembic or httpx: this module
imports nothing but `typing`. The store checks every value it is given against these tuples, and
`tests/unit/test_light_core.py` keeps the planner's import closure free of I/O libraries.

Each tuple lists exactly its `Literal`'s values, in the order reports print them; a test checks
that they agree, so adding a word means adding it in both places, here and nowhere else.
"""

from __future__ import annotations

from typing import Literal

__all__ = [
    "AUDIT_EVENT_KINDS",
    "CHAIN_BREAK_KINDS",
    "CONNECTION_TRAIL",
    "MAPPING_KINDS",
    "MAPPING_SOURCES",
    "POSTING_STATES",
    "RECORD_KINDS",
    "RECORD_STATUSES",
    "RUN_KINDS",
    "RUN_STATUSES",
    "STREAMS",
    "AuditEventKind",
    "ChainBreakKind",
    "MappingKind",
    "MappingSource",
    "PostingState",
    "RecordKind",
    "RecordStatus",
    "RunKind",
    "RunStatus",
    "Stream",
]

RecordKind = Literal["purchase", "supplier"]
"""The Cin7 documents ml-connector keeps a record of."""

RecordStatus = Literal[
    "pending",
    "posted",
    "held",
    "blocked",
    "failed",
    "waiting",
    "void",
    "attention",
    "resolved",
    "ignored",
    "before-cutover",
    "go-live",
]
"""Where one record stands; ``held`` and ``blocked`` records are planned again every pass.

``before-cutover``: ordered before the connection's cut-over date (``--since``) with nothing
dated on or after it; QAD gets nothing. ``go-live``: ordered before the cut-over, with a receipt
or invoice on or after it, and no PO in QAD to adopt: it waits on the go-live worklist until a
person posts it (``ml-connector golive NAME --post REF``).

``resolved`` and ``ignored`` are set by a person from the error queue, with a note: the first
says the cause was dealt with outside ml-connector, the second that nobody will. Neither is
planned again until Cin7 changes the document (a new version makes the record ``pending``)."""

Stream = Literal["purchases", "suppliers", "reference"]
"""A Cin7 listing with its own incremental cursor."""

PostingState = Literal["intent", "posted"]
"""A QAD document about to be sent (``intent``) or known to be held by QAD (``posted``)."""

MappingKind = Literal[
    "account", "item", "supplier", "location", "payment_term", "tax_rule", "currency"
]
"""What a cross-reference between a Cin7 value and a QAD value maps."""

MappingSource = Literal["exact", "code", "name", "manual", "import"]
"""How a mapping came to be: matched by the suggester (exact, code, name), set, or imported."""

RunKind = Literal["sync", "replay", "dry-run"]
RunStatus = Literal["running", "succeeded", "failed", "interrupted"]

AuditEventKind = Literal[
    "fetched",
    "replayed",
    "planned",
    "intent",
    "posted",
    "failed",
    "retried",
    "intent-resolved",
    "held",
    "blocked",
    "attention",
    "completed",
    "released",
    "resolved",
    "ignored",
    "matched",
    "adopted",
    "before-cutover",
    "go-live",
    "golive-released",
    "paused",
    "resumed",
    "status",
    "trail-sealed",
]
"""The name of one link in a record's audit trail.

``fetched`` a new snapshot version; ``replayed`` a person asked to run it again; ``planned`` the
actions about to be posted; ``intent`` before a QAD create or update and ``posted`` or ``failed``
after it; ``retried`` a transient error left it for the next pass; ``intent-resolved`` an intent
left by a crash was looked up in QAD (or a receipt of our own, which QAD cannot find by packing
slip, was recognised by quantity); ``held``, ``blocked``, ``attention`` and ``completed``
(posted in full) when its status changes; ``released`` held invoices went out; ``resolved`` and
``ignored`` a person settled it from the error queue (their note is in the event); ``matched``
QAD reports that its receiver matching of a posted invoice finished.
``adopted`` a document finance keyed by hand was found in QAD and recorded as posted (what was
found is in the event); ``before-cutover`` and ``go-live`` when the record reaches that status
(the go-live event lists what would be posted); ``golive-released`` a person posted it from the
go-live worklist. ``paused`` and ``resumed`` are the connection's own (trail key
``connection``): a person paused or resumed its schedule.
``status`` the store writes one whenever a record's status changes (from, to, reason), in the
same transaction as the change; ``trail-sealed`` legacy plain-hash events were sealed under the
audit key (see :mod:`ml_connector.store.audit`).
"""

ChainBreakKind = Literal[
    "link-mismatch",
    "chain-broken",
    "missing-sequence",
    "unknown-key-version",
    "key-unavailable",
    "retired-key",
    "unkeyed-event",
    "unsealed",
    "truncated",
    "head-mismatch",
    "status-without-event",
]
"""What ``audit verify`` found wrong with a chain.

``link-mismatch`` an event's content no longer matches its link (edited); ``chain-broken`` an
event's predecessor is missing or was altered (an event deleted or inserted); ``missing-sequence``
a record's events skip a number (one deleted); ``unknown-key-version`` an event names an audit key
version the store does not hold; ``key-unavailable`` this master key cannot open a version's key
(a wrong key, or the key was tampered with); ``retired-key`` an event linked with an older
version than an event before it (a master key rotated out); ``unkeyed-event`` a plain-hash event
after the trail was keyed; ``unsealed`` legacy events not sealed under the audit key yet;
``truncated`` fewer events than a head says; ``head-mismatch`` the link at a head's position is
another; ``status-without-event`` a record's status is not the one its last ``status`` event says.
"""

CONNECTION_TRAIL = "connection"
"""The trail key of events about the connection itself (``audit NAME connection``)."""

RECORD_KINDS: tuple[RecordKind, ...] = ("purchase", "supplier")
RECORD_STATUSES: tuple[RecordStatus, ...] = (
    "pending",
    "posted",
    "held",
    "blocked",
    "failed",
    "waiting",
    "void",
    "attention",
    "resolved",
    "ignored",
    "before-cutover",
    "go-live",
)
STREAMS: tuple[Stream, ...] = ("purchases", "suppliers", "reference")
POSTING_STATES: tuple[PostingState, ...] = ("intent", "posted")
MAPPING_KINDS: tuple[MappingKind, ...] = (
    "account",
    "item",
    "supplier",
    "location",
    "payment_term",
    "tax_rule",
    "currency",
)
MAPPING_SOURCES: tuple[MappingSource, ...] = ("exact", "code", "name", "manual", "import")
RUN_KINDS: tuple[RunKind, ...] = ("sync", "replay", "dry-run")
RUN_STATUSES: tuple[RunStatus, ...] = ("running", "succeeded", "failed", "interrupted")
AUDIT_EVENT_KINDS: tuple[AuditEventKind, ...] = (
    "fetched",
    "replayed",
    "planned",
    "intent",
    "posted",
    "failed",
    "retried",
    "intent-resolved",
    "held",
    "blocked",
    "attention",
    "completed",
    "released",
    "resolved",
    "ignored",
    "matched",
    "adopted",
    "before-cutover",
    "go-live",
    "golive-released",
    "paused",
    "resumed",
    "status",
    "trail-sealed",
)
CHAIN_BREAK_KINDS: tuple[ChainBreakKind, ...] = (
    "link-mismatch",
    "chain-broken",
    "missing-sequence",
    "unknown-key-version",
    "key-unavailable",
    "retired-key",
    "unkeyed-event",
    "unsealed",
    "truncated",
    "head-mismatch",
    "status-without-event",
)
