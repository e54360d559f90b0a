"""`MemoryStore`: every verb of :class:`~ml_connector.store.protocols.Store` over dicts.

For tests and demos that need a working store without a database: the engine syncs against it
in milliseconds. One class per kind of data holds its verbs, over
:class:`~ml_connector.store.memory.base.MemoryBase` (see there for what is kept faithfully);
this class only puts them together, as :class:`~ml_connector.store.sql.SqlStore` does on SQL.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ml_connector.store.memory.alerts import MemoryAlerts
from ml_connector.store.memory.connections import MemoryConnections
from ml_connector.store.memory.mappings import MemoryMappings
from ml_connector.store.memory.postings import MemoryPostings
from ml_connector.store.memory.records import MemoryRecords
from ml_connector.store.memory.runs import MemoryRuns
from ml_connector.store.memory.snapshots import MemoryCursors, MemorySnapshots
from ml_connector.store.memory.trail import MemoryTrail

if TYPE_CHECKING:
    from ml_connector.store.protocols import Store

__all__ = ["MemoryStore"]


class MemoryStore(
    MemoryConnections,
    MemoryCursors,
    MemorySnapshots,
    MemoryRecords,
    MemoryPostings,
    MemoryMappings,
    MemoryTrail,
    MemoryRuns,
    MemoryAlerts,
):
    """The whole store in memory: ``MemoryStore()``, or ``MemoryStore(vault, clock=...)``."""


def _conforms(store: MemoryStore) -> Store:
    """Type-checked only: MemoryStore implements every protocol of the store."""
    return store
