"""The Store: ml-connector's state as domain verbs over SQLAlchemy Core (async).

Every verb runs in its own short transaction unless it is called inside
``async with store.transaction():``, in which case it joins that transaction (in the same task).
That is how the engine commits a pass's snapshots together with the cursor, or a posting with its
audit event::

    async with store.transaction():
        staged = await store.stage_snapshot(cid, "purchase", doc_id, "PO-00412", ts, payload)
        await store.set_cursor(cid, "purchases", max_seen)

Nested ``transaction()`` blocks become savepoints. Database errors leave as
:class:`~ml_connector.errors.StoreError` (a unique natural key already held as
:class:`~ml_connector.errors.AlreadyPosted`), with the driver's message and never the statement's
parameters.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, cast

from sqlalchemy import Table, delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import DBAPIError, IntegrityError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.sql import ColumnElement, Executable

from ml_connector.errors import AlreadyPosted, ConfigError, StoreError
from ml_connector.settings import safe_url
from ml_connector.store import tables as t
from ml_connector.store.audit import GENESIS, ChainChecker, event_hash
from ml_connector.store.db import BEGIN_MODE, create_engine, upgrade
from ml_connector.store.models import (
    AlertRule,
    AuditEvent,
    BrokenLink,
    ConnectionConfig,
    Cursor,
    Mapping,
    MappingRow,
    Posting,
    ReconcileLine,
    Record,
    Run,
    Snapshot,
    Staged,
)
from ml_connector.store.redact import canonical_json, redact, sha256_hex
from ml_connector.store.rows import (
    audit_from_row,
    connection_from_row,
    connection_values,
    cursor_from_row,
    mapping_from_row,
    posting_from_row,
    record_from_row,
    run_from_row,
    snapshot_from_row,
)
from ml_connector.vault import Vault
from ml_connector.vocab import (
    AUDIT_EVENT_KINDS,
    MAPPING_KINDS,
    MAPPING_SOURCES,
    POSTING_STATES,
    RECORD_KINDS,
    RECORD_STATUSES,
    RUN_KINDS,
    RUN_STATUSES,
    STREAMS,
    AuditEventKind,
    MappingKind,
    MappingSource,
    RecordStatus,
    RunKind,
    RunStatus,
)

__all__ = ["Store", "parse_cin7_timestamp"]

_PAGE = 1000
_IN_CHUNK = 500


def _utcnow() -> datetime:
    return datetime.now(UTC)


def parse_cin7_timestamp(value: str) -> datetime | None:
    """Parse a Cin7 timestamp (``2026-08-28T12:59:44.05``, no zone means UTC); None if not one."""
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


@dataclass
class _Ambient:
    """The transaction opened by ``Store.transaction()`` in some task.

    Tasks started inside the block inherit a copy of the context var; ``active`` lets such a task
    that outlives the block tell the stale transaction from a live one.
    """

    conn: AsyncConnection
    task: asyncio.Task[Any] | None
    active: bool = True


class Store:
    """Async access to connections, cursors, snapshots, records, postings, mappings, audit, runs.

    Open with :meth:`open` (applies migrations by default) and close with :meth:`close`, or use
    ``async with await Store.open(url, vault) as store``. The vault is needed only for verbs that
    touch credentials; without one they raise :class:`~ml_connector.errors.ConfigError`.
    ``clock`` returns aware UTC datetimes and exists so tests can pin time.
    """

    def __init__(
        self,
        engine: AsyncEngine,
        vault: Vault | None = None,
        *,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        self._engine = engine
        self._dialect = engine.dialect.name
        self._read_engine = (
            engine.execution_options(**{BEGIN_MODE: "DEFERRED"})
            if self._dialect == "sqlite"
            else engine
        )
        self._vault = vault
        self._clock = clock
        self._ambient: ContextVar[_Ambient | None] = ContextVar(
            f"ml_connector_store_{id(self)}", default=None
        )
        self._secret_cache: dict[int, tuple[str, ...]] = {}

    @classmethod
    async def open(
        cls,
        url: str,
        vault: Vault | None = None,
        *,
        migrate: bool = True,
        echo: bool = False,
        clock: Callable[[], datetime] = _utcnow,
    ) -> Store:
        """Connect to ``url`` and, unless ``migrate=False``, bring the schema up to date."""
        engine = create_engine(url, echo=echo)
        try:
            if migrate:
                await upgrade(engine)
        except BaseException:
            await engine.dispose()
            raise
        return cls(engine, vault, clock=clock)

    async def close(self) -> None:
        """Release every pooled connection."""
        await self._engine.dispose()

    async def __aenter__(self) -> Store:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()

    @property
    def engine(self) -> AsyncEngine:
        return self._engine

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self._dialect

    @property
    def vault(self) -> Vault | None:
        return self._vault

    def __repr__(self) -> str:
        return f"Store({safe_url(self._engine.url)!r})"

    # --- transactions -------------------------------------------------------------------------

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Store]:
        """Group the verbs called inside the block into one transaction (yields the store).

        Commits when the block ends, rolls everything back when it raises. A nested block is a
        savepoint: it rolls back alone if it raises and the exception is caught outside it. The
        verbs must be awaited one at a time from the task that opened the block.
        """
        ambient = self._current()
        if ambient is not None:
            try:
                async with ambient.conn.begin_nested():
                    yield self
            except SQLAlchemyError as exc:
                raise _translate(exc) from None
            return
        try:
            async with self._engine.begin() as conn:
                ambient = _Ambient(conn, asyncio.current_task())
                token = self._ambient.set(ambient)
                try:
                    yield self
                finally:
                    ambient.active = False
                    self._ambient.reset(token)
        except SQLAlchemyError as exc:
            raise _translate(exc) from None

    @asynccontextmanager
    async def _session(self, *, write: bool = True) -> AsyncIterator[AsyncConnection]:
        ambient = self._current()
        if ambient is not None:
            try:
                yield ambient.conn
            except SQLAlchemyError as exc:
                raise _translate(exc) from None
            return
        engine = self._engine if write else self._read_engine
        try:
            async with engine.begin() as conn:
                yield conn
        except SQLAlchemyError as exc:
            raise _translate(exc) from None

    def _current(self) -> _Ambient | None:
        ambient = self._ambient.get()
        if ambient is None or not ambient.active:
            return None
        if ambient.task is not asyncio.current_task():
            raise StoreError(
                "a store transaction was used from another task; await the verbs of one "
                "transaction one by one in the task that opened it"
            )
        return ambient

    def _insert(self, table: Table) -> Any:
        return pg_insert(table) if self._dialect == "postgresql" else sqlite_insert(table)

    # --- alerts -------------------------------------------------------------------------------

    async def add_alert_rule(
        self,
        connection_id: int,
        channel: str,
        target: dict[str, Any],
        conditions: Sequence[str],
    ) -> AlertRule:
        """Store a rule; the destination is encrypted with the vault like connection secrets."""
        token = self._need_vault().encrypt(json.dumps(target, sort_keys=True))
        now = self._clock()
        async with self._session() as c:
            result = await c.execute(
                t.alert_rules.insert().values(
                    connection_id=connection_id,
                    channel=channel,
                    target_enc=token,
                    conditions=list(conditions),
                    created_at=now,
                )
            )
            key = result.inserted_primary_key
            assert key is not None
            rule_id = int(key[0])
        return AlertRule(rule_id, connection_id, channel, tuple(conditions), now, dict(target))

    async def list_alert_rules(self, connection_id: int) -> list[AlertRule]:
        """The connection's rules, oldest first, destinations decrypted."""
        async with self._session(write=False) as c:
            rows = await _all(
                c,
                select(t.alert_rules)
                .where(t.alert_rules.c.connection_id == connection_id)
                .order_by(t.alert_rules.c.id),
            )
        if not rows:
            return []
        vault = self._need_vault()
        return [
            AlertRule(
                id=row["id"],
                connection_id=row["connection_id"],
                channel=row["channel"],
                conditions=tuple(row["conditions"]),
                created_at=row["created_at"],
                target=json.loads(vault.decrypt(row["target_enc"])),
            )
            for row in rows
        ]

    async def remove_alert_rule(self, connection_id: int, rule_id: int) -> bool:
        """Delete one rule (and its states); False when the connection has no such rule."""
        async with self._session() as c:
            result = await c.execute(
                delete(t.alert_rules).where(
                    t.alert_rules.c.id == rule_id, t.alert_rules.c.connection_id == connection_id
                )
            )
        return bool(result.rowcount)

    async def claim_alert(self, rule_id: int, condition: str, *, active: bool) -> bool:
        """Flip a condition's state to ``active``; True only for the one caller that flipped it.

        The flip is one conditional UPDATE (``WHERE active = not active``), so when several
        processes evaluate at once exactly one of them sees a row changed and sends the notice.
        """
        now = self._clock()
        async with self._session() as c:
            await c.execute(
                self._insert(t.alert_states)
                .values(rule_id=rule_id, condition=condition, active=False, since=None)
                .on_conflict_do_nothing(index_elements=["rule_id", "condition"])
            )
            result = await c.execute(
                update(t.alert_states)
                .where(
                    t.alert_states.c.rule_id == rule_id,
                    t.alert_states.c.condition == condition,
                    t.alert_states.c.active == (not active),
                )
                .values(active=active, since=now)
            )
        return result.rowcount == 1

    async def unclaim_alert(self, rule_id: int, condition: str, *, active: bool) -> None:
        """Undo :meth:`claim_alert` after a failed delivery, so the next pass tries again."""
        async with self._session() as c:
            await c.execute(
                update(t.alert_states)
                .where(
                    t.alert_states.c.rule_id == rule_id,
                    t.alert_states.c.condition == condition,
                    t.alert_states.c.active == active,
                )
                .values(active=not active)
            )

    async def alert_sent(self, rule_id: int, condition: str) -> None:
        """Note when a notice for this condition last went out."""
        async with self._session() as c:
            await c.execute(
                update(t.alert_states)
                .where(t.alert_states.c.rule_id == rule_id, t.alert_states.c.condition == condition)
                .values(last_sent_at=self._clock())
            )

    async def alert_states(self, rule_id: int) -> dict[str, bool]:
        """Each condition of a rule that was ever evaluated, and whether it is firing."""
        async with self._session(write=False) as c:
            rows = await _all(
                c,
                select(t.alert_states.c.condition, t.alert_states.c.active).where(
                    t.alert_states.c.rule_id == rule_id
                ),
            )
        return {row["condition"]: bool(row["active"]) for row in rows}

    # --- connections --------------------------------------------------------------------------

    async def add_connection(self, config: ConnectionConfig) -> ConnectionConfig:
        """Store a new connection, encrypting its secrets; the name must be new."""
        vault = self._need_vault()
        now = self._clock()
        values = connection_values(config, vault)
        async with self._session() as c:
            exists = await c.scalar(
                select(t.connections.c.id).where(t.connections.c.name == config.name)
            )
            if exists is not None:
                raise ConfigError(f"a connection named {config.name!r} already exists")
            new_id = await c.scalar(
                t.connections.insert()
                .values(**values, healthy=True, created_at=now, updated_at=now)
                .returning(t.connections.c.id)
            )
            await c.execute(
                t.audit_heads.insert().values(connection_id=new_id, last_hash=GENESIS, count=0)
            )
            row = await self._connection_row(c, t.connections.c.id == new_id)
        assert row is not None
        return connection_from_row(row, vault)

    async def update_connection(self, config: ConnectionConfig) -> ConnectionConfig:
        """Replace the settings and secrets of the connection named ``config.name``."""
        vault = self._need_vault()
        values = connection_values(config, vault)
        async with self._session() as c:
            cid = await self._require_connection_id(c, config.name)
            await c.execute(
                update(t.connections)
                .where(t.connections.c.id == cid)
                .values(**values, updated_at=self._clock())
            )
            row = await self._connection_row(c, t.connections.c.id == cid)
        self._secret_cache.pop(cid, None)
        assert row is not None
        return connection_from_row(row, vault)

    async def get_connection(self, name: str) -> ConnectionConfig:
        """The connection named ``name`` with decrypted secrets; ConfigError if there is none."""
        found = await self.find_connection(name)
        if found is None:
            raise ConfigError(f"no connection named {name!r}")
        return found

    async def find_connection(self, name: str) -> ConnectionConfig | None:
        """The connection named ``name``, or None."""
        vault = self._need_vault()
        async with self._session(write=False) as c:
            row = await self._connection_row(c, t.connections.c.name == name)
        return None if row is None else connection_from_row(row, vault)

    async def get_connection_by_id(self, connection_id: int) -> ConnectionConfig:
        vault = self._need_vault()
        async with self._session(write=False) as c:
            row = await self._connection_row(c, t.connections.c.id == connection_id)
        if row is None:
            raise ConfigError(f"no connection with id {connection_id}")
        return connection_from_row(row, vault)

    async def connection_id(self, name: str) -> int:
        """The id of the connection named ``name`` (no secrets decrypted); ConfigError if none."""
        async with self._session(write=False) as c:
            return await self._require_connection_id(c, name)

    async def list_connections(self) -> list[ConnectionConfig]:
        """All connections by name, with decrypted secrets."""
        vault = self._need_vault()
        async with self._session(write=False) as c:
            rows = await _all(c, select(t.connections).order_by(t.connections.c.name))
        return [connection_from_row(row, vault) for row in rows]

    async def remove_connection(self, name: str) -> bool:
        """Delete a connection and everything recorded for it (audit trail included)."""
        async with self._session() as c:
            cid = await c.scalar(select(t.connections.c.id).where(t.connections.c.name == name))
            if cid is None:
                return False
            await c.execute(delete(t.connections).where(t.connections.c.id == cid))
        self._secret_cache.pop(cid, None)
        return True

    async def set_health(
        self, connection_id: int, healthy: bool, message: str | None = None
    ) -> None:
        """Mark a connection healthy or not, with a reason a person can act on."""
        clean = await self._scrub_text(connection_id, message)
        async with self._session() as c:
            await c.execute(
                update(t.connections)
                .where(t.connections.c.id == connection_id)
                .values(healthy=healthy, health_message=clean, health_checked_at=self._clock())
            )

    async def reencrypt_secrets(self, transform: Callable[[str], str]) -> int:
        """Apply ``transform`` to every stored secret token in one transaction; return the count.

        Used by :meth:`ml_connector.vault.Vault.rotate`; nothing is written unless every token
        was transformed.
        """
        enc = [t.connections.c[name] for name in t.ENCRYPTED_COLUMNS]
        count = 0
        async with self.transaction(), self._session() as c:
            rows = await _all(
                c, select(t.connections.c.id, *enc).order_by(t.connections.c.id).with_for_update()
            )
            changes: list[tuple[int, dict[str, str]]] = []
            for row in rows:
                new = {name: transform(row[name]) for name in t.ENCRYPTED_COLUMNS if row[name]}
                count += len(new)
                changes.append((row["id"], new))
            for cid, new in changes:
                await c.execute(
                    update(t.connections).where(t.connections.c.id == cid).values(**new)
                )
            alerts = await _all(
                c,
                select(t.alert_rules.c.id, t.alert_rules.c.target_enc)
                .order_by(t.alert_rules.c.id)
                .with_for_update(),
            )
            rotated = [(row["id"], transform(row["target_enc"])) for row in alerts]
            count += len(rotated)
            for rule_id, token in rotated:
                await c.execute(
                    update(t.alert_rules)
                    .where(t.alert_rules.c.id == rule_id)
                    .values(target_enc=token)
                )
        self._secret_cache.clear()
        return count

    async def _connection_row(
        self, c: AsyncConnection, where: ColumnElement[bool]
    ) -> RowMapping | None:
        return await _one(c, select(t.connections).where(where))

    async def _require_connection_id(self, c: AsyncConnection, name: str) -> int:
        cid = await c.scalar(select(t.connections.c.id).where(t.connections.c.name == name))
        if cid is None:
            raise ConfigError(f"no connection named {name!r}")
        return int(cid)

    def _need_vault(self) -> Vault:
        if self._vault is None:
            raise ConfigError("this store was opened without a vault; credentials are unavailable")
        return self._vault

    async def _known_secrets(self, connection_id: int) -> tuple[str, ...]:
        cached = self._secret_cache.get(connection_id)
        if cached is not None:
            return cached
        if self._vault is None:
            return ()
        enc = [t.connections.c[name] for name in t.ENCRYPTED_COLUMNS]
        async with self._session(write=False) as c:
            row = await _one(c, select(*enc).where(t.connections.c.id == connection_id))
        if row is None:
            return ()
        try:
            found = tuple(self._vault.decrypt(row[name]) for name in t.ENCRYPTED_COLUMNS)
        except ConfigError:
            return ()
        self._secret_cache[connection_id] = found
        return found

    async def _scrub_text(self, connection_id: int, text: str | None) -> str | None:
        if text is None:
            return None
        return cast(str, redact(text, secrets=await self._known_secrets(connection_id)))

    # --- cursors ------------------------------------------------------------------------------

    async def get_cursor(self, connection_id: int, stream: str) -> Cursor | None:
        """The stream's committed cursor, or None before the first completed pass."""
        _check(stream, STREAMS, "stream")
        async with self._session(write=False) as c:
            row = await _one(
                c,
                select(t.cursors).where(
                    t.cursors.c.connection_id == connection_id, t.cursors.c.stream == stream
                ),
            )
        return None if row is None else cursor_from_row(row)

    async def set_cursor(
        self, connection_id: int, stream: str, value: str, value_at: datetime | None = None
    ) -> Cursor:
        """Set the stream's cursor to Cin7's raw timestamp ``value`` (parsed when not given).

        Call it inside the transaction that stores the pass's snapshots, after the pass completed.
        """
        _check(stream, STREAMS, "stream")
        now = self._clock()
        at = value_at if value_at is not None else parse_cin7_timestamp(value)
        stmt = self._insert(t.cursors).values(
            connection_id=connection_id, stream=stream, value=value, value_at=at, updated_at=now
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=[t.cursors.c.connection_id, t.cursors.c.stream],
            set_={"value": value, "value_at": at, "updated_at": now},
        )
        async with self._session() as c:
            await c.execute(stmt)
        return Cursor(stream=stream, value=value, value_at=at, updated_at=now)

    async def reset_cursor(self, connection_id: int, stream: str | None = None) -> int:
        """Forget one stream's cursor (or all), so the next pass lists everything again."""
        where = [t.cursors.c.connection_id == connection_id]
        if stream is not None:
            _check(stream, STREAMS, "stream")
            where.append(t.cursors.c.stream == stream)
        async with self._session() as c:
            result = await c.execute(delete(t.cursors).where(*where))
        return int(result.rowcount or 0)

    # --- snapshots ----------------------------------------------------------------------------

    async def stage_snapshot(
        self,
        connection_id: int,
        kind: str,
        cin7_id: str,
        reference: str,
        last_updated: str,
        payload: dict[str, Any],
        *,
        volatile: Sequence[str] = ("LastUpdatedDate",),
    ) -> Staged:
        """Store Cin7's raw detail JSON as a new version when its content changed.

        The hash is SHA-256 over the canonical JSON of ``payload`` without the top-level
        ``volatile`` keys, so a document Cin7 merely touched (same content, new
        ``LastUpdatedDate``) keeps its version; its ``last_updated`` and payload are refreshed
        in place so :meth:`seen` recognises the new timestamp.
        """
        _check(kind, RECORD_KINDS, "kind")
        digest = snapshot_hash(payload, volatile)
        now = self._clock()
        s = t.snapshots.c
        async with self._session() as c:
            latest = await _one(
                c,
                select(s.id, s.version, s.hash, s.last_updated)
                .where(s.connection_id == connection_id, s.kind == kind, s.cin7_id == cin7_id)
                .order_by(s.version.desc())
                .limit(1),
            )
            if latest is not None and latest["hash"] == digest:
                if latest["last_updated"] != last_updated:
                    await c.execute(
                        update(t.snapshots)
                        .where(s.id == latest["id"])
                        .values(
                            last_updated=last_updated,
                            payload=payload,
                            reference=reference,
                            fetched_at=now,
                        )
                    )
                return Staged(version=int(latest["version"]), changed=False, hash=digest)
            version = 1 if latest is None else int(latest["version"]) + 1
            await c.execute(
                t.snapshots.insert().values(
                    connection_id=connection_id,
                    kind=kind,
                    cin7_id=cin7_id,
                    reference=reference,
                    version=version,
                    last_updated=last_updated,
                    hash=digest,
                    payload=payload,
                    fetched_at=now,
                )
            )
        return Staged(version=version, changed=True, hash=digest)

    async def latest_snapshot(self, connection_id: int, kind: str, cin7_id: str) -> Snapshot | None:
        """The newest stored version of a document, or None."""
        s = t.snapshots.c
        async with self._session(write=False) as c:
            row = await _one(
                c,
                select(t.snapshots)
                .where(s.connection_id == connection_id, s.kind == kind, s.cin7_id == cin7_id)
                .order_by(s.version.desc())
                .limit(1),
            )
        return None if row is None else snapshot_from_row(row)

    async def get_snapshot(
        self, connection_id: int, kind: str, cin7_id: str, version: int
    ) -> Snapshot | None:
        """One stored version of a document, or None."""
        s = t.snapshots.c
        async with self._session(write=False) as c:
            row = await _one(
                c,
                select(t.snapshots).where(
                    s.connection_id == connection_id,
                    s.kind == kind,
                    s.cin7_id == cin7_id,
                    s.version == version,
                ),
            )
        return None if row is None else snapshot_from_row(row)

    async def snapshot_versions(
        self, connection_id: int, kind: str, cin7_id: str
    ) -> list[Snapshot]:
        """Every stored version of a document, oldest first."""
        s = t.snapshots.c
        async with self._session(write=False) as c:
            rows = await _all(
                c,
                select(t.snapshots)
                .where(s.connection_id == connection_id, s.kind == kind, s.cin7_id == cin7_id)
                .order_by(s.version),
            )
        return [snapshot_from_row(row) for row in rows]

    async def seen(self, connection_id: int, kind: str, cin7_id: str, last_updated: str) -> bool:
        """True when a snapshot of this document with this ``LastUpdatedDate`` is already held."""
        return cin7_id in await self.seen_many(connection_id, kind, [(cin7_id, last_updated)])

    async def seen_many(
        self, connection_id: int, kind: str, items: Iterable[tuple[str, str]]
    ) -> set[str]:
        """The ids among ``(cin7_id, last_updated)`` pairs already held with that timestamp.

        One query per 500 ids: use it for a whole list page instead of :meth:`seen` per row.
        """
        wanted: dict[str, set[str]] = {}
        for cin7_id, stamp in items:
            wanted.setdefault(cin7_id, set()).add(stamp)
        found: set[str] = set()
        s = t.snapshots.c
        ids = list(wanted)
        async with self._session(write=False) as c:
            for start in range(0, len(ids), _IN_CHUNK):
                chunk = ids[start : start + _IN_CHUNK]
                rows = await c.execute(
                    select(s.cin7_id, s.last_updated).where(
                        s.connection_id == connection_id, s.kind == kind, s.cin7_id.in_(chunk)
                    )
                )
                for cin7_id, stamp in rows:
                    if stamp in wanted[cin7_id]:
                        found.add(cin7_id)
        return found

    # --- records ------------------------------------------------------------------------------

    async def upsert_record(
        self,
        connection_id: int,
        kind: str,
        cin7_id: str,
        *,
        reference: str,
        supplier_id: str | None = None,
        latest_version: int | None = None,
        month: str | None = None,
        amounts: dict[str, dict[str, str]] | None = None,
        status: RecordStatus | None = None,
        reason: str | None = None,
    ) -> Record:
        """Create or update the record of one Cin7 document.

        A new record starts ``pending`` unless ``status`` is given. On update, arguments left as
        None keep their stored value, except that a given ``status`` also replaces ``reason``.
        """
        _check(kind, RECORD_KINDS, "kind")
        if status is not None:
            _check(status, RECORD_STATUSES, "record status")
        if month is not None:
            _check_month(month)
        clean_reason = await self._scrub_text(connection_id, reason)
        now = self._clock()
        r = t.records.c
        async with self._session() as c:
            row = await self._record_row(
                c, r.connection_id == connection_id, r.kind == kind, r.cin7_id == cin7_id
            )
            if row is None:
                await c.execute(
                    self._insert(t.records)
                    .values(
                        connection_id=connection_id,
                        kind=kind,
                        cin7_id=cin7_id,
                        reference=reference,
                        supplier_id=supplier_id,
                        status=status or "pending",
                        reason=clean_reason,
                        latest_version=latest_version,
                        posted_version=None,
                        month=month,
                        amounts=amounts or {},
                        status_since=now,
                        created_at=now,
                        updated_at=now,
                    )
                    .on_conflict_do_nothing(index_elements=[r.connection_id, r.kind, r.cin7_id])
                )
            else:
                changes: dict[str, Any] = {"reference": reference, "updated_at": now}
                optional = {
                    "supplier_id": supplier_id,
                    "latest_version": latest_version,
                    "month": month,
                    "amounts": amounts,
                }
                changes.update({k: v for k, v in optional.items() if v is not None})
                if status is not None:
                    changes["reason"] = clean_reason
                    if status != row["status"]:
                        changes["status"] = status
                        changes["status_since"] = now
                await c.execute(update(t.records).where(r.id == row["id"]).values(**changes))
            row = await self._record_row(
                c, r.connection_id == connection_id, r.kind == kind, r.cin7_id == cin7_id
            )
        assert row is not None
        return record_from_row(row)

    async def set_record_status(
        self,
        record_id: int,
        status: RecordStatus,
        reason: str | None = None,
        *,
        posted_version: int | None = None,
        amounts: dict[str, dict[str, str]] | None = None,
    ) -> Record:
        """Set a record's status and reason (None clears it); optionally its posted version."""
        _check(status, RECORD_STATUSES, "record status")
        now = self._clock()
        r = t.records.c
        async with self._session() as c:
            row = await self._record_row(c, r.id == record_id)
            if row is None:
                raise StoreError(f"no record with id {record_id}")
            changes: dict[str, Any] = {
                "status": status,
                "reason": await self._scrub_text(row["connection_id"], reason),
                "updated_at": now,
            }
            if status != row["status"]:
                changes["status_since"] = now
            if posted_version is not None:
                changes["posted_version"] = posted_version
            if amounts is not None:
                changes["amounts"] = amounts
            await c.execute(update(t.records).where(r.id == record_id).values(**changes))
            row = await self._record_row(c, r.id == record_id)
        assert row is not None
        return record_from_row(row)

    async def get_record(self, connection_id: int, kind: str, cin7_id: str) -> Record | None:
        r = t.records.c
        async with self._session(write=False) as c:
            row = await self._record_row(
                c, r.connection_id == connection_id, r.kind == kind, r.cin7_id == cin7_id
            )
        return None if row is None else record_from_row(row)

    async def get_record_by_id(self, record_id: int) -> Record | None:
        async with self._session(write=False) as c:
            row = await self._record_row(c, t.records.c.id == record_id)
        return None if row is None else record_from_row(row)

    async def find_records(self, connection_id: int, reference: str) -> list[Record]:
        """Records whose reference (OrderNumber or supplier name) is exactly ``reference``."""
        return await self.list_records(connection_id, reference=reference)

    async def list_records(
        self,
        connection_id: int,
        *,
        status: str | Sequence[str] | None = None,
        kind: str | None = None,
        month: str | None = None,
        supplier_id: str | None = None,
        reference: str | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[Record]:
        """Records matching every given filter, oldest status change first."""
        r = t.records.c
        where: list[ColumnElement[bool]] = [r.connection_id == connection_id]
        if status is not None:
            statuses = [status] if isinstance(status, str) else list(status)
            for one in statuses:
                _check(one, RECORD_STATUSES, "record status")
            where.append(r.status.in_(statuses))
        if kind is not None:
            where.append(r.kind == kind)
        if month is not None:
            _check_month(month)
            where.append(r.month == month)
        if supplier_id is not None:
            where.append(r.supplier_id == supplier_id)
        if reference is not None:
            where.append(r.reference == reference)
        stmt = select(t.records).where(*where).order_by(r.status_since, r.id).offset(offset)
        if limit is not None:
            stmt = stmt.limit(limit)
        async with self._session(write=False) as c:
            rows = await _all(c, stmt)
        return [record_from_row(row) for row in rows]

    async def count_records(self, connection_id: int) -> dict[str, int]:
        """How many records are in each status (every status present, zeros included)."""
        r = t.records.c
        async with self._session(write=False) as c:
            rows = await c.execute(
                select(r.status, func.count())
                .where(r.connection_id == connection_id)
                .group_by(r.status)
            )
            counts = {str(status): int(n) for status, n in rows}
        return {status: counts.get(status, 0) for status in RECORD_STATUSES}

    async def reconcile(self, connection_id: int, month: str | None = None) -> list[ReconcileLine]:
        """Per supplier and currency: invoiced, credited, posted, held, received value (Decimal).

        Sums the ``amounts`` the engine keeps on purchase records, for one order month or all.
        """
        purchases = await self.list_records(connection_id, kind="purchase", month=month)
        suppliers = {
            rec.cin7_id: rec.reference
            for rec in await self.list_records(connection_id, kind="supplier")
        }
        lines: dict[tuple[str | None, str], dict[str, Any]] = {}
        for rec in purchases:
            currencies = sorted({cur for per in rec.amounts.values() for cur in per}) or [""]
            for currency in currencies:
                line = lines.setdefault(
                    (rec.supplier_id, currency),
                    {
                        "invoiced": Decimal(0),
                        "posted": Decimal(0),
                        "held": Decimal(0),
                        "received": Decimal(0),
                        "credited": Decimal(0),
                        "records": 0,
                        "statuses": {},
                    },
                )
                line["records"] += 1
                line["statuses"][rec.status] = line["statuses"].get(rec.status, 0) + 1
                for measure in ("invoiced", "credited", "posted", "held", "received"):
                    line[measure] += _decimal(rec.amounts.get(measure, {}).get(currency))
        return [
            ReconcileLine(
                supplier_id=supplier_id,
                supplier_name=suppliers.get(supplier_id) if supplier_id else None,
                currency=currency,
                **values,
            )
            for (supplier_id, currency), values in sorted(
                lines.items(), key=lambda item: (item[0][0] or "", item[0][1])
            )
        ]

    async def _record_row(
        self, c: AsyncConnection, *where: ColumnElement[bool]
    ) -> RowMapping | None:
        return await _one(c, select(t.records).where(*where))

    # --- postings -----------------------------------------------------------------------------

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
        p = t.postings.c
        async with self._session() as c:
            await c.execute(
                self._insert(t.postings)
                .values(
                    connection_id=connection_id,
                    record_id=record_id,
                    natural_key=natural_key,
                    kind=kind,
                    qad_id=None,
                    state="intent",
                    details=details or {},
                    created_at=now,
                    updated_at=now,
                )
                .on_conflict_do_nothing(index_elements=[p.connection_id, p.natural_key])
            )
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
        async with self._session() as c:
            row = await self._posting_row(c, connection_id, natural_key)
            if row is None:
                if kind is None:
                    raise StoreError(
                        f"no intent recorded for {natural_key}; pass kind= to record it directly"
                    )
                await c.execute(
                    t.postings.insert().values(
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
                )
            else:
                changes: dict[str, Any] = {"state": "posted", "qad_id": qad_id, "updated_at": now}
                if details is not None:
                    changes["details"] = details
                if record_id is not None:
                    changes["record_id"] = record_id
                await c.execute(
                    update(t.postings).where(t.postings.c.id == row["id"]).values(**changes)
                )
            row = await self._posting_row(c, connection_id, natural_key)
        assert row is not None
        return posting_from_row(row)

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
        async with self._session(write=False) as c:
            row = await self._posting_row(c, connection_id, natural_key)
        return None if row is None else posting_from_row(row)

    async def get_postings(
        self, connection_id: int, natural_keys: Iterable[str]
    ) -> dict[str, Posting]:
        """The postings held under any of ``natural_keys``, by key."""
        keys = list(dict.fromkeys(natural_keys))
        p = t.postings.c
        out: dict[str, Posting] = {}
        async with self._session(write=False) as c:
            for start in range(0, len(keys), _IN_CHUNK):
                rows = await _all(
                    c,
                    select(t.postings).where(
                        p.connection_id == connection_id,
                        p.natural_key.in_(keys[start : start + _IN_CHUNK]),
                    ),
                )
                out.update((row["natural_key"], posting_from_row(row)) for row in rows)
        return out

    async def posted_state(self, connection_id: int, record: Record | int) -> dict[str, Posting]:
        """Everything recorded in QAD for one record (intents included), by natural key."""
        record_id = record.id if isinstance(record, Record) else record
        p = t.postings.c
        async with self._session(write=False) as c:
            rows = await _all(
                c,
                select(t.postings)
                .where(p.connection_id == connection_id, p.record_id == record_id)
                .order_by(p.id),
            )
        return {row["natural_key"]: posting_from_row(row) for row in rows}

    async def open_intents(self, connection_id: int) -> list[Posting]:
        """Intents with no outcome (a crash between the QAD call and its record), oldest first."""
        return await self.list_postings(connection_id, state="intent")

    async def list_postings(
        self, connection_id: int, *, kind: str | None = None, state: str | None = None
    ) -> list[Posting]:
        p = t.postings.c
        where: list[ColumnElement[bool]] = [p.connection_id == connection_id]
        if kind is not None:
            where.append(p.kind == kind)
        if state is not None:
            _check(state, POSTING_STATES, "posting state")
            where.append(p.state == state)
        async with self._session(write=False) as c:
            rows = await _all(c, select(t.postings).where(*where).order_by(p.id))
        return [posting_from_row(row) for row in rows]

    async def _posting_row(
        self, c: AsyncConnection, connection_id: int, natural_key: str
    ) -> RowMapping | None:
        p = t.postings.c
        return await _one(
            c,
            select(t.postings).where(
                p.connection_id == connection_id, p.natural_key == natural_key
            ),
        )

    # --- mappings -----------------------------------------------------------------------------

    async def get_mapping(self, connection_id: int, kind: str, cin7_value: str) -> Mapping | None:
        """The QAD side of a Cin7 value, or None when unmapped."""
        m = t.mappings.c
        async with self._session(write=False) as c:
            row = await _one(
                c,
                select(t.mappings).where(
                    m.connection_id == connection_id,
                    m.kind == kind,
                    m.cin7_value == cin7_value,
                ),
            )
        return None if row is None else mapping_from_row(row)

    async def reverse_mappings(
        self, connection_id: int, kind: str, qad_value: str
    ) -> list[Mapping]:
        """Every Cin7 value mapped to ``qad_value`` (several Cin7 accounts may share one)."""
        m = t.mappings.c
        async with self._session(write=False) as c:
            rows = await _all(
                c,
                select(t.mappings)
                .where(
                    m.connection_id == connection_id,
                    m.kind == kind,
                    m.qad_value == qad_value,
                )
                .order_by(m.cin7_value),
            )
        return [mapping_from_row(row) for row in rows]

    async def set_mapping(
        self,
        connection_id: int,
        kind: MappingKind,
        cin7_value: str,
        qad_value: str,
        *,
        source: MappingSource = "manual",
        confidence: float = 1.0,
        overwrite: bool = True,
    ) -> Mapping:
        """Map a Cin7 value to a QAD value. With ``overwrite=False`` an existing mapping wins
        (how suggestions avoid replacing what a person set)."""
        await self.import_mappings(
            connection_id,
            [MappingRow(kind, cin7_value, qad_value, source, confidence)],
            overwrite=overwrite,
        )
        found = await self.get_mapping(connection_id, kind, cin7_value)
        assert found is not None
        return found

    async def import_mappings(
        self, connection_id: int, rows: Iterable[MappingRow], *, overwrite: bool = True
    ) -> int:
        """Write many mappings in one transaction; return how many rows were given."""
        now = self._clock()
        m = t.mappings.c
        values = []
        for row in rows:
            _check(row.kind, MAPPING_KINDS, "mapping kind")
            _check(row.source, MAPPING_SOURCES, "mapping source")
            if not row.cin7_value or not row.qad_value:
                raise StoreError(f"a {row.kind} mapping needs both a Cin7 and a QAD value")
            if not 0.0 <= row.confidence <= 1.0:
                raise StoreError(f"confidence must be between 0 and 1, not {row.confidence}")
            values.append(
                {
                    "connection_id": connection_id,
                    "kind": row.kind,
                    "cin7_value": row.cin7_value,
                    "qad_value": row.qad_value,
                    "source": row.source,
                    "confidence": row.confidence,
                    "created_at": now,
                    "updated_at": now,
                }
            )
        async with self._session() as c:
            for start in range(0, len(values), _IN_CHUNK):
                stmt = self._insert(t.mappings).values(values[start : start + _IN_CHUNK])
                target = [m.connection_id, m.kind, m.cin7_value]
                if overwrite:
                    stmt = stmt.on_conflict_do_update(
                        index_elements=target,
                        set_={
                            "qad_value": stmt.excluded.qad_value,
                            "source": stmt.excluded.source,
                            "confidence": stmt.excluded.confidence,
                            "updated_at": stmt.excluded.updated_at,
                        },
                    )
                else:
                    stmt = stmt.on_conflict_do_nothing(index_elements=target)
                await c.execute(stmt)
        return len(values)

    async def remove_mapping(self, connection_id: int, kind: str, cin7_value: str) -> bool:
        m = t.mappings.c
        async with self._session() as c:
            result = await c.execute(
                delete(t.mappings).where(
                    m.connection_id == connection_id, m.kind == kind, m.cin7_value == cin7_value
                )
            )
        return bool(result.rowcount)

    async def list_mappings(self, connection_id: int, kind: str | None = None) -> list[Mapping]:
        """Mappings ordered by kind and Cin7 value."""
        m = t.mappings.c
        where: list[ColumnElement[bool]] = [m.connection_id == connection_id]
        if kind is not None:
            where.append(m.kind == kind)
        async with self._session(write=False) as c:
            rows = await _all(c, select(t.mappings).where(*where).order_by(m.kind, m.cin7_value))
        return [mapping_from_row(row) for row in rows]

    async def export_mappings(
        self, connection_id: int, kind: str | None = None
    ) -> list[MappingRow]:
        """Mappings as plain rows, ready for CSV."""
        return [found.row() for found in await self.list_mappings(connection_id, kind)]

    async def mapping_table(self, connection_id: int) -> dict[str, dict[str, str]]:
        """Mappings as ``{kind: {cin7_value: qad_value}}``, every kind present; for the planner."""
        table: dict[str, dict[str, str]] = {kind: {} for kind in MAPPING_KINDS}
        m = t.mappings.c
        async with self._session(write=False) as c:
            rows = await c.execute(
                select(m.kind, m.cin7_value, m.qad_value).where(m.connection_id == connection_id)
            )
            for kind, cin7_value, qad_value in rows:
                table.setdefault(kind, {})[cin7_value] = qad_value
        return table

    # --- audit --------------------------------------------------------------------------------

    async def append(
        self,
        connection_id: int,
        record_key: str,
        event: AuditEventKind,
        actor: str,
        data: Any = None,
        *,
        at: datetime | None = None,
    ) -> AuditEvent:
        """Append one event to a record's trail, chained to the connection's previous event.

        ``data`` is redacted first (secret-looking keys, and the connection's own credentials
        wherever they appear). There is no way to change or delete an event through the store.
        """
        if not record_key or not event or not actor:
            raise StoreError("an audit event needs a record key, an event name and an actor")
        _check(event, AUDIT_EVENT_KINDS, "audit event")
        clean = redact(
            {} if data is None else data, secrets=await self._known_secrets(connection_id)
        )
        clean = _json_roundtrip(clean)
        if at is not None and at.tzinfo is None:
            raise StoreError("audit times must be timezone-aware (UTC)")
        when = (at or self._clock()).astimezone(UTC)
        a = t.audit_events.c
        h = t.audit_heads.c
        async with self._session() as c:
            head = await _one(
                c,
                select(h.last_hash, h.count)
                .where(h.connection_id == connection_id)
                .with_for_update(),
            )
            if head is None:
                raise ConfigError(f"no connection with id {connection_id}")
            last_seq = await c.scalar(
                select(func.max(a.seq)).where(
                    a.connection_id == connection_id, a.record_key == record_key
                )
            )
            seq = int(last_seq or 0) + 1
            digest = event_hash(
                prev_hash=head["last_hash"],
                connection_id=connection_id,
                record_key=record_key,
                seq=seq,
                at=when,
                event=event,
                actor=actor,
                data=clean,
            )
            new_id = await c.scalar(
                t.audit_events.insert()
                .values(
                    connection_id=connection_id,
                    record_key=record_key,
                    seq=seq,
                    at=when,
                    event=event,
                    actor=actor,
                    data=clean,
                    prev_hash=head["last_hash"],
                    hash=digest,
                )
                .returning(a.id)
            )
            await c.execute(
                update(t.audit_heads)
                .where(h.connection_id == connection_id)
                .values(last_hash=digest, count=h.count + 1)
            )
        return AuditEvent(
            id=int(new_id),
            connection_id=connection_id,
            record_key=record_key,
            seq=seq,
            at=when,
            event=event,
            actor=actor,
            data=clean,
            prev_hash=head["last_hash"],
            hash=digest,
        )

    async def trail(self, connection_id: int, record_key: str) -> list[AuditEvent]:
        """A record's events in order."""
        a = t.audit_events.c
        async with self._session(write=False) as c:
            rows = await _all(
                c,
                select(t.audit_events)
                .where(a.connection_id == connection_id, a.record_key == record_key)
                .order_by(a.seq),
            )
        return [audit_from_row(row) for row in rows]

    async def events(
        self, connection_id: int, *, after_id: int = 0, limit: int = _PAGE
    ) -> list[AuditEvent]:
        """A connection's events in append order, a page at a time (pass the last id seen)."""
        a = t.audit_events.c
        async with self._session(write=False) as c:
            rows = await _all(
                c,
                select(t.audit_events)
                .where(a.connection_id == connection_id, a.id > after_id)
                .order_by(a.id)
                .limit(limit),
            )
        return [audit_from_row(row) for row in rows]

    async def verify(self, connection_id: int) -> list[BrokenLink]:
        """Check a connection's whole audit chain; an empty list means it is intact.

        Reports events whose content was modified, links broken by a deleted or inserted event,
        gaps in a record's sequence, and a chain that ends before its recorded head.
        """
        checker = ChainChecker(connection_id)
        after = 0
        while True:
            page = await self.events(connection_id, after_id=after)
            if not page:
                break
            checker.check(page)
            after = page[-1].id
        h = t.audit_heads.c
        async with self._session(write=False) as c:
            head = await _one(
                c, select(h.last_hash, h.count).where(h.connection_id == connection_id)
            )
        if head is None:
            return checker.finish(None, None)
        return checker.finish(head["last_hash"], int(head["count"]))

    # --- runs ---------------------------------------------------------------------------------

    async def start_run(self, connection_id: int, kind: RunKind, actor: str = "sync") -> Run:
        """Record the start of a sync, replay or dry-run."""
        _check(kind, RUN_KINDS, "run kind")
        now = self._clock()
        async with self._session() as c:
            run_id = await c.scalar(
                t.runs.insert()
                .values(
                    connection_id=connection_id,
                    kind=kind,
                    actor=actor,
                    status="running",
                    started_at=now,
                    counters={},
                )
                .returning(t.runs.c.id)
            )
        return Run(int(run_id), connection_id, kind, actor, "running", now, None, {}, None)

    async def finish_run(
        self,
        run_id: int,
        status: RunStatus,
        counters: dict[str, int] | None = None,
        error: str | None = None,
    ) -> Run:
        """Close a run with its outcome and counters."""
        _check(status, RUN_STATUSES, "run status")
        async with self._session() as c:
            cid = await c.scalar(select(t.runs.c.connection_id).where(t.runs.c.id == run_id))
            if cid is None:
                raise StoreError(f"no run with id {run_id}")
            changes: dict[str, Any] = {
                "status": status,
                "finished_at": self._clock(),
                "error": await self._scrub_text(int(cid), error),
            }
            if counters is not None:
                changes["counters"] = dict(counters)
            await c.execute(update(t.runs).where(t.runs.c.id == run_id).values(**changes))
            row = await _one(c, select(t.runs).where(t.runs.c.id == run_id))
            assert row is not None
        return run_from_row(row)

    async def interrupt_runs(self, connection_id: int) -> int:
        """Mark runs still ``running`` (their process died) as ``interrupted``; return how many."""
        async with self._session() as c:
            result = await c.execute(
                update(t.runs)
                .where(t.runs.c.connection_id == connection_id, t.runs.c.status == "running")
                .values(status="interrupted", finished_at=self._clock())
            )
        return int(result.rowcount or 0)

    async def get_run(self, run_id: int) -> Run | None:
        async with self._session(write=False) as c:
            row = await _one(c, select(t.runs).where(t.runs.c.id == run_id))
        return None if row is None else run_from_row(row)

    async def list_runs(
        self, connection_id: int, *, kind: str | None = None, limit: int = 20
    ) -> list[Run]:
        """The newest runs first."""
        where: list[ColumnElement[bool]] = [t.runs.c.connection_id == connection_id]
        if kind is not None:
            where.append(t.runs.c.kind == kind)
        async with self._session(write=False) as c:
            rows = await _all(
                c,
                select(t.runs)
                .where(*where)
                .order_by(t.runs.c.started_at.desc(), t.runs.c.id.desc())
                .limit(limit),
            )
        return [run_from_row(row) for row in rows]


# --- helpers ----------------------------------------------------------------------------------


async def _one(c: AsyncConnection, stmt: Executable) -> RowMapping | None:
    return (await c.execute(stmt)).mappings().first()


async def _all(c: AsyncConnection, stmt: Executable) -> Sequence[RowMapping]:
    return (await c.execute(stmt)).mappings().all()


def snapshot_hash(payload: dict[str, Any], volatile: Sequence[str] = ("LastUpdatedDate",)) -> str:
    """The content hash of a Cin7 document, ignoring the top-level ``volatile`` keys."""
    skip = set(volatile)
    return sha256_hex(canonical_json({k: v for k, v in payload.items() if k not in skip}))


def _check(value: str, allowed: Sequence[str], what: str) -> None:
    if value not in allowed:
        raise StoreError(f"unknown {what} {value!r}; expected one of {', '.join(allowed)}")


def _check_month(month: str) -> None:
    if len(month) != 7 or month[4] != "-" or not (month[:4] + month[5:]).isdigit():
        raise StoreError(f"month must look like 2024-05, not {month!r}")


def _decimal(value: Any) -> Decimal:
    if value is None:
        return Decimal(0)
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return Decimal(0)


def _json_roundtrip(value: Any) -> Any:
    return json.loads(canonical_json(value))


def _driver_message(exc: SQLAlchemyError) -> str:
    orig = getattr(exc, "orig", None)
    text = str(orig) if orig is not None else type(exc).__name__
    return " ".join(text.split())


def _translate(exc: SQLAlchemyError) -> StoreError:
    message = _driver_message(exc)
    if isinstance(exc, IntegrityError):
        sqlstate = getattr(getattr(exc, "orig", None), "sqlstate", None)
        if sqlstate == "23505" or "UNIQUE constraint failed" in message:
            return AlreadyPosted(f"already held: {message}")
        return StoreError(f"store integrity error: {message}")
    if isinstance(exc, DBAPIError):
        return StoreError(f"store error: {message}")
    return StoreError(f"store error: {type(exc).__name__}")
