"""Mappings on SQL: cross-references between a Cin7 value and a QAD value, by kind.

Written in bulk (a CSV import, the suggester) with one upsert per 500 rows; ``overwrite=False``
lets an existing mapping win, which is how suggestions never replace what a person set.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete, select
from sqlalchemy.sql import ColumnElement

from ml_connector.store import tables as t
from ml_connector.store.models import Mapping, MappingRow
from ml_connector.store.rows import mapping_from_row
from ml_connector.store.rules import check_mapping
from ml_connector.store.sql.base import IN_CHUNK, SqlBase, fetch_all, fetch_one
from ml_connector.vocab import MAPPING_KINDS, MAPPING_SOURCES, MappingKind, MappingSource

__all__ = ["SqlMappings"]


class SqlMappings(SqlBase):
    """:class:`~ml_connector.store.protocols.MappingReads` and ``MappingWrites`` on SQL."""

    async def get_mapping(
        self, connection_id: int, kind: MappingKind, cin7_value: str
    ) -> Mapping | None:
        """The QAD side of a Cin7 value, or None when unmapped."""
        m = t.mappings.c
        async with self._session(write=False) as c:
            row = await fetch_one(
                c,
                select(t.mappings).where(
                    m.connection_id == connection_id,
                    m.kind == kind,
                    m.cin7_value == cin7_value,
                ),
            )
        return None if row is None else mapping_from_row(row)

    async def reverse_mappings(
        self, connection_id: int, kind: MappingKind, qad_value: str
    ) -> list[Mapping]:
        """Every Cin7 value mapped to ``qad_value`` (several Cin7 accounts may share one)."""
        m = t.mappings.c
        async with self._session(write=False) as c:
            rows = await fetch_all(
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
            check_mapping(row, MAPPING_KINDS, MAPPING_SOURCES)
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
            for start in range(0, len(values), IN_CHUNK):
                stmt = self._insert(t.mappings).values(values[start : start + IN_CHUNK])
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

    async def remove_mapping(self, connection_id: int, kind: MappingKind, cin7_value: str) -> bool:
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
            rows = await fetch_all(
                c, select(t.mappings).where(*where).order_by(m.kind, m.cin7_value)
            )
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
