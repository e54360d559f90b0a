"""Settling records by hand from the error queue: resolve or ignore, with a note in the trail.

- **resolve**: the cause was dealt with outside ml-connector (say, the invoice was keyed in QAD
  by hand); the record leaves the queue as ``resolved``.
- **ignore**: nobody will act on it (a test purchase, a duplicate); it leaves the queue as
  ``ignored``.

Either way the note, the person and the status it had go into the record's hash-chained trail,
and the note becomes the record's reason. Only failed, blocked and needs-attention records can
be settled (a held invoice waits for its receipt; a posted record needs nothing). A later change
of the purchase in Cin7 brings the record back (``pending``) like any other change.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from ml_connector.errors import ConfigError
from ml_connector.store.models import Record
from ml_connector.store.protocols import Store
from ml_connector.vocab import RecordStatus

__all__ = ["SETTLEABLE", "Settled", "settle_records"]

Settlement = Literal["resolve", "ignore"]

SETTLEABLE: tuple[RecordStatus, ...] = ("failed", "blocked", "attention")
_OUTCOME: dict[Settlement, Literal["resolved", "ignored"]] = {
    "resolve": "resolved",
    "ignore": "ignored",
}
_MAX_NOTE = 2000


@dataclass(frozen=True)
class Settled:
    """The records settled, and those skipped because their status does not allow it."""

    connection: str
    action: Settlement
    settled: tuple[Record, ...]
    skipped: tuple[Record, ...]


async def settle_records(
    store: Store,
    name: str,
    record_ids: Sequence[int],
    action: str,
    note: str,
    *,
    actor: str,
) -> Settled:
    """Resolve or ignore records of connection ``name``; ConfigError without a note."""
    if action not in _OUTCOME:
        raise ConfigError(f"unknown action {action!r}: resolve or ignore")
    chosen: Settlement = "resolve" if action == "resolve" else "ignore"
    text = " ".join(note.split())
    if not text:
        raise ConfigError("write a note saying why: it is kept in the record's audit trail")
    if len(text) > _MAX_NOTE:
        raise ConfigError(f"the note is too long (at most {_MAX_NOTE} characters)")
    if not record_ids:
        raise ConfigError("choose at least one record")
    cid = await store.connection_id(name)
    status = _OUTCOME[chosen]
    settled: list[Record] = []
    skipped: list[Record] = []
    for record_id in dict.fromkeys(record_ids):
        record = await store.get_record_by_id(record_id)
        if record is None or record.connection_id != cid:
            raise ConfigError(f"connection {name!r} has no record {record_id}")
        if record.status not in SETTLEABLE:
            skipped.append(record)
            continue
        async with store.transaction():
            await store.append(
                cid,
                record.key,
                status,
                actor,
                {"note": text, "previous_status": record.status, "reason": record.reason},
            )
            settled.append(
                await store.set_record_status(record.id, status, f"{status}: {text}", actor=actor)
            )
    return Settled(name, chosen, tuple(settled), tuple(skipped))
