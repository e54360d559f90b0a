"""The store in memory, for tests and demos: :class:`MemoryStore`."""

from ml_connector.store.memory.store import MemoryStore

__all__ = ["MemoryStore"]
