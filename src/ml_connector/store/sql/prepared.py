"""The store's hot statements, compiled once and run on the database driver.

Every record of a pass sends the same few statements (a snapshot's version, a record's row, a
posting's intent and outcome, the audit chain's append). Through SQLAlchemy each one costs more
CPU than the database spends on it: a hand-off to a greenlet and back, an execution context with
its parameter list, a result object. A :class:`Prepared` statement keeps SQLAlchemy's own work
and skips the rest: the statement is compiled by SQLAlchemy, once per dialect and per set of
parameter names (as SQLAlchemy's cache would), into its SQL text, the order of its parameters,
their bind processors (JSON, datetimes, the store's :class:`~ml_connector.store.tables.UTCDateTime`)
and the result columns with their result processors; :func:`run` then converts the parameters
and the rows with exactly those processors and awaits the driver connection directly (the
store's :class:`~ml_connector.store.sqlite_driver.SqliteConnection` on SQLite, psycopg's
``AsyncConnection`` on PostgreSQL).

It runs inside the transaction SQLAlchemy began on the connection it is given: SQLAlchemy still
begins, commits and rolls back (a statement that fails leaves the block, which rolls back),
builds the schema and runs every other verb. What the caller sees does not change:

* A driver error leaves as the SQLAlchemy exception SQLAlchemy would have raised
  (:meth:`sqlalchemy.exc.DBAPIError.instance`, parameters hidden), so the store's
  :func:`~ml_connector.store.sql.base.translate` makes the same
  :class:`~ml_connector.errors.StoreError` (a unique key already held is
  :class:`~ml_connector.errors.AlreadyPosted`) with the driver's message only.
* Each statement is announced to the engine's ``before_cursor_execute`` listeners (cursor and
  execution context ``None``), so :func:`~ml_connector.store.db.count_statements` counts it,
  and it is logged when the engine echoes.
* Rows are plain dicts of the same keys and values a ``RowMapping`` gives.

Statements that need more than this (Python-side column defaults, values computed per call,
``IN`` lists expanded per call, ``executemany``) are refused when compiled; they stay on
SQLAlchemy's path, as do the verbs that run rarely.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError, InvalidRequestError
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler

__all__ = ["Prepared", "Ran", "one", "run"]

Row = dict[str, Any]
_Processor = Callable[[Any], Any]
_REQUIRED = object()


@dataclass(frozen=True, slots=True)
class _Bind:
    """One parameter of the compiled SQL: where its value comes from and how it is converted."""

    sql_name: str  # its name in the SQL text (pyformat) or in the positional order
    key: str  # the key the caller passes
    processor: _Processor | None
    default: Any  # the statement's own value (a LIMIT, say), or _REQUIRED


@dataclass(slots=True)
class _Compiled:
    """One statement for one dialect and one set of parameter names."""

    sql: str
    positional: bool
    binds: tuple[_Bind, ...]
    result_keys: tuple[str, ...]
    result_types: tuple[Any, ...]
    # Result processors depend on the types the driver reports; set on the first run.
    result_processors: tuple[_Processor | None, ...] | None = None
    returns_rows: bool = field(default=False)

    def parameters(self, params: Mapping[str, Any]) -> Any:
        values = []
        for bind in self.binds:
            value = params.get(bind.key, bind.default)
            if value is _REQUIRED:
                raise InvalidRequestError(f"A value is required for bind parameter {bind.key!r}")
            values.append(value if bind.processor is None else bind.processor(value))
        if self.positional:
            return tuple(values)
        return {bind.sql_name: value for bind, value in zip(self.binds, values, strict=True)}


def _compile(statement: ClauseElement, dialect: Dialect, keys: tuple[str, ...]) -> _Compiled:
    compiled = statement.compile(dialect=dialect, column_keys=list(keys))
    assert isinstance(compiled, SQLCompiler)
    if compiled.insert_prefetch or compiled.update_prefetch:
        raise InvalidRequestError("a prepared statement cannot compute Python-side defaults")
    if compiled.literal_execute_params or compiled.post_compile_params:
        raise InvalidRequestError("a prepared statement cannot expand parameters per call")
    processors: Mapping[str, _Processor] = compiled._bind_processors  # type: ignore[assignment]
    escaped = compiled.escaped_bind_names
    by_name: dict[str, _Bind] = {}
    for bindparam, name in compiled.bind_names.items():
        if bindparam.callable is not None:
            raise InvalidRequestError("a prepared statement cannot call a value per execution")
        default = _REQUIRED if bindparam.required else bindparam.effective_value
        key = bindparam.key if bindparam.key in keys or name not in keys else name
        by_name[name] = _Bind(escaped.get(name, name), key, processors.get(name), default)
    if compiled.positional:
        assert compiled.positiontup is not None
        order = [by_name[name] for name in compiled.positiontup]
    else:
        order = list(by_name.values())
    columns = compiled._result_columns
    return _Compiled(
        sql=compiled.string,
        positional=bool(compiled.positional),
        binds=tuple(order),
        result_keys=tuple(column[0] for column in columns),
        result_types=tuple(column[3] for column in columns),
        returns_rows=bool(columns),
    )


class Prepared:
    """A Core statement run through :func:`run`, compiled once per dialect and parameter names.

    Build it once, at import or once per store (dialect-specific constructs such as
    ``ON CONFLICT`` are fine: each dialect compiles its own). An ``INSERT`` or ``UPDATE`` sets
    the columns its parameters name, as with ``connection.execute(statement, params)``.
    """

    __slots__ = ("__weakref__", "_by_dialect", "statement")

    def __init__(self, statement: ClauseElement) -> None:
        self.statement = statement
        self._by_dialect: weakref.WeakKeyDictionary[Dialect, dict[tuple[str, ...], _Compiled]]
        self._by_dialect = weakref.WeakKeyDictionary()

    def compiled(self, dialect: Dialect, keys: tuple[str, ...]) -> _Compiled:
        forms = self._by_dialect.get(dialect)
        if forms is None:
            forms = self._by_dialect[dialect] = {}
        found = forms.get(keys)
        if found is None:
            found = forms[keys] = _compile(self.statement, dialect, keys)
        return found

    def __repr__(self) -> str:
        return f"Prepared({str(self.statement)!r})"


@dataclass(frozen=True, slots=True)
class Ran:
    """What a statement gave back: its rows (dicts by column key) and its row count."""

    rows: list[Row]
    rowcount: int

    def first(self) -> Row | None:
        return self.rows[0] if self.rows else None

    def scalar_one(self) -> Any:
        if len(self.rows) != 1:
            raise InvalidRequestError(f"expected one row, got {len(self.rows)}")
        return next(iter(self.rows[0].values()))


async def run(c: AsyncConnection, prepared: Prepared, params: Mapping[str, Any]) -> Ran:
    """Run ``prepared`` with ``params`` in the transaction open on ``c`` (see the module)."""
    sync = c.sync_connection
    assert sync is not None
    dialect = sync.dialect
    compiled = prepared.compiled(dialect, tuple(sorted(params)))
    parameters = compiled.parameters(params)
    sql = compiled.sql
    for listener in sync.dispatch.before_cursor_execute:
        listener(sync, None, sql, parameters, None, False)
    if sync._echo:
        sync._log_info(sql)
        sync._log_info("[prepared] %r", "(parameters hidden)" if _hidden(sync) else parameters)
    dbapi = dialect.loaded_dbapi
    try:
        driver = sync.connection.driver_connection
        if dialect.name == "sqlite":
            description, rowcount, raw = await _on_sqlite(driver, sql, parameters)
        else:
            description, rowcount, raw = await _on_psycopg(driver, sql, parameters)
    except dbapi.Error as exc:
        raise DBAPIError.instance(
            sql, None, exc, dbapi.Error, hide_parameters=True, dialect=dialect
        ) from None
    if not compiled.returns_rows or not raw:
        return Ran([], rowcount)
    processors = compiled.result_processors
    if processors is None:
        processors = compiled.result_processors = tuple(
            type_._cached_result_processor(dialect, column[1])
            for type_, column in zip(compiled.result_types, description, strict=True)
        )
    keys = compiled.result_keys
    rows = [
        {
            key: value if proc is None else proc(value)
            for key, proc, value in zip(keys, processors, record, strict=True)
        }
        for record in raw
    ]
    return Ran(rows, rowcount)


async def one(
    c: AsyncConnection, prepared: Prepared, params: Mapping[str, Any]
) -> Mapping[Any, Any] | None:
    """The first row of ``prepared`` run with ``params``, or None."""
    return (await run(c, prepared, params)).first()


def _hidden(sync: Any) -> bool:
    return bool(getattr(sync.engine, "hide_parameters", False))


async def _on_sqlite(driver: Any, sql: str, parameters: Any) -> tuple[Any, int, Sequence[Any]]:
    description, rowcount, _lastrowid, rows = await driver.run(False, sql, parameters)
    return description, rowcount, rows


async def _on_psycopg(driver: Any, sql: str, parameters: Any) -> tuple[Any, int, Sequence[Any]]:
    async with driver.cursor() as cursor:
        await cursor.execute(sql, parameters)
        rows = await cursor.fetchall() if cursor.description else []
        return cursor.description, cursor.rowcount, rows
