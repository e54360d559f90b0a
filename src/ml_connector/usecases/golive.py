"""Going live: the cut-over settings and the go-live worklist.

A connection's cut-over date (``SyncOptions.since``) splits Cin7 history in two. Purchases
ordered before it were keyed in QAD by hand and are recorded ``before-cutover``. The hard case is
a purchase ordered before the cut-over with a receipt or invoice dated on or after it, whose PO
QAD does not hold: posting it could duplicate what finance keyed, skipping it could lose goods
or a liability. The engine records it ``go-live`` with what it *would* post (the ``go-live``
trail event), and nothing reaches QAD until a person decides:

- :func:`golive_worklist` lists those purchases with the documents each would create;
- :func:`golive_post` releases the named ones (or all): a ``golive-released`` trail event names
  who decided, then a replay from the stored snapshot posts them, with the same natural keys and
  look-ups as any pass, inside the connection's lock.

:func:`resync_from` moves the purchase cursor back to a day (after an outage or a restore),
inside the connection's lock so no pass is moving it at the same time; the next pass lists that
window again, and the natural keys and adoption make it post nothing twice.

The cut-over date and ``adopt_existing`` are connection settings (``SyncOptions.since``,
``SyncOptions.adopt_existing``), set with ``connection add/edit --since``.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from ml_connector.cin7.models import format_timestamp
from ml_connector.errors import ConfigError
from ml_connector.store.models import Record
from ml_connector.store.protocols import Store
from ml_connector.usecases.lock import connection_lock
from ml_connector.usecases.opening import load_connection, os_user
from ml_connector.usecases.passes import PassResult, RecordOutcome
from ml_connector.usecases.remotes import Remotes, open_engine
from ml_connector.usecases.reports import find_record

__all__ = [
    "CursorMove",
    "GoLiveEntry",
    "GoLiveWorklist",
    "golive_post",
    "golive_worklist",
    "resync_from",
]


@dataclass(frozen=True)
class GoLiveEntry:
    """One purchase on the worklist: why it is there and what posting it would create."""

    reference: str
    supplier_id: str | None
    reason: str | None
    would_post: tuple[str, ...]
    since: datetime


@dataclass(frozen=True)
class GoLiveWorklist:
    connection: str
    cutover: date | None
    entries: tuple[GoLiveEntry, ...]
    now: datetime


@dataclass(frozen=True)
class CursorMove:
    """Where the purchase cursor was and where it is now (None: no cursor, all is listed)."""

    connection: str
    before: datetime | None
    after: datetime | None

    @property
    def moved(self) -> bool:
        return self.before != self.after


async def resync_from(store: Store, name: str, day: date, *, wait: float = 0.0) -> CursorMove:
    """Move the purchase cursor back to the start of `day` (UTC); a cursor already at or
    before it stays where it is."""
    config = await load_connection(store, name)
    assert config.id is not None
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    async with connection_lock(store, config, wait=wait):
        cursor = await store.get_cursor(config.id, "purchases")
        before = cursor.value_at if cursor is not None else None
        if before is None or _aware(before) <= start:
            return CursorMove(name, before, before)
        await store.set_cursor(config.id, "purchases", format_timestamp(start), start)
    return CursorMove(name, before, start)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


async def _entry(store: Store, cid: int, record: Record) -> GoLiveEntry:
    trail = await store.trail(cid, record.key)
    last = next((e for e in reversed(trail) if e.event == "go-live"), None)
    data = last.data if last is not None and isinstance(last.data, dict) else {}
    return GoLiveEntry(
        reference=record.reference,
        supplier_id=record.supplier_id,
        reason=record.reason,
        would_post=tuple(str(line) for line in data.get("would_post") or ()),
        since=record.status_since,
    )


async def golive_worklist(store: Store, name: str) -> GoLiveWorklist:
    """Purchases ordered before the cut-over with activity after it, waiting for a person."""
    config = await load_connection(store, name)
    assert config.id is not None
    records = await store.list_records(config.id, status="go-live", kind="purchase")
    entries = [await _entry(store, config.id, r) for r in records]
    entries.sort(key=lambda e: e.reference)
    return GoLiveWorklist(name, config.sync.since, tuple(entries), datetime.now(UTC))


async def golive_post(
    store: Store,
    name: str,
    references: Sequence[str] = (),
    *,
    every: bool = False,
    actor: str | None = None,
    wait: float = 0.0,
    remotes: Remotes | None = None,
) -> PassResult | None:
    """Post the named worklist purchases (``every``: all of them); None when there are none.

    Each must be on the worklist (status ``go-live``) when the lock is taken: a purchase that
    moved on in the meantime is refused rather than posted on a stale decision.
    """
    if not references and not every:
        raise ConfigError("name the purchases to post, or use --all")
    config = await load_connection(store, name)
    assert config.id is not None
    who = actor or f"golive:{os_user()}"
    async with connection_lock(store, config, wait=wait):
        chosen: dict[int, Record] = {}
        for reference in references:
            record, _key = await find_record(store, config.id, reference)
            if record is None or record.kind != "purchase":
                raise ConfigError(f"connection {name!r} has no purchase {reference!r}")
            if record.status != "go-live":
                raise ConfigError(
                    f"{record.reference} is not on the go-live worklist (it is {record.status})"
                )
            chosen[record.id] = record
        if every:
            for record in await store.list_records(config.id, status="go-live", kind="purchase"):
                chosen.setdefault(record.id, record)
        if not chosen:
            return None
        for record in chosen.values():
            await store.append(
                config.id, record.key, "golive-released", who, {"reason": record.reason}
            )
        started = time.monotonic()
        async with open_engine(
            store, config, actor=who, with_cin7=False, remotes=remotes
        ) as engine:
            report = await engine.replay(chosen.values())
    now = [await store.get_record_by_id(rid) or old for rid, old in chosen.items()]
    outcomes = tuple(
        RecordOutcome(r.reference, r.status, r.reason)
        for r in sorted(now, key=lambda r: r.reference)
    )
    head = await store.head(config.id)
    return PassResult(name, "replay", report, time.monotonic() - started, head, outcomes)
