"""Postings in memory: what QAD holds, or may hold, under each natural key."""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any

from ml_connector.errors import AlreadyPosted, StoreError
from ml_connector.store.memory.base import MemoryBase, Row, as_json
from ml_connector.store.models import (
    Posting,
    Record,
)
from ml_connector.store.rows import (
    posting_from_row,
)
from ml_connector.store.rules import (
    check,
)
from ml_connector.vocab import (
    POSTING_STATES,
    PostingState,
)

__all__ = ["MemoryPostings"]


class MemoryPostings(MemoryBase):
    """:class:`~ml_connector.store.protocols.Postings` in memory."""

    async def record_intent(
        self,
        connection_id: int,
        natural_key: str,
        kind: str,
        record_id: int | None,
        details: dict[str, Any] | None = None,
    ) -> Posting:
        now = self._clock()
        async with self._write("record_intent"):
            self._owned(connection_id)
            row = self._posting(connection_id, natural_key)
            if row is None:
                row = self._insert(
                    "postings",
                    {
                        "connection_id": connection_id,
                        "record_id": record_id,
                        "natural_key": natural_key,
                        "kind": kind,
                        "qad_id": None,
                        "state": "intent",
                        "details": as_json(details or {}),
                        "created_at": now,
                        "updated_at": now,
                    },
                )
        posting = posting_from_row(copy.deepcopy(row))
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
        now = self._clock()
        async with self._write("record_posted"):
            self._owned(connection_id)
            row = self._posting(connection_id, natural_key)
            if row is None:
                if kind is None:
                    raise StoreError(
                        f"no intent recorded for {natural_key}; pass kind= to record it directly"
                    )
                row = self._insert(
                    "postings",
                    {
                        "connection_id": connection_id,
                        "record_id": record_id,
                        "natural_key": natural_key,
                        "kind": kind,
                        "qad_id": qad_id,
                        "state": "posted",
                        "details": as_json(details or {}),
                        "created_at": now,
                        "updated_at": now,
                    },
                )
            else:
                changes: dict[str, Any] = {"state": "posted", "qad_id": qad_id, "updated_at": now}
                if details is not None:
                    changes["details"] = as_json(details)
                if record_id is not None:
                    changes["record_id"] = record_id
                row = self._update("postings", row, **changes)
        return posting_from_row(copy.deepcopy(row))

    async def abandon_intent(self, connection_id: int, natural_key: str) -> bool:
        async with self._write("abandon_intent"):
            row = self._posting(connection_id, natural_key)
            if row is None or row["state"] != "intent":
                return False
            self._drop("postings", row["id"])
        return True

    async def get_posting(self, connection_id: int, natural_key: str) -> Posting | None:
        self._read("get_posting")
        row = self._posting(connection_id, natural_key)
        return None if row is None else posting_from_row(copy.deepcopy(row))

    async def get_postings(
        self, connection_id: int, natural_keys: Iterable[str]
    ) -> dict[str, Posting]:
        self._read("get_postings")
        keys = set(natural_keys)
        return {
            row["natural_key"]: posting_from_row(copy.deepcopy(row))
            for row in self._rows("postings", connection_id=connection_id)
            if row["natural_key"] in keys
        }

    async def posted_state(self, connection_id: int, record: Record | int) -> dict[str, Posting]:
        self._read("posted_state")
        record_id = record.id if isinstance(record, Record) else record
        rows = self._rows("postings", connection_id=connection_id, record_id=record_id)
        return {
            row["natural_key"]: posting_from_row(copy.deepcopy(row))
            for row in sorted(rows, key=lambda row: row["id"])
        }

    async def open_intents(self, connection_id: int) -> list[Posting]:
        return await self.list_postings(connection_id, state="intent")

    async def list_postings(
        self,
        connection_id: int,
        *,
        kind: str | None = None,
        state: PostingState | None = None,
    ) -> list[Posting]:
        if state is not None:
            check(state, POSTING_STATES, "posting state")
        self._read("list_postings")
        rows = [
            row
            for row in self._rows("postings", connection_id=connection_id)
            if (kind is None or row["kind"] == kind) and (state is None or row["state"] == state)
        ]
        return [
            posting_from_row(copy.deepcopy(row)) for row in sorted(rows, key=lambda row: row["id"])
        ]

    def _posting(self, connection_id: int, natural_key: str) -> Row | None:
        return self._one("postings", connection_id=connection_id, natural_key=natural_key)
