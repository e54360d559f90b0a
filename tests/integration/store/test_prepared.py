"""Prepared statements run on the driver give what SQLAlchemy's execution gives: the same rows
and values (JSON, aware datetimes, floats, NULLs), the same row counts, the same SQL counted by
`count_statements`, the same StoreError for a driver error, and a failed statement rolls its
transaction back (on SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import bindparam, event, insert, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection

from ml_connector.errors import AlreadyPosted, StoreError
from ml_connector.store import SqlStore
from ml_connector.store import tables as t
from ml_connector.store.db import count_statements
from ml_connector.store.sql.base import translate
from ml_connector.store.sql.prepared import Prepared, run

AUCKLAND = timezone(timedelta(hours=13))
AT = datetime(2026, 12, 3, 23, 30, 15, 123456, tzinfo=AUCKLAND)
LATER = datetime(2026, 12, 4, 1, 2, 3, tzinfo=UTC)
SECRET = "s3cr3t-parameter-value"

_r = t.records.c
INSERT_RECORD = insert(t.records).returning(*t.records.c)
RECORD_BY_KEY = select(t.records).where(
    _r.connection_id == bindparam("cid"), _r.cin7_id == bindparam("rcid")
)
UPDATE_RECORD = update(t.records).where(_r.id == bindparam("rid")).returning(*t.records.c)
_m = t.mappings.c
INSERT_MAPPING = insert(t.mappings).returning(*t.mappings.c)
MAPPING_BY_VALUE = (
    select(t.mappings).where(_m.cin7_value == bindparam("value")).order_by(_m.id).limit(1)
)
INSERT_POSTING = insert(t.postings)


def _record(cid: int, cin7_id: str) -> dict[str, Any]:
    return {
        "connection_id": cid,
        "kind": "purchase",
        "cin7_id": cin7_id,
        "reference": "PO-00412 Ünïcode",
        "supplier_id": None,
        "status": "pending",
        "reason": None,
        "latest_version": 3,
        "posted_version": None,
        "month": "2026-12",
        "amounts": {
            "AUD": {"invoiced": "1234.50", "posted": "0.00"},
            "notes": ["ü", 1, 2.5, None, True, {"nested": []}],
        },
        "status_since": AT,
        "created_at": AT,
        "updated_at": AT,
    }


def _posting(cid: int, key: str) -> dict[str, Any]:
    return {
        "connection_id": cid,
        "record_id": None,
        "natural_key": key,
        "kind": "purchase",
        "qad_id": None,
        "state": "intent",
        "details": {"token": SECRET},
        "created_at": AT,
        "updated_at": AT,
    }


def _without(row: Mapping[str, Any], *keys: str) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k not in keys}


async def _core(c: AsyncConnection, statement: Any, params: dict[str, Any]) -> list[dict[str, Any]]:
    return [dict(row) for row in (await c.execute(statement, params)).mappings().all()]


async def test_rows_and_values_are_sqlalchemy_s(store: SqlStore, cid: int) -> None:
    async with store.engine.begin() as c:
        lean = (await run(c, Prepared(INSERT_RECORD), _record(cid, "A"))).rows
        core = await _core(c, INSERT_RECORD, _record(cid, "B"))
    assert [_without(row, "id", "cin7_id") for row in lean] == [
        _without(row, "id", "cin7_id") for row in core
    ]
    [row] = lean
    assert row["status_since"] == AT
    assert row["status_since"].tzinfo == UTC
    assert row["supplier_id"] is None
    assert row["posted_version"] is None
    assert row["amounts"] == _record(cid, "A")["amounts"]

    by_key = Prepared(RECORD_BY_KEY)
    async with store.engine.begin() as c:
        for cin7_id in ("A", "B", "missing"):
            params = {"cid": cid, "rcid": cin7_id}
            assert (await run(c, by_key, params)).rows == await _core(c, RECORD_BY_KEY, params)

    # An UPDATE sets the columns its parameters name, NULLs included; same rows, same count.
    update_record = Prepared(UPDATE_RECORD)
    changes = {"reason": None, "supplier_id": "S-1", "amounts": {}, "updated_at": LATER}
    async with store.engine.begin() as c:
        lean_ran = await run(c, update_record, {"rid": lean[0]["id"], **changes})
        core_rows = await _core(c, UPDATE_RECORD, {"rid": core[0]["id"], **changes})
        missing = await run(c, update_record, {"rid": -1, **changes})
    assert [_without(r, "id", "cin7_id") for r in lean_ran.rows] == [
        _without(r, "id", "cin7_id") for r in core_rows
    ]
    assert lean_ran.rowcount == 1
    assert lean_ran.rows[0]["updated_at"] == LATER
    assert missing.rows == []
    assert missing.rowcount in (0, -1)


async def test_floats_and_statement_values_are_sqlalchemy_s(store: SqlStore, cid: int) -> None:
    values = {
        "connection_id": cid,
        "kind": "supplier",
        "cin7_value": "Acme",
        "qad_value": "ACME01",
        "source": "suggested",
        "confidence": 0.875,
        "created_at": AT,
        "updated_at": AT,
    }
    async with store.engine.begin() as c:
        [lean] = (await run(c, Prepared(INSERT_MAPPING), values)).rows
        # A LIMIT the statement holds is sent with the caller's parameters.
        again = (await run(c, Prepared(MAPPING_BY_VALUE), {"value": "Acme"})).rows
        core = await _core(c, MAPPING_BY_VALUE, {"value": "Acme"})
    assert again == core == [lean]
    assert lean["confidence"] == 0.875
    assert lean["created_at"] == AT


async def _insert_posting(store: SqlStore, *postings: dict[str, Any], lean: bool = True) -> None:
    async with store.engine.begin() as c:
        for posting in postings:
            if lean:
                await run(c, Prepared(INSERT_POSTING), posting)
            else:
                await c.execute(INSERT_POSTING, posting)


async def _snapshot_intent_then_orphan(store: SqlStore, cid: int) -> None:
    """A snapshot and an intent, then a record of no connection, in one transaction."""
    async with store.transaction():
        await store.stage_snapshot(cid, "purchase", "P-1", "PO-1", "2026-12-01T00:00:00", {})
        await store.record_intent(cid, "PO-1", "purchase", None)
        await store.upsert_record(cid + 1000, "purchase", "P-1", reference=SECRET)


async def test_a_driver_error_is_the_store_error_sqlalchemy_s_would_be(
    store: SqlStore, cid: int
) -> None:
    async with store.engine.begin() as c:
        await run(c, Prepared(INSERT_POSTING), _posting(cid, "PO-1"))
    caught: list[StoreError] = []
    for lean in (True, False):
        with pytest.raises(SQLAlchemyError) as raised:
            await _insert_posting(store, _posting(cid, "PO-1"), lean=lean)
        caught.append(translate(raised.value))
    lean_error, core_error = caught
    assert isinstance(lean_error, AlreadyPosted)
    assert type(lean_error) is type(core_error)
    assert str(lean_error) == str(core_error)
    assert SECRET not in str(lean_error)


async def test_prepared_statements_are_counted_with_sqlalchemy_s_sql(
    store: SqlStore, cid: int
) -> None:
    sent: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        sent.append(statement)

    event.listen(store.engine.sync_engine, "before_cursor_execute", note)
    try:
        with count_statements(store.engine) as lean:
            async with store.engine.begin() as c:
                await run(c, Prepared(INSERT_RECORD), _record(cid, "A"))
                await run(c, Prepared(RECORD_BY_KEY), {"cid": cid, "rcid": "A"})
        lean_sql, sent[:] = list(sent), []
        with count_statements(store.engine) as core:
            async with store.engine.begin() as c:
                await c.execute(INSERT_RECORD, _record(cid, "B"))
                await c.execute(RECORD_BY_KEY, {"cid": cid, "rcid": "B"})
    finally:
        event.remove(store.engine.sync_engine, "before_cursor_execute", note)
    assert lean.statements == core.statements >= 2
    assert lean_sql == sent


async def test_a_failed_statement_rolls_its_transaction_back(store: SqlStore, cid: int) -> None:
    with pytest.raises(StoreError, match="integrity") as raised:
        await _snapshot_intent_then_orphan(store, cid)
    assert SECRET not in str(raised.value)
    assert await store.latest_snapshot(cid, "purchase", "P-1") is None
    assert await store.get_posting(cid, "PO-1") is None

    with pytest.raises(SQLAlchemyError):
        await _insert_posting(store, _posting(cid, "PO-2"), _posting(cid, "PO-2"))
    assert await store.get_posting(cid, "PO-2") is None
    # The connection went back to the pool in a usable state.
    assert (await store.record_intent(cid, "PO-3", "purchase", None)).natural_key == "PO-3"
    assert await store.get_posting(cid, "PO-3") is not None


async def test_an_echoing_engine_logs_prepared_statements(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    store = await SqlStore.open(database_url, echo=True)
    try:
        caplog.set_level("INFO", logger="sqlalchemy.engine")
        async with store.engine.begin() as c:
            await run(c, Prepared(RECORD_BY_KEY), {"cid": 1, "rcid": "PO-echo"})
    finally:
        await store.close()
    messages = [record.getMessage() for record in caplog.records]
    sql = next(m for m in messages if m.startswith("SELECT records.id"))
    assert messages[messages.index(sql) + 1] == "[prepared] " + repr(
        (1, "PO-echo") if store.dialect == "sqlite" else {"cid": 1, "rcid": "PO-echo"}
    )
