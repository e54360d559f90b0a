"""A whole sync setup without I/O, for engine tests in the unit tier.

MemoryStore for the state, FakeCin7 over a seeded Cin7 sandbox state (seed 11: six suppliers,
no purchases yet), FakeQadChannel holding the QAD sandbox catalogue's reference data, and the
mappings the suggester finds between the two, all on one FakeClock.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ml_connector.errors import ConfigError
from ml_connector.qad import CreditTerm, Currency, GlAccount, Item, Site, TaxClass
from ml_connector.sandbox.catalog import qad_catalog
from ml_connector.store.models import AuditEvent, ConnectionConfig, Record
from ml_connector.sync.engine import SyncEngine, SyncReport
from ml_connector.sync.reference import suggest_mappings
from ml_connector.testing import FakeCin7, FakeClock, FakeQadChannel, FakeReference, MemoryStore

USD_SUPPLIER = "02c19aa9-b6d7-4031-adbe-5f3d418bfbb0"  # Beacon Wire & Cable Co. (seed 11)


def catalog_reference() -> FakeReference:
    """The QAD sandbox's reference data, so Cin7's codes map as they do against the sandbox."""
    c = qad_catalog()
    return FakeReference(
        gl_accounts=tuple(
            GlAccount(
                code=a.code,
                description=a.description,
                type=a.type,
                requires_sub_account=a.requires_sub_account,
                requires_cost_centre=a.requires_cost_centre,
                active=a.active,
            )
            for a in c.gl_accounts
        ),
        items=tuple(
            Item(
                code=i.code,
                description=i.description,
                uom=i.uom,
                product_line=i.product_line,
                status=i.status,
                gl_account=i.gl_account,
                unit_cost=i.unit_cost,
            )
            for i in c.items
        ),
        sites=tuple(Site(code=s.code, description=s.description) for s in c.sites),
        credit_terms=tuple(
            CreditTerm(code=t.code, description=t.description, due_days=t.due_days)
            for t in c.credit_terms
        ),
        currencies=tuple(Currency(code=code, description=code) for code in c.currencies),
        tax_classes=tuple(
            TaxClass(code=t.code, description=t.description, percent=t.percent)
            for t in c.tax_classes
        ),
    )


@dataclass
class MemoryWorld:
    clock: FakeClock
    store: MemoryStore
    cin7: FakeCin7
    qad: FakeQadChannel
    config: ConnectionConfig

    @property
    def cid(self) -> int:
        assert self.config.id is not None
        return self.config.id

    def engine(self, **options: Any) -> SyncEngine:
        return SyncEngine(self.store, self.config, self.cin7, self.qad, **options)

    async def sync(self) -> SyncReport:
        return await self.engine().sync()

    def purchase(self, approach: str, **lines: float) -> dict[str, Any]:
        """A new authorised purchase from the USD supplier: ``purchase("STOCK", WID_100=10)``."""
        return self.cin7.state.create_purchase(
            approach,
            [{"sku": sku.replace("_", "-"), "quantity": qty} for sku, qty in lines.items()],
            supplier_id=USD_SUPPLIER,
        )

    async def record(self, order_number: str) -> Record:
        found = [
            r for r in await self.store.find_records(self.cid, order_number) if r.kind == "purchase"
        ]
        if len(found) != 1:
            raise ConfigError(f"{len(found)} purchase records for {order_number}")
        return found[0]

    async def trail(self, order_number: str) -> list[AuditEvent]:
        return await self.store.trail(self.cid, (await self.record(order_number)).key)


async def memory_world(qad: FakeQadChannel | None = None) -> MemoryWorld:
    clock = FakeClock()
    store = MemoryStore(clock=clock.utcnow)
    cin7 = FakeCin7(clock=clock)
    channel = qad or FakeQadChannel(reference=catalog_reference())
    config = await store.add_connection(
        ConnectionConfig.from_settings(
            "memory",
            {
                "cin7_account_id": cin7.state.account_id,
                "cin7_application_key": cin7.state.application_key,
                "qad_url": "https://qad.invalid/clouderp",  # never dialled: the channel is a fake
                "qad_client_id": "0" * 32,
                "qad_username": "integration",
                "qad_password": "not-used",
                "qad_domain": "10USA",
                "qad_entity": "10USACO",
            },
        )
    )
    assert config.id is not None
    await suggest_mappings(store, config.id, cin7, channel, apply=True)
    return MemoryWorld(clock, store, cin7, channel, config)
