"""How the use cases reach a connection's Cin7 account and QAD tenant, and the one place the
sync engine is built.

Production dials the URLs stored with the connection. Tests, benches and the demo pass
transports (an ASGI app served in-process, a transport that corrupts one document) through
:class:`Remotes`; nothing else about the engine differs between them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass

import httpx

from ml_connector.cin7.client import Cin7Client
from ml_connector.qad.channel import QadChannel
from ml_connector.store.models import ConnectionConfig
from ml_connector.store.protocols import Store
from ml_connector.sync.connect import cin7_client, qad_client
from ml_connector.sync.engine import Progress, SyncEngine
from ml_connector.usecases.throttles import cin7_pacer, qad_in_flight

__all__ = ["DEFAULT_CONCURRENCY", "Remotes", "open_engine"]

DEFAULT_CONCURRENCY = 4


@dataclass(frozen=True)
class Remotes:
    """Client factories for one connection; ``None`` transports dial the stored URLs. The
    clients' throttles come from the store (`throttles.py`): shared by every worker on
    PostgreSQL."""

    cin7_transport: httpx.AsyncBaseTransport | None = None
    qad_transport: httpx.AsyncBaseTransport | None = None

    def cin7(self, store: Store, config: ConnectionConfig) -> Cin7Client:
        """The connection's Cin7 client, paced by the key's pacer the store implies."""
        return cin7_client(config, transport=self.cin7_transport, pacer=cin7_pacer(store, config))

    def qad(self, store: Store, config: ConnectionConfig) -> QadChannel:
        """The connection's QAD channel, bounded by the tenant's in-flight bound."""
        return qad_client(
            config, transport=self.qad_transport, in_flight=qad_in_flight(store, config)
        )


@asynccontextmanager
async def open_engine(
    store: Store,
    config: ConnectionConfig,
    *,
    actor: str,
    with_cin7: bool = True,
    progress: Progress | None = None,
    remotes: Remotes | None = None,
    concurrency: int = DEFAULT_CONCURRENCY,
) -> AsyncIterator[SyncEngine]:
    """A sync engine for ``config`` with its clients open; they close when the block ends.

    ``with_cin7=False`` builds the replay engine, which must not call Cin7 at all.
    """
    remotes = remotes or Remotes()
    async with AsyncExitStack() as stack:
        cin7 = await stack.enter_async_context(remotes.cin7(store, config)) if with_cin7 else None
        qad = await stack.enter_async_context(remotes.qad(store, config))
        yield SyncEngine(
            store, config, cin7, qad, actor=actor, progress=progress, concurrency=concurrency
        )
