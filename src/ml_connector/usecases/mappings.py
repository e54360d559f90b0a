"""Cross-reference changes and reads: suggest (and apply), list, set, remove, import, export.

A supplier is mapped by its Cin7 SupplierID; once synced, its name is accepted too and resolved
here, so every caller gets the same leniency.
"""

from __future__ import annotations

from dataclasses import dataclass

from ml_connector.errors import ConfigError
from ml_connector.store.models import Mapping
from ml_connector.store.protocols import Store
from ml_connector.sync.alignment import Alignment, align
from ml_connector.sync.mapping import SuggestionReport, export_csv, import_csv
from ml_connector.sync.reference import read_cin7_reference, read_qad_reference, suggest_mappings
from ml_connector.usecases.opening import load_connection
from ml_connector.usecases.remotes import Remotes
from ml_connector.vocab import MappingKind

__all__ = [
    "AlignmentReport",
    "MappingChange",
    "MappingExport",
    "MappingList",
    "Suggestions",
    "export_mappings",
    "import_mappings",
    "list_mappings",
    "remove_mapping",
    "report_alignment",
    "set_mapping",
    "suggest",
]


@dataclass(frozen=True)
class Suggestions:
    """Per kind: what matched and how, what stays unmatched; ``applied`` when stored."""

    connection: str
    reports: dict[MappingKind, SuggestionReport]
    applied: bool


@dataclass(frozen=True)
class AlignmentReport:
    """Per kind, the values of each side with no counterpart on the other (`mapping report`)."""

    connection: str
    alignment: Alignment


@dataclass(frozen=True)
class MappingList:
    """The stored cross-references, by kind and Cin7 value."""

    connection: str
    mappings: tuple[Mapping, ...]


@dataclass(frozen=True)
class MappingChange:
    """One mapping set (``qad_value``) or removed (``qad_value`` None)."""

    connection: str
    kind: MappingKind
    cin7_value: str
    qad_value: str | None


@dataclass(frozen=True)
class MappingExport:
    """The CSV text and how many mappings it holds."""

    connection: str
    csv: str
    count: int


async def report_alignment(
    store: Store, name: str, *, remotes: Remotes | None = None
) -> AlignmentReport:
    """Read both systems' reference data and list what is unpaired on each side (read-only).

    Pairs are the stored mappings and the suppliers the connector already created in QAD.
    """
    config = await load_connection(store, name)
    assert config.id is not None
    remotes = remotes or Remotes()
    async with remotes.cin7(store, config) as cin7, remotes.qad(store, config) as qad:
        cin7_side = await read_cin7_reference(cin7)
        qad_side = await read_qad_reference(qad)
    rows = [mapping.row() for mapping in await store.list_mappings(config.id)]
    created = {
        posting.natural_key.split(":", 1)[1]: posting.qad_id
        for posting in await store.list_postings(config.id, kind="supplier", state="posted")
        if posting.qad_id
    }
    return AlignmentReport(name, align(cin7_side, qad_side, rows, created_suppliers=created))


async def suggest(
    store: Store, name: str, *, apply: bool = False, remotes: Remotes | None = None
) -> Suggestions:
    """Read both systems' reference data and match it; ``apply`` stores the matches (mappings
    set by hand are kept)."""
    config = await load_connection(store, name)
    assert config.id is not None
    remotes = remotes or Remotes()
    async with remotes.cin7(store, config) as cin7, remotes.qad(store, config) as qad:
        reports = await suggest_mappings(store, config.id, cin7, qad, apply=apply)
    return Suggestions(name, dict(reports), apply)


async def list_mappings(store: Store, name: str, kind: MappingKind | None = None) -> MappingList:
    """The stored cross-references (``kind``: only that kind)."""
    cid = await store.connection_id(name)
    return MappingList(name, tuple(await store.list_mappings(cid, kind)))


async def _supplier_id(store: Store, cid: int, value: str) -> str:
    """Accept a Cin7 supplier's name where its SupplierID is expected."""
    named = [r for r in await store.find_records(cid, value) if r.kind == "supplier"]
    return named[0].cin7_id if len(named) == 1 else value


async def set_mapping(
    store: Store, name: str, kind: MappingKind, cin7_value: str, qad_value: str
) -> MappingChange:
    """Map one Cin7 value to a QAD code, replacing an existing mapping."""
    cid = await store.connection_id(name)
    if kind == "supplier":
        cin7_value = await _supplier_id(store, cid, cin7_value)
    await store.set_mapping(cid, kind, cin7_value, qad_value, source="manual")
    return MappingChange(name, kind, cin7_value, qad_value)


async def remove_mapping(
    store: Store, name: str, kind: MappingKind, cin7_value: str
) -> MappingChange:
    """Remove one cross-reference; ConfigError when there is none."""
    cid = await store.connection_id(name)
    if kind == "supplier":
        cin7_value = await _supplier_id(store, cid, cin7_value)
    if not await store.remove_mapping(cid, kind, cin7_value):
        raise ConfigError(f"connection {name!r} has no {kind} mapping for {cin7_value!r}")
    return MappingChange(name, kind, cin7_value, None)


async def import_mappings(store: Store, name: str, csv_text: str) -> int:
    """Store the CSV's rows (replacing mappings of the same value); how many were imported."""
    rows = import_csv(csv_text)
    cid = await store.connection_id(name)
    return await store.import_mappings(cid, rows, overwrite=True)


async def export_mappings(
    store: Store, name: str, kind: MappingKind | None = None
) -> MappingExport:
    """The cross-references as CSV (``kind,cin7_value,qad_value,source,confidence``)."""
    cid = await store.connection_id(name)
    stored = await store.export_mappings(cid, kind)
    return MappingExport(name, export_csv(stored), len(stored))
