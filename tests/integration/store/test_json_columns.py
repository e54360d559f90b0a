"""JSON columns read back the values `json.loads` gives, through `json_codec.loads`, on both
back-ends; the stored text stays `json.dumps`' (the invoice search matches it)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import JSON, Column, Integer, MetaData, Table, Text, cast, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from ml_connector.store.db import create_engine

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
    assert text[0].startswith('{"InvoiceNumber": "INV-0042", ')


async def test_reads_do_not_go_through_json_loads(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[object] = []
    real = json.loads

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(json, "loads", counted)
    read, _ = await _write_and_read(engine, VALUES[:1])
    assert read == VALUES[:1]
    assert calls == []
