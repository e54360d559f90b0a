"""The end-to-end world: both sandboxes, a store and one connection, with the verbs the flow
tests use to drive a pass and look at both sides. Built by the `world` fixture in
tests/e2e/conftest.py."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from ml_connector.cin7.client import Cin7Client
from ml_connector.cin7.pacer import Pacer
from ml_connector.sandbox.cin7 import Cin7Sandbox
from ml_connector.sandbox.qad import QadSandbox, QadTenant
from ml_connector.store.models import ConnectionConfig, Record
from ml_connector.store.repo import Store
from ml_connector.sync.connect import qad_client
from ml_connector.sync.engine import SyncEngine, SyncReport
from ml_connector.sync.reference import suggest_mappings


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
