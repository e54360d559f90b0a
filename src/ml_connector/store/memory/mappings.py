"""Mappings in memory: cross-references between a Cin7 value and a QAD value, by kind."""

from __future__ import annotations

import copy
from collections.abc import Iterable

from ml_connector.store.memory.base import MemoryBase
from ml_connector.store.models import (
    Mapping,
    MappingRow,
)
from ml_connector.store.rows import (
    mapping_from_row,
)
from ml_connector.store.rules import (
    check_mapping,
)
from ml_connector.vocab import (
    MAPPING_KINDS,
    MAPPING_SOURCES,
    MappingKind,
    MappingSource,
)

__all__ = ["MemoryMappings"]


class MemoryMappings(MemoryBase):
    """:class:`~ml_connector.store.protocols.MappingReads` and ``MappingWrites`` in memory."""

    async def get_mapping(
        self, connection_id: int, kind: MappingKind, cin7_value: str
    ) -> Mapping | None:
        self._read("get_mapping")
        row = self._one("mappings", connection_id=connection_id, kind=kind, cin7_value=cin7_value)
        return None if row is None else mapping_from_row(copy.deepcopy(row))

    async def reverse_mappings(
        self, connection_id: int, kind: MappingKind, qad_value: str
    ) -> list[Mapping]:
        self._read("reverse_mappings")
        rows = self._rows("mappings", connection_id=connection_id, kind=kind, qad_value=qad_value)
        return [
            mapping_from_row(copy.deepcopy(row))
            for row in sorted(rows, key=lambda row: row["cin7_value"])
        ]

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
        given = list(rows)
        for row in given:
            check_mapping(row, MAPPING_KINDS, MAPPING_SOURCES)
        now = self._clock()
        async with self._write("import_mappings"):
            if given:
                self._owned(connection_id)
            for row in given:
                existing = self._one(
                    "mappings",
                    connection_id=connection_id,
                    kind=row.kind,
                    cin7_value=row.cin7_value,
                )
                values = {
                    "qad_value": row.qad_value,
                    "source": row.source,
                    "confidence": row.confidence,
                    "updated_at": now,
                }
                if existing is None:
                    self._insert(
                        "mappings",
                        {
                            "connection_id": connection_id,
                            "kind": row.kind,
                            "cin7_value": row.cin7_value,
                            "created_at": now,
                            **values,
                        },
                    )
                elif overwrite:
                    self._update("mappings", existing, **values)
        return len(given)

    async def remove_mapping(self, connection_id: int, kind: MappingKind, cin7_value: str) -> bool:
        async with self._write("remove_mapping"):
            row = self._one(
                "mappings", connection_id=connection_id, kind=kind, cin7_value=cin7_value
            )
            if row is None:
                return False
            self._drop("mappings", row["id"])
        return True

    async def list_mappings(self, connection_id: int, kind: str | None = None) -> list[Mapping]:
        self._read("list_mappings")
        rows = [
            row
            for row in self._rows("mappings", connection_id=connection_id)
            if kind is None or row["kind"] == kind
        ]
        rows.sort(key=lambda row: (row["kind"], row["cin7_value"]))
        return [mapping_from_row(copy.deepcopy(row)) for row in rows]

    async def export_mappings(
        self, connection_id: int, kind: str | None = None
    ) -> list[MappingRow]:
        return [found.row() for found in await self.list_mappings(connection_id, kind)]

    async def mapping_table(self, connection_id: int) -> dict[str, dict[str, str]]:
        self._read("mapping_table")
        table: dict[str, dict[str, str]] = {kind: {} for kind in MAPPING_KINDS}
        for row in self._rows("mappings", connection_id=connection_id):
            table.setdefault(row["kind"], {})[row["cin7_value"]] = row["qad_value"]
        return table
