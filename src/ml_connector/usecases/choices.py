"""QAD's own codes for a mapping, so a person picks a value the tenant has instead of typing.

One read of the tenant's reference lists (GL accounts, items, sites, credit terms, tax classes,
currencies, suppliers: the browses `mapping suggest` uses) serves every kind. A
:class:`ChoiceCache` keeps each connection's read for a few minutes, so an error queue with many
groups costs one read, not one per drop-down.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from ml_connector.store.protocols import Store
from ml_connector.sync.connect import qad_client
from ml_connector.sync.mapping import QadReference
from ml_connector.sync.reference import read_qad_reference
from ml_connector.usecases.opening import load_connection
from ml_connector.vocab import MappingKind

__all__ = ["Choice", "ChoiceCache", "qad_choices"]


@dataclass(frozen=True, slots=True)
class Choice:
    """One QAD code with its description."""

    code: str
    description: str
    active: bool = True


@dataclass
class ChoiceCache:
    """Each connection's QAD reference lists, kept ``ttl_s`` seconds."""

    ttl_s: float = 300.0
    clock: Callable[[], float] = time.monotonic
    _entries: dict[str, tuple[float, QadReference]] = field(default_factory=dict)

    def get(self, name: str) -> QadReference | None:
        entry = self._entries.get(name)
        if entry is None or self.clock() - entry[0] > self.ttl_s:
            return None
        return entry[1]

    def put(self, name: str, reference: QadReference) -> None:
        self._entries[name] = (self.clock(), reference)

    def forget(self, name: str) -> None:
        self._entries.pop(name, None)


async def qad_choices(
    store: Store, name: str, kind: MappingKind, *, cache: ChoiceCache | None = None
) -> tuple[Choice, ...]:
    """The tenant's codes for ``kind``, active ones first, then by code."""
    reference = cache.get(name) if cache else None
    if reference is None:
        config = await load_connection(store, name)
        async with qad_client(config) as qad:
            reference = await read_qad_reference(qad)
        if cache is not None:
            cache.put(name, reference)
    refs = sorted(reference.of(kind), key=lambda r: (not r.active, r.code))
    return tuple(Choice(r.code, r.name, r.active) for r in refs)
