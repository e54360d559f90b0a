"""What every memory verb stands on: the tables, the undo log, redaction; and why it is faithful.

For tests and demos that need a working store without a database: the engine syncs against it
in milliseconds. It keeps the same contract as :class:`~ml_connector.store.sql.SqlStore` (the
contract suite in ``tests/support/store_contract.py`` runs on both), because it is built the same
way:

- the tables are dicts of rows shaped like the SQL rows, turned into values by the same
  functions (:mod:`ml_connector.store.rows`), and the values are checked, hashed, redacted and
  summed by the same rules (:mod:`ml_connector.store.rules`, :mod:`~ml_connector.store.audit`);
- credentials are kept encrypted with the vault, so key rotation works as it does on SQL;
- JSON columns keep what JSON keeps (a JSON round trip on write) and every read hands out a copy;
- ``transaction()`` keeps an undo log: the block commits by forgetting it and rolls back by
  replaying it backwards; a nested block is a savepoint. A transaction holds the store's write
  lock, so a write from another task waits for it to end, as on SQLite. Reads do not wait and may
  see another task's uncommitted writes (the engine never relies on either).

Nothing is persisted: the store lives as long as the object.

The verbs live in one module per kind of data, each a class over :class:`MemoryBase`, as on SQL;
:class:`~ml_connector.store.memory.store.MemoryStore` composes them.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Self, cast

from ml_connector.errors import ConfigError, StoreError
from ml_connector.store.redact import redact
from ml_connector.store.tables import ENCRYPTED_COLUMNS
from ml_connector.vault import Vault

__all__ = ["OWNED_TABLES", "TABLES", "MemoryBase", "Row", "as_json"]

Row = dict[str, Any]
TABLES = (
    "connections",
    "audit_heads",
    "cursors",
    "snapshots",
    "records",
    "postings",
    "mappings",
    "audit_events",
    "runs",
    "alert_rules",
    "alert_states",
    "audit_keys",
)
OWNED_TABLES = TABLES[1:-2]
"""The tables whose rows belong to a connection and go with it (alert states go with their
rule; the audit keys belong to the master key)."""


def _utcnow() -> datetime:
    return datetime.now(UTC)


def as_json(value: Any) -> Any:
    """What a JSON column gives back for ``value``."""
    return json.loads(json.dumps(value))


@dataclass
class _Tx:
    """One open transaction or savepoint: its task and how to undo what it did."""

    task: asyncio.Task[Any] | None
    undo: list[Callable[[], None]] = field(default_factory=list)
    active: bool = True


class MemoryBase:
    """The tables, the vault and the clock the memory verbs share, and their transactions.

    ``vault`` encrypts the credentials it keeps (a fresh ephemeral vault when None); ``clock``
    returns aware UTC datetimes, e.g. :meth:`ml_connector.testing.FakeClock.utcnow`.
    ``calls`` counts the verbs called, by name, for tests that check how a caller uses the
    store; :meth:`reset` empties everything; :meth:`raw_tables` is the way behind its back.
    """

    def __init__(
        self, vault: Vault | None = None, *, clock: Callable[[], datetime] = _utcnow
    ) -> None:
        self._vault = vault if vault is not None else Vault.ephemeral()
        self._clock = clock
        self._ambient: ContextVar[list[_Tx] | None] = ContextVar(
            f"ml_connector_memory_store_{id(self)}", default=None
        )
        self._write_lock = asyncio.Lock()
        self.calls: dict[str, int] = {}
        self.reset()

    def reset(self) -> None:
        """Forget every connection and everything recorded for them."""
        self._tables: dict[str, dict[Any, Row]] = {name: {} for name in TABLES}
        self._ids: dict[str, int] = dict.fromkeys(TABLES, 0)
        self.calls.clear()

    @property
    def vault(self) -> Vault:
        return self._vault

    async def close(self) -> None:
        """Nothing to release; here so a MemoryStore can stand where a SqlStore is closed."""

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()

    def __repr__(self) -> str:
        counts = ", ".join(f"{name}={len(rows)}" for name, rows in self._tables.items() if rows)
        return f"{type(self).__name__}({counts})"

    # --- transactions -------------------------------------------------------------------------

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Self]:
        """Group the verbs awaited inside the block: all kept, or all undone if it raises."""
        stack = self._stack()
        if stack:
            savepoint = _Tx(stack[-1].task)
            token = self._ambient.set([*stack, savepoint])
            try:
                yield self
            except BaseException:
                _rollback(savepoint)
                raise
            finally:
                savepoint.active = False
                self._ambient.reset(token)
            stack[-1].undo.extend(savepoint.undo)
            return
        async with self._write_lock:
            tx = _Tx(asyncio.current_task())
            token = self._ambient.set([tx])
            try:
                yield self
            except BaseException:
                _rollback(tx)
                raise
            finally:
                tx.active = False
                self._ambient.reset(token)

    def _stack(self) -> list[_Tx]:
        stack = self._ambient.get()
        if not stack or not stack[0].active:
            return []
        if stack[0].task is not asyncio.current_task():
            raise StoreError(
                "a store transaction was used from another task; await the verbs of one "
                "transaction one by one in the task that opened it"
            )
        return stack

    @asynccontextmanager
    async def _write(self, verb: str) -> AsyncIterator[None]:
        """Run one writing verb: inside the caller's transaction, or alone and atomically."""
        self._count(verb)
        if self._stack():
            yield
            return
        async with self.transaction():
            yield

    def _read(self, verb: str) -> None:
        self._count(verb)
        self._stack()

    def _count(self, verb: str) -> None:
        self.calls[verb] = self.calls.get(verb, 0) + 1

    # --- rows ---------------------------------------------------------------------------------

    def _rows(self, table: str, **match: Any) -> list[Row]:
        return [
            row
            for row in self._tables[table].values()
            if all(row[k] == v for k, v in match.items())
        ]

    def _one(self, table: str, **match: Any) -> Row | None:
        found = self._rows(table, **match)
        return found[0] if found else None

    def _put(self, table: str, key: Any, row: Row) -> Row:
        rows = self._tables[table]
        missing = object()
        before = rows.get(key, missing)

        def undo() -> None:
            if before is missing:
                rows.pop(key, None)
            else:
                rows[key] = cast(Row, before)

        self._stack()[-1].undo.append(undo)
        rows[key] = row
        return row

    def _drop(self, table: str, key: Any) -> None:
        rows = self._tables[table]
        if key not in rows:
            return
        before = rows.pop(key)
        self._stack()[-1].undo.append(lambda: rows.__setitem__(key, before))

    def _insert(self, table: str, row: Row) -> Row:
        self._ids[table] += 1
        return self._put(table, self._ids[table], {**row, "id": self._ids[table]})

    def _update(self, table: str, row: Row, **changes: Any) -> Row:
        return self._put(table, row["id"], {**row, **changes})

    def _drop_rules(self, rule_ids: list[int]) -> None:
        """Delete alert rules and their states, as the SQL cascade does."""
        for key, state in list(self._tables["alert_states"].items()):
            if state["rule_id"] in rule_ids:
                self._drop("alert_states", key)
        for rule_id in rule_ids:
            self._drop("alert_rules", rule_id)

    def _missing_rule(self, rule_id: int) -> StoreError:
        return StoreError(f"store integrity error: no alert rule with id {rule_id}")

    def _owned(self, connection_id: int) -> None:
        if connection_id not in self._tables["connections"]:
            raise StoreError(f"store integrity error: no connection with id {connection_id}")

    # --- secrets ------------------------------------------------------------------------------

    def _known_secrets(self, connection_id: int) -> tuple[str, ...]:
        row = self._tables["connections"].get(connection_id)
        if row is None:
            return ()
        try:
            return tuple(self._vault.decrypt(row[name]) for name in ENCRYPTED_COLUMNS)
        except ConfigError:
            return ()

    def _scrub(self, connection_id: int, text: str | None) -> str | None:
        if text is None:
            return None
        return cast(str, redact(text, secrets=self._known_secrets(connection_id)))

    def raw_tables(self) -> dict[str, dict[Any, Row]]:
        """The live tables, for a test that changes what the store holds behind its back (as
        raw SQL does on a database), for example to show that :meth:`verify` notices."""
        return self._tables


def _rollback(tx: _Tx) -> None:
    for undo in reversed(tx.undo):
        undo()
    tx.undo.clear()
