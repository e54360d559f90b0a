"""One sync pass of one connection, run as its own process by the crash tests (and killed)."""

from __future__ import annotations

import asyncio
import sys

from ml_connector.settings import load_settings
from ml_connector.store.repo import Store
from ml_connector.sync.connect import cin7_client, qad_client
from ml_connector.sync.engine import SyncEngine
from ml_connector.vault import Vault


async def main(name: str) -> int:
    settings = load_settings()
    store = await Store.open(settings.database_url, Vault.from_settings(settings))
    try:
        config = await store.get_connection(name)
        async with cin7_client(config) as cin7, qad_client(config) as qad:
            report = await SyncEngine(store, config, cin7, qad).sync()
        print(report.status, report.error or "", flush=True)
        return 0 if report.status == "succeeded" else 1
    finally:
        await store.close()


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1])))
