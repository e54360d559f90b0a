"""Incremental listing: what changed since a stored cursor, once, with an overlap window.

Cin7 lists are not ordered by their change stamp (purchaseList is ordered by OrderNumber), and
Cin7 bulk-touches hundreds of documents with one identical stamp (reference §8.1). So a pass:

1. asks for rows changed after `cursor - overlap` (the overlap re-reads rows whose stamps were
   committed late or sit on the cursor's own instant);
2. pages to exhaustion, so a tie group of any size is read whole in one pass;
3. yields only rows whose `(ID, stamp)` the caller has not seen (`seen`), and never the same
   version twice within the pass;
4. offers `new_cursor`: the highest stamp of the whole pass, as Cin7's raw string, available
   only once the pass is complete (advance it after the pass is committed, never before).

Stamps are compared as parsed instants (`.29` and `.290` are one instant) and handed to `seen`
as the raw strings Cin7 sent, so the store can keep them verbatim.

    scan = IncrementalScan(client.purchase_list, cursor, seen)
    async for row in scan:
        ...
    store.cursor = scan.new_cursor

Suppliers work the same way: `IncrementalScan(client.suppliers, cursor, seen)` (ModifiedSince
and LastModifiedOn).
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from datetime import datetime, timedelta
from typing import Any, Generic, TypeVar

from ml_connector.cin7.models import Cin7Model, Supplier, parse_timestamp
from ml_connector.cin7.source import OnInvalid
from ml_connector.errors import InvalidPayload

DEFAULT_OVERLAP = timedelta(minutes=10)

R = TypeVar("R", bound=Cin7Model)
Seen = Callable[[str, str], Awaitable[bool]]
_STAMP_KEYS = ("LastUpdatedDate", "LastModifiedOn")


class IncrementalScan(Generic[R]):
    """One incremental pass over a Cin7 list; iterate it once, then read `new_cursor`.

    `cursor` is the stored raw Cin7 stamp (None: read everything). `seen(cin7_id, stamp_raw)`
    says whether that version is already held. Malformed rows go to `on_invalid(raw, error)`
    (or raise `InvalidPayload` when it is None) unless that version was seen; their stamps
    still count for the cursor, since the caller has been told about them.
    """

    def __init__(
        self,
        lister: Callable[..., AsyncIterator[R]],
        cursor: str | None,
        seen: Seen,
        overlap: timedelta = DEFAULT_OVERLAP,
        *,
        on_invalid: OnInvalid | None = None,
    ) -> None:
        self._lister = lister
        self._seen = seen
        self._on_invalid = on_invalid
        self.cursor = cursor or None
        self.overlap = overlap
        self._cursor_at = parse_timestamp(cursor) if cursor else None
        self.since: datetime | None = (
            self._cursor_at - overlap if self._cursor_at is not None else None
        )
        self._best_raw = self.cursor
        self._best_at = self._cursor_at
        self._versions: set[tuple[str, datetime | str]] = set()
        self._started = False
        self.complete = False
        self.listed = 0  # rows the list returned (valid or not)
        self.yielded = 0  # rows handed to the caller
        self.already_seen = 0  # rows `seen` said we hold
        self.repeated = 0  # the same version listed twice in this pass
        self.invalid = 0  # malformed rows handed to on_invalid

    def __repr__(self) -> str:
        return (
            f"IncrementalScan(cursor={self.cursor!r}, since={self.since}, listed={self.listed}, "
            f"yielded={self.yielded}, complete={self.complete})"
        )

    @property
    def new_cursor(self) -> str | None:
        """The highest raw stamp of the pass (the old cursor if nothing newer came back)."""
        if not self.complete:
            raise RuntimeError("the scan is not complete: its cursor cannot be advanced yet")
        return self._best_raw

    def __aiter__(self) -> AsyncIterator[R]:
        if self._started:
            raise RuntimeError("an IncrementalScan runs once; make a new one for the next pass")
        self._started = True
        return self._run()

    async def _run(self) -> AsyncIterator[R]:
        async for row in self._lister(self.since, on_invalid=self._invalid):
            raw, at = _row_stamp(row)
            if await self._is_new(getattr(row, "id", None), raw, at):
                self.yielded += 1
                yield row
        self.complete = True

    async def _invalid(self, payload: Mapping[str, Any], error: InvalidPayload) -> None:
        raw = next((str(payload[k]) for k in _STAMP_KEYS if payload.get(k)), "")
        at = _parse_or_none(raw)
        cin7_id = payload.get("ID")
        cin7_id = str(cin7_id).strip().lower() if cin7_id else None
        if not await self._is_new(cin7_id, raw, at):
            return
        self.invalid += 1
        if self._on_invalid is None:
            raise error
        outcome = self._on_invalid(payload, error)
        if inspect.isawaitable(outcome):
            await outcome

    async def _is_new(self, cin7_id: str | None, raw: str, at: datetime | None) -> bool:
        self.listed += 1
        if at is not None and (self._best_at is None or at > self._best_at):
            self._best_at, self._best_raw = at, raw
        if cin7_id is None:
            return True
        version = (cin7_id, at if at is not None else raw)
        if version in self._versions:
            self.repeated += 1
            return False
        self._versions.add(version)
        if await self._seen(cin7_id, raw):
            self.already_seen += 1
            return False
        return True


def _row_stamp(row: Cin7Model) -> tuple[str, datetime | None]:
    if isinstance(row, Supplier):
        return row.last_modified_raw, row.last_modified_on
    raw = str(getattr(row, "last_updated_raw", "") or "")
    at = getattr(row, "last_updated", None)
    return raw, at if isinstance(at, datetime) else _parse_or_none(raw)


def _parse_or_none(raw: str) -> datetime | None:
    try:
        return parse_timestamp(raw) if raw else None
    except ValueError:
        return None
