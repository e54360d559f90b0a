"""The end-to-end world: both sandboxes, a store and one connection, with the verbs the flow
tests use to drive a pass (through the same use cases as the CLI) and look at both sides.
Built by the `world` fixture in tests/e2e/conftest.py."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from ml_connector.sandbox.cin7 import Cin7Sandbox
from ml_connector.sandbox.qad import QadSandbox, QadTenant
from ml_connector.store.models import ConnectionConfig, Record
from ml_connector.store.sql import SqlStore
from ml_connector.sync.engine import SyncReport
from ml_connector.usecases import Remotes, replay_records, suggest, sync_connection


@dataclass
class World:
    cin7: Cin7Sandbox
    qad: QadSandbox
    cin7_url: str
    qad_url: str
    store: SqlStore
    config: ConnectionConfig
    cin7_transport: httpx.AsyncBaseTransport | None = None

    @property
    def tenant(self) -> QadTenant:
        return self.qad.tenant("acme")

    @property
    def cid(self) -> int:
        assert self.config.id is not None
        return self.config.id

    async def change(self, **settings: Any) -> None:
        """Store changed connection settings; the next pass reads them, as in production."""
        self.config = await self.store.update_connection(self.config.with_settings(settings))

    @property
    def remotes(self) -> Remotes:
        return Remotes(cin7_transport=self.cin7_transport)

    async def sync(self, *, dry_run: bool = False, concurrency: int = 4) -> SyncReport:
        result = await sync_connection(
            self.store,
            self.config.name,
            dry_run=dry_run,
            actor="sync",
            remotes=self.remotes,
            concurrency=concurrency,
        )
        return result.report

    async def replay(self, records: list[Record]) -> SyncReport:
        result = await replay_records(
            self.store,
            self.config.name,
            [f"{r.kind}:{r.reference}" for r in records],
            actor="replay:test",
            remotes=self.remotes,
        )
        assert result is not None
        return result.report

    async def apply_suggestions(self) -> None:
        await suggest(self.store, self.config.name, apply=True, remotes=self.remotes)

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
