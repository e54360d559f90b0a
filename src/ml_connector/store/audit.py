"""The audit trail's hash chain, as pure functions.

Each connection has one chain over all its events, in append order. An event's hash is the
SHA-256 of the canonical JSON of ``(prev_hash, connection, record_key, seq, at, event, actor,
data)``, and ``prev_hash`` is the hash of the connection's previous event (:data:`GENESIS` for the
first). The chain head (last hash and count) is kept apart, so that deleting the newest events
shows as well as editing or deleting any other.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from ml_connector.store.models import AuditEvent, BrokenLink
from ml_connector.store.redact import canonical_json, sha256_hex

__all__ = ["GENESIS", "ChainChecker", "event_hash", "record_key"]

GENESIS = "0" * 64


def record_key(kind: str, reference: str) -> str:
    """The audit key of a Cin7 document: ``purchase:PO-00412``, ``supplier:Acme Ltd``."""
    return f"{kind}:{reference}"


def event_hash(
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
    """The chained hash of one event; ``data`` must already be redacted plain JSON."""
    body = {
        "prev_hash": prev_hash,
        "connection": connection_id,
        "record_key": record_key,
        "seq": seq,
        "at": at.astimezone(UTC).isoformat(),
        "event": event,
        "actor": actor,
        "data": data,
    }
    return sha256_hex(canonical_json(body))


class ChainChecker:
    """Walks one connection's events in append order and collects what does not hold.

    Feed events with :meth:`check` (in id order, possibly in pages), then call :meth:`finish`
    with the stored chain head.
    """

    def __init__(self, connection_id: int) -> None:
        self.connection_id = connection_id
        self.problems: list[BrokenLink] = []
        self._prev = GENESIS
        self._count = 0
        self._last_seq: dict[str, int] = {}

    def check(self, events: Iterable[AuditEvent]) -> None:
        for ev in events:
            self._count += 1
            expected = event_hash(
                prev_hash=ev.prev_hash,
                connection_id=self.connection_id,
                record_key=ev.record_key,
                seq=ev.seq,
                at=ev.at,
                event=ev.event,
                actor=ev.actor,
                data=ev.data,
            )
            if expected != ev.hash:
                self._report(ev, "modified: the event's content no longer matches its hash")
            if ev.prev_hash != self._prev:
                self._report(
                    ev, "chain broken: the event before this one is missing or was altered"
                )
            last = self._last_seq.get(ev.record_key, 0)
            if ev.seq != last + 1:
                if ev.seq <= last:
                    what = "sequence number repeats or goes backwards"
                elif ev.seq == last + 2:
                    what = f"event {last + 1} of this record is missing"
                else:
                    what = f"events {last + 1}..{ev.seq - 1} of this record are missing"
                self._report(ev, f"gap: {what}")
            self._last_seq[ev.record_key] = max(last, ev.seq)
            # Continue from the stored hash so one edit is reported once, not for every successor.
            self._prev = ev.hash

    def finish(self, head_hash: str | None, head_count: int | None) -> list[BrokenLink]:
        if head_hash is None or head_count is None:
            if self._count:
                self.problems.append(
                    BrokenLink(None, None, None, "the chain head is missing for this connection")
                )
            return self.problems
        if head_hash != self._prev or head_count != self._count:
            self.problems.append(
                BrokenLink(
                    None,
                    None,
                    None,
                    f"trail incomplete: {head_count} events were appended, {self._count} remain"
                    + (
                        "" if head_hash == self._prev else "; the newest events are gone or altered"
                    ),
                )
            )
        return self.problems

    def _report(self, ev: AuditEvent, problem: str) -> None:
        self.problems.append(BrokenLink(ev.id, ev.record_key, ev.seq, problem))
