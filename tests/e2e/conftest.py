"""End-to-end fixtures: both sandboxes over real HTTP, a store on SQLite or PostgreSQL, one
connection with the suggested mappings applied, and the engine between them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from ml_connector.cin7.client import Cin7Client
from ml_connector.cin7.pacer import Pacer
from ml_connector.sandbox.cin7 import Cin7Sandbox, create_cin7_sandbox
from ml_connector.sandbox.qad import QadSandbox, QadTenant, create_qad_sandbox
from ml_connector.serve import ServerThread
from ml_connector.store.models import ConnectionConfig, Record
from ml_connector.store.repo import Store
from ml_connector.sync.connect import qad_client
from ml_connector.sync.engine import SyncEngine, SyncReport
from ml_connector.sync.reference import suggest_mappings
from ml_connector.vault import Vault


@dataclass
class World:
    cin7: Cin7Sandbox
    qad: QadSandbox
    cin7_url: str
    qad_url: str
    store: Store
    config: ConnectionConfig
    cin7_transport: httpx.AsyncBaseTransport | None = None

    @property
    def tenant(self) -> QadTenant:
        return self.qad.tenant("acme")

    @property
    def cid(self) -> int:
        assert self.config.id is not None
        return self.config.id

    def cin7_client(self) -> Cin7Client:
        return Cin7Client(
            self.config.cin7_account_id,
            self.config.cin7_application_key,
            base_url=self.config.cin7_base_url,
            transport=self.cin7_transport,
            pacer=Pacer(limit=100_000),
        )

    async def sync(self, *, dry_run: bool = False, concurrency: int = 4) -> SyncReport:
        async with self.cin7_client() as cin7, qad_client(self.config) as qad:
            engine = SyncEngine(self.store, self.config, cin7, qad, concurrency=concurrency)
            return await engine.sync(dry_run=dry_run)

    async def replay(self, records: list[Record]) -> SyncReport:
        async with qad_client(self.config) as qad:
            engine = SyncEngine(self.store, self.config, None, qad, actor="replay:test")
            return await engine.replay(records)

    async def apply_suggestions(self) -> None:
        async with self.cin7_client() as cin7, qad_client(self.config) as qad:
            await suggest_mappings(self.store, self.cid, cin7, qad, apply=True)

    async def record(self, order_number: str) -> Record:
        found = [
            r for r in await self.store.find_records(self.cid, order_number) if r.kind == "purchase"
        ]
        assert len(found) == 1, f"{order_number}: {found}"
        return found[0]

    def qad_state(self) -> dict[str, Any]:
        return self.tenant.state()

    def po_for(self, order_number: str) -> list[dict[str, Any]]:
        return [
            po
            for po in self.qad_state()["purchaseOrders"]
            if order_number in po["remarks"] or po["purchaseOrderNumber"] == order_number
        ]


@pytest.fixture
def sandboxes() -> Iterator[tuple[Cin7Sandbox, QadSandbox, str, str]]:
    cin7 = create_cin7_sandbox(seed=11, suppliers=6, purchases=0, rate_limit=100_000)
    qad = create_qad_sandbox(seed=11)
    with ServerThread(cin7.app) as cin7_server, ServerThread(qad.app) as qad_server:
        yield cin7, qad, cin7_server.url, qad.base_url(qad_server.url, "acme")


@pytest.fixture
async def world(
    sandboxes: tuple[Cin7Sandbox, QadSandbox, str, str], database_url: str
) -> AsyncIterator[World]:
    cin7, qad, cin7_url, qad_url = sandboxes
    tenant = qad.tenant("acme")
    store = await Store.open(database_url, Vault.ephemeral())
    config = await store.add_connection(
        ConnectionConfig(
            name="acme",
            cin7_account_id=cin7.account_id,
            cin7_application_key=cin7.application_key,
            cin7_base_url=cin7_url + "/ExternalApi/v2/",
            qad_base_url=qad_url,
            qad_client_id=tenant.client_id,
            qad_username=tenant.username,
            qad_password=tenant.password,
            qad_domain=tenant.domain,
            qad_entity=tenant.entity,
            allow_local=True,
        )
    )
    w = World(cin7, qad, cin7_url, qad_url, store, config)
    await w.apply_suggestions()
    try:
        yield w
    finally:
        await store.close()
