"""JSON columns hold compact text (`json_codec.dumps_text`) and read back, through
`json_codec.loads`, the values `json.loads` gives of `json.dumps`' text, on both back-ends; the
invoice search finds a number in either text, so rows written before still match."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import JSON, Column, Integer, MetaData, Table, Text, cast, insert, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from ml_connector.store import SqlStore
from ml_connector.store.db import create_engine
from ml_connector.store.search import RecordQuery, SqlRecordSearch

META = MetaData()
DOCS = Table("docs", META, Column("id", Integer, primary_key=True), Column("body", JSON))
VALUES: list[Any] = [
    {"InvoiceNumber": "INV-0042", "Total": 1234.5, "Tax": 1e-07, "Note": None, "Lines": []},
    {"count": 18446744073709551616, "min": -9223372036854775809, "Size": 2.5e-05},
    {"Name": "Größe € \u2028 😀", "Quote": '"\\', "Nested": [{"a": [True, False, None]}]},
    [1, 2.0, "three"],
    "text",
]


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url)
    async with engine.begin() as conn:
        await conn.run_sync(META.create_all)
    try:
        yield engine
    finally:
        await engine.dispose()


async def _write_and_read(engine: AsyncEngine, values: list[Any]) -> tuple[list[Any], list[str]]:
    async with engine.begin() as conn:
        await conn.execute(insert(DOCS), [{"id": n, "body": v} for n, v in enumerate(values)])
    async with engine.connect() as conn:
        read = (await conn.execute(select(DOCS.c.body).order_by(DOCS.c.id))).scalars().all()
        text = (await conn.execute(select(cast(DOCS.c.body, Text)).order_by(DOCS.c.id))).all()
    return list(read), [row[0] for row in text]


async def test_values_read_back_as_json_loads_reads_them(engine: AsyncEngine) -> None:
    read, text = await _write_and_read(engine, VALUES)
    assert read == [json.loads(json.dumps(value)) for value in VALUES]
    assert type(read[1]["count"]) is int
    assert text[0].startswith('{"InvoiceNumber":"INV-0042","Total":1234.5,"Tax":1e-7,')
    assert json.loads(text[2])["Name"] == "Größe € \u2028 😀"


async def test_writes_and_reads_do_not_go_through_json(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[object] = []

    def counted(real: Any) -> Any:
        def call(*args: Any, **kwargs: Any) -> Any:
            calls.append(args)
            return real(*args, **kwargs)

        return call

    monkeypatch.setattr(json, "loads", counted(json.loads))
    monkeypatch.setattr(json, "dumps", counted(json.dumps))
    read, _ = await _write_and_read(engine, VALUES[:1])
    assert read == VALUES[:1]
    assert calls == []


async def test_the_invoice_search_finds_a_number_in_old_and_new_text(
    database_url: str, cid: int, store: SqlStore
) -> None:
    search = SqlRecordSearch(store.engine)
    for n in (1, 2):
        await store.upsert_record(cid, "purchase", f"P-{n}", reference=f"PO-{n}", latest_version=1)
        payload = {"ID": f"P-{n}", "Invoices": [{"InvoiceNumber": f"INV-{n}0", "Total": 1.5}]}
        await store.stage_snapshot(cid, "purchase", f"P-{n}", f"PO-{n}", "t1", payload)
    # P-2's payload as json.dumps wrote it before: ", " and ": " separators.
    old = json.dumps({"ID": "P-2", "Invoices": [{"InvoiceNumber": "INV-20", "Total": 1.5}]})
    value = "CAST(:old AS json)" if database_url.startswith("postgresql") else ":old"
    async with store.engine.begin() as conn:
        await conn.execute(
            text(f"UPDATE snapshots SET payload = {value} WHERE cin7_id = 'P-2'"), {"old": old}
        )
        stored = dict(
            (await conn.execute(text("SELECT cin7_id, CAST(payload AS TEXT) FROM snapshots"))).all()
        )
    assert stored["P-1"].startswith('{"ID":"P-1","Invoices":[{"InvoiceNumber":"INV-10"')
    assert stored["P-2"] == old

    async def found(number: str) -> set[str]:
        records, _ = await search.search(cid, RecordQuery(invoice=number))
        return {r.cin7_id for r in records}

    assert await found("INV-10") == {"P-1"}
    assert await found("INV-20") == {"P-2"}
    assert await found("INV-") == {"P-1", "P-2"}
    assert await found("INV-30") == set()
