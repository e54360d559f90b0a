"""Postings on SQL: what QAD holds, or may hold, under each natural key.

The engine writes an ``intent`` row before every QAD create and turns it into ``posted`` after;
the unique ``(connection, natural_key)`` is what makes posting twice impossible. An intent left
by a crash is looked up in QAD on the next pass and then recorded posted or abandoned.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import ColumnElement

from ml_connector.errors import AlreadyPosted, StoreError
from ml_connector.store import tables as t
from ml_connector.store.models import Posting, Record
from ml_connector.store.rows import posting_from_row
from ml_connector.store.rules import check
from ml_connector.store.sql.base import IN_CHUNK, SqlBase, fetch_all, fetch_one
from ml_connector.store.sql.prepared import Prepared, one, run
from ml_connector.vocab import POSTING_STATES, PostingState

__all__ = ["SqlPostings"]


# Built once (every record posts through it, and a statement built anew costs its construction
# and its cache key again); the columns it sets are the parameters' other keys.
_p = t.postings.c
_RECORD_POSTED = Prepared(
    update(t.postings)
    .where(_p.connection_id == bindparam("cid"), _p.natural_key == bindparam("key"))
    .returning(*t.postings.c)
)
_BY_KEY = Prepared(
    select(t.postings).where(
        _p.connection_id == bindparam("cid"), _p.natural_key == bindparam("key")
    )
)
_OF_RECORD = Prepared(
    select(t.postings)
    .where(_p.connection_id == bindparam("cid"), _p.record_id == bindparam("rid"))
    .order_by(_p.id)
)
_BY_KEYS: dict[int, Prepared] = {}


def _by_keys(count: int) -> tuple[Prepared, int]:
    """The postings under up to ``count`` keys (``key_0`` …), and how many keys it takes.

    Built once per power of two, so a few statements serve every size (a shorter list repeats
    its last key).
    """
    size = 1 << max(count - 1, 0).bit_length()
    found = _BY_KEYS.get(size)
    if found is None:
        keys = [bindparam(f"key_{i}", type_=_p.natural_key.type) for i in range(size)]
        found = _BY_KEYS[size] = Prepared(
            select(t.postings).where(_p.connection_id == bindparam("cid"), _p.natural_key.in_(keys))
        )
    return found, size


class SqlPostings(SqlBase):
    """:class:`~ml_connector.store.protocols.Postings` on SQL."""

    _intent_insert: Prepared | None = None

    async def record_intent(
        self,
        connection_id: int,
        natural_key: str,
        kind: str,
        record_id: int | None,
        details: dict[str, Any] | None = None,
    ) -> Posting:
        """Note that a QAD create for ``natural_key`` is about to be sent.

        Returns the intent (an existing intent is returned unchanged, so a retried create after
        a crash is fine). Raises :class:`~ml_connector.errors.AlreadyPosted` when QAD already
        holds the document according to the store.
        """
        now = self._clock()
        async with self._session() as c:
            row = await one(
                c,
                self._new_intent(),
                {
                    "connection_id": connection_id,
                    "record_id": record_id,
                    "natural_key": natural_key,
                    "kind": kind,
                    "qad_id": None,
                    "state": "intent",
                    "details": details or {},
                    "created_at": now,
                    "updated_at": now,
                },
            )
            if row is None:  # held already: an intent a crash left, or a posted document
                row = await self._posting_row(c, connection_id, natural_key)
        assert row is not None
        posting = posting_from_row(row)
        if posting.state == "posted":
            raise AlreadyPosted(
                f"{natural_key} is already posted in QAD as {posting.qad_id or '(no id)'}"
            )
        return posting

    async def record_posted(
        self,
        connection_id: int,
        natural_key: str,
        qad_id: str | None,
        details: dict[str, Any] | None = None,
        *,
        kind: str | None = None,
        record_id: int | None = None,
    ) -> Posting:
        """Record that QAD holds ``natural_key`` as ``qad_id`` (after a create, an update, or
        after finding it there). ``kind`` is required when no intent was recorded first;
        ``details`` replaces the stored details when given.
        """
        now = self._clock()
        changes: dict[str, Any] = {"state": "posted", "qad_id": qad_id, "updated_at": now}
        if details is not None:
            changes["details"] = details
        if record_id is not None:
            changes["record_id"] = record_id
        async with self._session() as c:
            row = await one(
                c,
                _RECORD_POSTED,
                {"cid": connection_id, "key": natural_key, **changes},
            )
            if row is None:
                if kind is None:
                    raise StoreError(
                        f"no intent recorded for {natural_key}; pass kind= to record it directly"
                    )
                row = await fetch_one(
                    c,
                    t.postings.insert()
                    .values(
                        connection_id=connection_id,
                        record_id=record_id,
                        natural_key=natural_key,
                        kind=kind,
                        qad_id=qad_id,
                        state="posted",
                        details=details or {},
                        created_at=now,
                        updated_at=now,
                    )
                    .returning(*t.postings.c),
                )
        assert row is not None
        return posting_from_row(row)

    def _new_intent(self) -> Prepared:
        """The intent INSERT (it skips a key already held), built once per store."""
        if self._intent_insert is None:
            p = t.postings.c
            self._intent_insert = Prepared(
                self._insert(t.postings)
                .on_conflict_do_nothing(index_elements=[p.connection_id, p.natural_key])
                .returning(*t.postings.c)
            )
        return self._intent_insert

    async def abandon_intent(self, connection_id: int, natural_key: str) -> bool:
        """Drop an intent once QAD was checked and holds nothing for it. Posted rows stay."""
        p = t.postings.c
        async with self._session() as c:
            result = await c.execute(
                delete(t.postings).where(
                    p.connection_id == connection_id,
                    p.natural_key == natural_key,
                    p.state == "intent",
                )
            )
        return bool(result.rowcount)

    async def get_posting(self, connection_id: int, natural_key: str) -> Posting | None:
        async with self._session(write=False, single=True) as c:
            row = await self._posting_row(c, connection_id, natural_key)
        return None if row is None else posting_from_row(row)

    async def get_postings(
        self, connection_id: int, natural_keys: Iterable[str]
    ) -> dict[str, Posting]:
        """The postings held under any of ``natural_keys``, by key."""
        keys = list(dict.fromkeys(natural_keys))
        out: dict[str, Posting] = {}
        if not keys:
            return out
        async with self._session(write=False, single=True) as c:
            for start in range(0, len(keys), IN_CHUNK):
                chunk = keys[start : start + IN_CHUNK]
                statement, size = _by_keys(len(chunk))
                params: dict[str, Any] = {"cid": connection_id}
                params.update((f"key_{i}", chunk[min(i, len(chunk) - 1)]) for i in range(size))
                rows = (await run(c, statement, params)).rows
                out.update((row["natural_key"], posting_from_row(row)) for row in rows)
        return out

    async def posted_state(self, connection_id: int, record: Record | int) -> dict[str, Posting]:
        """Everything recorded in QAD for one record (intents included), by natural key."""
        record_id = record.id if isinstance(record, Record) else record
        async with self._session(write=False, single=True) as c:
            rows = (await run(c, _OF_RECORD, {"cid": connection_id, "rid": record_id})).rows
        return {row["natural_key"]: posting_from_row(row) for row in rows}

    async def open_intents(self, connection_id: int) -> list[Posting]:
        """Intents with no outcome (a crash between the QAD call and its record), oldest first."""
        return await self.list_postings(connection_id, state="intent")

    async def list_postings(
        self,
        connection_id: int,
        *,
        kind: str | None = None,
        state: PostingState | None = None,
    ) -> list[Posting]:
        p = t.postings.c
        where: list[ColumnElement[bool]] = [p.connection_id == connection_id]
        if kind is not None:
            where.append(p.kind == kind)
        if state is not None:
            check(state, POSTING_STATES, "posting state")
            where.append(p.state == state)
        async with self._session(write=False) as c:
            rows = await fetch_all(c, select(t.postings).where(*where).order_by(p.id))
        return [posting_from_row(row) for row in rows]

    async def _posting_row(
        self, c: AsyncConnection, connection_id: int, natural_key: str
    ) -> Mapping[Any, Any] | None:
        return await one(c, _BY_KEY, {"cid": connection_id, "key": natural_key})
