"""A synced connection with something in every state, for the console's HTTP and browser tests.

`build_console_world` starts both sandboxes on 127.0.0.1, opens a store, adds connection
``acme`` (mappings suggested and applied) and stages four purchases before one sync:

- ``posted``: a stock-first purchase, then edited in Cin7 and synced again (two snapshots);
- ``held``: an invoice-first purchase whose invoice ``BW-INV-2`` waits for its receipt;
- ``blocked``: a purchase of an item QAD does not know (``missing item MTR-0.75KW``);
- ``failed``: a CAD purchase, with CAD mapped to a currency QAD refuses (``ZZZ``).

A second connection, ``planted``, holds secrets that must never appear in any answer.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass

from e2e_world import World
from sandbox_config import sandbox_config

from ml_connector.sandbox.cin7 import Cin7Sandbox, create_cin7_sandbox
from ml_connector.sandbox.qad import QadSandbox, create_qad_sandbox
from ml_connector.serve import ServerThread
from ml_connector.store.models import ConnectionConfig
from ml_connector.store.sql import SqlStore
from ml_connector.vault import Vault

USD_SUPPLIER = "02c19aa9-b6d7-4031-adbe-5f3d418bfbb0"  # Beacon Wire & Cable Co. (seed 11)
CAD_SUPPLIER = "db77b923-df00-4dfa-93e2-22b8e69d2f3b"  # Redwood Steel Supply Inc.
PLANTED_KEY = "PLANTED-cin7-key-7f1e2d"
PLANTED_PASSWORD = "PLANTED-qad-pass-4b9c0a"


@dataclass
class ConsoleWorld:
    world: World
    posted: str
    held: str
    held_id: str
    blocked: str
    failed: str

    @property
    def store(self) -> SqlStore:
        return self.world.store

    @property
    def secrets(self) -> tuple[str, ...]:
        """Every secret stored in the database: none may show in a page or an API answer."""
        return (
            *self.world.config.secrets(),
            PLANTED_KEY,
            PLANTED_PASSWORD,
        )


async def _stage(world: World) -> ConsoleWorld:
    state = world.cin7.state
    await world.store.set_mapping(world.cid, "currency", "CAD", "ZZZ", source="manual")
    posted = state.create_purchase(
        "STOCK", [{"sku": "WSH-M8", "quantity": 10}], supplier_id=USD_SUPPLIER
    )
    held = state.create_purchase(
        "INVOICE", [{"sku": "NUT-M8", "quantity": 12}], supplier_id=USD_SUPPLIER
    )
    state.invoice(held["ID"], "BW-INV-2")
    blocked = state.create_purchase(
        "STOCK", [{"sku": "MTR-0.75KW", "quantity": 1}], supplier_id=USD_SUPPLIER
    )
    failed = state.create_purchase(
        "STOCK", [{"sku": "ALU-BAR-25", "quantity": 2}], supplier_id=CAD_SUPPLIER
    )
    await world.sync()
    state.edit(posted["ID"], [{"sku": "WSH-M8", "quantity": 15}])
    await world.sync()
    await world.store.add_connection(
        ConnectionConfig.from_settings(
            "planted",
            {
                "cin7_account_id": "acc-planted",
                "cin7_application_key": PLANTED_KEY,
                "qad_url": "https://qad.example.test/clouderp",
                "qad_client_id": "planted-client",
                "qad_username": "planted-user",
                "qad_password": PLANTED_PASSWORD,
                "qad_domain": "10USA",
                "qad_entity": "10USACO",
            },
        )
    )
    return ConsoleWorld(
        world,
        posted=posted["OrderNumber"],
        held=held["OrderNumber"],
        held_id=held["ID"],
        blocked=blocked["OrderNumber"],
        failed=failed["OrderNumber"],
    )


@dataclass
class Sandboxes:
    """Both simulators served on 127.0.0.1 (seed 11: six suppliers, no purchases yet)."""

    cin7: Cin7Sandbox
    qad: QadSandbox
    cin7_url: str
    qad_url: str


@contextmanager
def serve_sandboxes() -> Iterator[Sandboxes]:
    cin7 = create_cin7_sandbox(seed=11, suppliers=6, purchases=0, rate_limit=100_000)
    qad = create_qad_sandbox(seed=11)
    with ServerThread(cin7.app) as cin7_server, ServerThread(qad.app) as qad_server:
        yield Sandboxes(cin7, qad, cin7_server.url, qad.base_url(qad_server.url, "acme"))


def acme(boxes: Sandboxes) -> ConnectionConfig:
    return sandbox_config(
        "acme", boxes.cin7, boxes.qad, cin7_url=boxes.cin7_url, qad_url=boxes.qad_url
    )


async def populate(store: SqlStore, boxes: Sandboxes) -> ConsoleWorld:
    """Add connection acme (mappings applied) and the staged purchases, synced."""
    config = await store.add_connection(acme(boxes))
    world = World(boxes.cin7, boxes.qad, boxes.cin7_url, boxes.qad_url, store, config)
    await world.apply_suggestions()
    return await _stage(world)


def world_on(store: SqlStore, boxes: Sandboxes, config: ConnectionConfig) -> World:
    """The e2e world over another store on the same database (another process or loop)."""
    return World(boxes.cin7, boxes.qad, boxes.cin7_url, boxes.qad_url, store, config)


@asynccontextmanager
async def build_console_world(database_url: str) -> AsyncIterator[ConsoleWorld]:
    with serve_sandboxes() as boxes:
        store = await SqlStore.open(database_url, Vault.ephemeral())
        try:
            yield await populate(store, boxes)
        finally:
            await store.close()
