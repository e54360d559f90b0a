"""Use cases against both sandboxes in-process (ASGI transports, no ports) and one connection
in a store opened twice, as two processes would: each SqlStore has its own engine, database
connections and lock file descriptor. Built by the `setup` fixture of
tests/integration/usecases/conftest.py."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx
from sandbox_config import sandbox_config

from ml_connector.sandbox.cin7 import Cin7Sandbox, create_cin7_sandbox
from ml_connector.sandbox.qad import QadSandbox, create_qad_sandbox
from ml_connector.store.models import ConnectionConfig
from ml_connector.store.sql import SqlStore
from ml_connector.usecases import Remotes, suggest
from ml_connector.vault import Vault


@dataclass
class Setup:
    database_url: str
    vault: Vault
    cin7: Cin7Sandbox
    qad: QadSandbox
    first: SqlStore
    second: SqlStore

    @property
    def remotes(self) -> Remotes:
        return Remotes(
            cin7_transport=httpx.ASGITransport(app=self.cin7.app),
            qad_transport=httpx.ASGITransport(app=self.qad.app),
        )

    async def config(self) -> ConnectionConfig:
        return await self.first.get_connection("acme")

    def qad_po_numbers(self) -> list[str]:
        return [po["purchaseOrderNumber"] for po in self.qad.tenant().state()["purchaseOrders"]]


@asynccontextmanager
async def open_setup(database_url: str, purchases: int = 12) -> AsyncIterator[Setup]:
    """Sandboxes with 12 purchases (or `purchases`), connection ``acme`` stored, mappings
    suggested and applied."""
    cin7 = create_cin7_sandbox(seed=3, suppliers=4, purchases=purchases, rate_limit=100_000)
    qad = create_qad_sandbox(seed=3)
    vault = Vault.ephemeral()
    first = await SqlStore.open(database_url, vault)
    second = await SqlStore.open(database_url, vault, migrate=False)
    await first.add_connection(
        sandbox_config(
            "acme",
            cin7,
            qad,
            cin7_url="http://127.0.0.1:9",
            qad_url=qad.base_url("http://127.0.0.1:9"),
        )
    )
    s = Setup(database_url, vault, cin7, qad, first, second)
    await suggest(first, "acme", apply=True, remotes=s.remotes)
    try:
        yield s
    finally:
        await first.close()
        await second.close()
