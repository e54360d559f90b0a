"""Audit keys across processes: `keys rotate` keeps old links verifiable, a wrong master key can
neither link nor pass verification (on SQLite and PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

import pytest
from store_helpers import make_config

from ml_connector.errors import ConfigError
from ml_connector.settings import load_settings
from ml_connector.store import SqlStore
from ml_connector.store.db import count_statements
from ml_connector.vault import Vault

KEY = "purchase:PO-1"


async def _trail(store: SqlStore) -> int:
    added = await store.add_connection(make_config("acme"))
    assert added.id is not None
    for event in ("fetched", "planned", "posted"):
        await store.append(added.id, KEY, event, "sync")  # type: ignore[arg-type]
    return added.id


async def test_rotation_in_another_process_begins_a_version_and_old_links_verify(
    database_url: str, tmp_path: Path
) -> None:
    settings = load_settings({"ML_CONNECTOR_HOME": str(tmp_path)})
    worker = await SqlStore.open(database_url, Vault.from_settings(settings))
    try:
        cid = await _trail(worker)
        old_key = settings.key_file.read_text().strip()
        admin = await SqlStore.open(database_url, Vault.from_settings(settings), migrate=False)
        try:
            # As `keys rotate` does: a vault of its own, the store's secrets re-encrypted.
            await Vault.from_settings(settings).rotate(admin)
        finally:
            await admin.close()
        assert settings.key_file.read_text().strip() != old_key

        after = await worker.append(cid, KEY, "completed", "sync")  # follows the key file
        assert after.key_version == 2
        assert await worker.verify(cid) == []
        fresh = await SqlStore.open(database_url, Vault.from_settings(settings), migrate=False)
        try:
            assert await fresh.verify(cid) == []
            assert [e.key_version for e in await fresh.events(cid)] == [1, 1, 1, 2]
        finally:
            await fresh.close()

        stale = await SqlStore.open(database_url, Vault([old_key], source="env"), migrate=False)
        try:
            with pytest.raises(ConfigError, match="rotated out"):
                await stale.append(cid, KEY, "completed", "sync")
            kinds = {(p.kind, p.problem.split(",")[0]) for p in await stale.verify(cid)}
            assert {kind for kind, _ in kinds} == {"key-unavailable"}
            assert len(kinds) == 2  # one line per version, not one per event
        finally:
            await stale.close()
    finally:
        await worker.close()


async def test_a_wrong_master_key_cannot_link_and_fails_verification(database_url: str) -> None:
    store = await SqlStore.open(database_url, Vault.ephemeral())
    try:
        cid = await _trail(store)
        first = (await store.events(cid))[0]
    finally:
        await store.close()
    wrong = await SqlStore.open(database_url, Vault.ephemeral(), migrate=False)
    try:
        with pytest.raises(ConfigError, match="audit key") as caught:
            await wrong.append(cid, KEY, "completed", "sync")
        assert "nothing was appended" in str(caught.value)
        assert len(await wrong.events(cid)) == 3
        problems = await wrong.verify(cid)
        assert [(p.event_id, p.kind) for p in problems] == [(first.id, "key-unavailable")]
        assert "master key" in problems[0].problem
    finally:
        await wrong.close()


async def test_an_append_reads_the_audit_keys_only_when_the_version_may_have_moved(
    database_url: str,
) -> None:
    store = await SqlStore.open(database_url, Vault.ephemeral())
    try:
        cid = await _trail(store)
        with count_statements(store.engine) as first:
            await store.append(cid, KEY, "completed", "sync")
        with count_statements(store.engine) as again:
            await store.append(cid, KEY, "matched", "sync")
        assert again.statements == first.statements  # steady
        fresh = await SqlStore.open(database_url, store.vault, migrate=False)  # no append yet
        try:
            await fresh.set_health(cid, True, "ok")  # reads the secrets it redacts with
            with count_statements(fresh.engine) as cold:
                await fresh.append(cid, KEY, "released", "sync")
            # One look at the newest version; on SQLite also the head, which a store that
            # has appended remembers (`test_audit_known_head.py`).
            sqlite = store.engine.dialect.name == "sqlite"
            assert cold.statements == first.statements + (2 if sqlite else 1)
        finally:
            await fresh.close()
        assert await store.verify(cid) == []
    finally:
        await store.close()
