"""What a prepared statement compiles to, and what it refuses to run outside SQLAlchemy."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, bindparam, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import InvalidRequestError

from ml_connector.store import tables as t
from ml_connector.store.sql.prepared import Prepared

pytestmark = pytest.mark.unit

_with_default = Table(
    "with_default",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("name", String, default="unnamed"),
)
AT = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)


def test_parameters_follow_sqlalchemy_s_order_and_processors() -> None:
    _s = t.snapshots.c
    latest = Prepared(
        select(_s.id).where(_s.cin7_id == bindparam("scid"), _s.kind == bindparam("skind")).limit(1)
    )
    compiled = latest.compiled(sqlite.dialect(), ("scid", "skind"))
    assert compiled.sql.endswith("LIMIT ? OFFSET ?")
    assert compiled.parameters({"skind": "purchase", "scid": "P-1"}) == ("P-1", "purchase", 1, 0)

    insert_audit = Prepared(insert(t.audit_events))
    keys = ("at", "data", "seq")
    on_sqlite = insert_audit.compiled(sqlite.dialect(), keys)
    assert on_sqlite.parameters({"seq": 1, "at": AT, "data": {"a": 1}}) == (
        1,
        "2026-12-03 10:00:00.000000",  # naive UTC, as SQLAlchemy's SQLite DATETIME writes it
        '{"a": 1}',
    )
    on_postgres = insert_audit.compiled(postgresql.psycopg.dialect(), keys)
    named = on_postgres.parameters({"seq": 1, "at": AT, "data": {"a": 1}})
    assert set(named) == set(keys)
    assert named["at"] == AT
    assert named["seq"] == 1
    assert "%(data)s" in on_postgres.sql


def test_a_compiled_form_is_kept_per_dialect_and_parameter_names() -> None:
    prepared = Prepared(insert(t.audit_events))
    dialect = sqlite.dialect()
    assert prepared.compiled(dialect, ("seq",)) is prepared.compiled(dialect, ("seq",))
    assert prepared.compiled(dialect, ("seq",)) is not prepared.compiled(dialect, ("at", "seq"))


def test_what_needs_sqlalchemy_s_execution_is_refused() -> None:
    dialect = sqlite.dialect()
    with pytest.raises(InvalidRequestError, match="Python-side defaults"):
        Prepared(insert(_with_default)).compiled(dialect, ("id",))
    expanding = select(_with_default).where(
        _with_default.c.id.in_(bindparam("ids", expanding=True))
    )
    with pytest.raises(InvalidRequestError, match="expand"):
        Prepared(expanding).compiled(dialect, ("ids",))
    by_id = Prepared(select(_with_default).where(_with_default.c.id == bindparam("wid")))
    with pytest.raises(InvalidRequestError, match="wid"):
        by_id.compiled(dialect, ()).parameters({})
