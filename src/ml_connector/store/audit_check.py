"""Checking a connection's audit chain, as a pure walk: what ``audit verify`` reports.

:class:`ChainChecker` is fed the connection's events in append order (in pages), then
:meth:`~ChainChecker.finish` compares the walk with the heads and the records. Every break has a
kind (:data:`ml_connector.vocab.ChainBreakKind`) and names the event or record it concerns:

- each event's link is recomputed under the key of its version (plain SHA-256 for legacy
  version 0): a difference is ``link-mismatch``, an edited event; an event whose predecessor's
  link is not the one it was chained to is ``chain-broken``; a record whose events skip a
  sequence number is ``missing-sequence``;
- a version the store holds no key for is ``unknown-key-version``; one this master key cannot
  open is ``key-unavailable`` (reported once per version, not for every event under it);
- an event under an older version than one before it is ``retired-key`` (a master key that
  was rotated out); a plain-hash event after the trail was keyed is ``unkeyed-event``; legacy
  events with no keyed event after them are ``unsealed``;
- fewer events than the stored head, or than a head kept elsewhere (``expect``), is
  ``truncated``; another link at the head's position is ``head-mismatch``. A head kept earlier
  still verifies once the trail has grown past it: its link is compared with the event at its
  position;
- a record whose status is not the one its last ``status`` event names is
  ``status-without-event``: its status was changed behind the store's back.

The walk continues from each event's stored link, so one edit is reported once and not again
for every event after it. A walk that found nothing can go on later from where it stopped
(:meth:`~ChainChecker.resume`): the events appended since are checked against everything the
walk learned, without walking the older ones again.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ml_connector.store.audit import GENESIS, LEGACY, ChainHead, event_link
from ml_connector.store.models import AuditEvent, BrokenLink, Record
from ml_connector.vocab import ChainBreakKind

__all__ = ["ChainChecker"]


class ChainChecker:
    """Walks one connection's events in append order and collects what does not hold.

    ``keys`` are the audit keys this vault opened, by version; ``versions`` every version the
    store holds (opened or not). ``expect`` is a head kept elsewhere, if any. With
    ``whole_chain=False`` the events are one record's trail: links and sequence are checked,
    not the links between records (the connection-wide walk does that).
    """

    def __init__(
        self,
        connection_id: int,
        keys: Mapping[int, bytes],
        versions: Iterable[int],
        *,
        expect: ChainHead | None = None,
        whole_chain: bool = True,
    ) -> None:
        self.connection_id = connection_id
        self._whole_chain = whole_chain
        self.problems: list[BrokenLink] = []
        self._keys = dict(keys)
        self._versions = set(versions)
        self._expect = expect
        self._at_expected: str | None = GENESIS if expect is not None and not expect.count else None
        self._prev = GENESIS
        self._count = 0
        self._last_seq: dict[str, int] = {}
        self._keyed = False
        self._newest = 0
        self._legacy_unsealed = 0
        self._reported_versions: set[int] = set()
        self._status: dict[tuple[str, str], str] = {}
        self.last_id = 0
        """The id of the last event walked: where a resumed walk goes on from."""

    def resume(self, keys: Mapping[int, bytes], versions: Iterable[int]) -> None:
        """Go on after a :meth:`finish` that found nothing: forget its (empty) findings and
        take the audit keys as the store holds them now (a rotation may have begun one)."""
        if self.problems or self._expect is not None or not self._whole_chain:
            raise ValueError("only a whole-chain walk that found nothing can go on")
        self._keys = dict(keys)
        self._versions = set(versions)

    def check(self, events: Iterable[AuditEvent]) -> None:
        for ev in events:
            self.last_id = ev.id
            self._count += 1
            self._check_link(ev)
            if self._whole_chain and ev.prev_hash != self._prev:
                self._report(
                    ev, "chain-broken", "the event before this one is missing or was altered"
                )
            last = self._last_seq.get(ev.record_key, 0)
            if ev.seq != last + 1:
                if ev.seq <= last:
                    what = "sequence number repeats or goes backwards"
                elif ev.seq == last + 2:
                    what = f"event {last + 1} of this record is missing"
                else:
                    what = f"events {last + 1}..{ev.seq - 1} of this record are missing"
                self._report(ev, "missing-sequence", what)
            self._last_seq[ev.record_key] = max(last, ev.seq)
            if ev.event == "status" and isinstance(ev.data, dict):
                self._note_status(ev.record_key, ev.data)
            self._prev = ev.hash
            if self._expect is not None and self._count == self._expect.count:
                self._at_expected = ev.hash

    def finish(
        self, stored: ChainHead | None, records: Iterable[Record] | None = None
    ) -> list[BrokenLink]:
        """The breaks found, after comparing the walk with the heads and ``records``.

        ``stored`` is the head the store keeps (None when it is missing); ``records`` are the
        connection's records, for the status check (None skips it).
        """
        if self._legacy_unsealed:
            self._chain_wide(
                "unsealed",
                f"{self._legacy_unsealed} plain-hash (legacy) events are not sealed under the "
                "audit key; open the store with the master key to seal them",
            )
        if stored is None:
            if self._count:
                self._chain_wide("truncated", "the stored chain head is missing")
        else:
            self._compare_stored(stored)
        if self._expect is not None:
            self._compare_expected(self._expect)
        if records is not None:
            self._check_statuses(records)
        return self.problems

    # --- the parts ----------------------------------------------------------------------------

    def _check_link(self, ev: AuditEvent) -> None:
        version = ev.key_version
        if version == LEGACY:
            if self._keyed:
                self._report(
                    ev,
                    "unkeyed-event",
                    "a plain-hash event after the trail was keyed: written without the audit key",
                )
            else:
                self._legacy_unsealed += 1
            expected = _link(b"", ev, self.connection_id)
        else:
            self._keyed = True
            self._legacy_unsealed = 0
            if version < self._newest:
                self._report(
                    ev,
                    "retired-key",
                    f"linked with audit key version {version} after version {self._newest} "
                    "began: a master key that was rotated out",
                )
            self._newest = max(self._newest, version)
            key = self._keys.get(version)
            if key is None:
                if version not in self._reported_versions:
                    self._reported_versions.add(version)
                    if version in self._versions:
                        self._report(
                            ev,
                            "key-unavailable",
                            f"the audit key of version {version} does not open with this master "
                            "key (a wrong ML_CONNECTOR_MASTER_KEY or key file?); events under it "
                            "are not checked",
                        )
                    else:
                        self._report(
                            ev,
                            "unknown-key-version",
                            f"the event names audit key version {version}, which the store does "
                            "not hold; events under it are not checked",
                        )
                return
            expected = _link(key, ev, self.connection_id)
        if expected != ev.hash:
            self._report(
                ev, "link-mismatch", "the event's content no longer matches its link (edited)"
            )

    def _note_status(self, key: str, data: dict[str, Any]) -> None:
        kind = key.partition(":")[0]
        cin7_id, after = data.get("cin7_id"), data.get("to")
        if isinstance(cin7_id, str) and isinstance(after, str):
            self._status[(kind, cin7_id)] = after

    def _compare_stored(self, head: ChainHead) -> None:
        if head.count > self._count:
            self._chain_wide(
                "truncated",
                f"the stored head says {head.count} events were appended, {self._count} remain",
            )
        elif head.count < self._count or head.link != self._prev:
            self._chain_wide(
                "head-mismatch",
                f"the stored head ({head.count} events) is not the chain's last event "
                f"({self._count} events): the newest events were replaced or altered",
            )

    def _compare_expected(self, head: ChainHead) -> None:
        if head.count > self._count:
            self._chain_wide(
                "truncated",
                f"the head kept elsewhere says {head.count} events, the chain holds "
                f"{self._count}: the newest were deleted",
            )
        elif self._at_expected != head.link:
            self._chain_wide(
                "head-mismatch",
                f"the link of event {head.count} is not the one the head kept elsewhere names: "
                "the chain was rewritten",
            )

    def _check_statuses(self, records: Iterable[Record]) -> None:
        for record in records:
            said = self._status.get((record.kind, record.cin7_id))
            if said is None:
                problem = f"status {record.status} has no status event in the trail"
            elif said != record.status:
                problem = (
                    f"status is {record.status} but the last status event says {said}: "
                    "changed behind the store's back"
                )
            else:
                continue
            self.problems.append(
                BrokenLink(None, record.key, None, problem, "status-without-event")
            )

    def _chain_wide(self, kind: ChainBreakKind, problem: str) -> None:
        self.problems.append(BrokenLink(None, None, None, problem, kind))

    def _report(self, ev: AuditEvent, kind: ChainBreakKind, problem: str) -> None:
        self.problems.append(BrokenLink(ev.id, ev.record_key, ev.seq, problem, kind))


def _link(key: bytes, ev: AuditEvent, connection_id: int) -> str:
    return event_link(
        key,
        ev.key_version,
        prev_hash=ev.prev_hash,
        connection_id=connection_id,
        record_key=ev.record_key,
        seq=ev.seq,
        at=ev.at,
        event=ev.event,
        actor=ev.actor,
        data=ev.data,
    )
