"""Connections: secrets encrypted at rest, CRUD, health, cascade on removal."""

from __future__ import annotations

import pytest
from pydantic import SecretStr, ValidationError
from store_helpers import make_config, raw

from ml_connector.errors import ConfigError
from ml_connector.store import ConnectionConfig, SqlStore
from ml_connector.vault import Vault


async def test_secrets_round_trip_but_are_stored_encrypted(store: SqlStore, vault: Vault) -> None:
    added = await store.add_connection(
        make_config("acme", cin7_application_key="cin7-key-xyz", qad_password="qad-pw-xyz")
    )
    assert added.id is not None
    assert added.created_at is not None
    assert added.healthy

    got = await store.get_connection("acme")
    assert isinstance(got.cin7.application_key, SecretStr)
    assert got.cin7.application_key.get_secret_value() == "cin7-key-xyz"
    assert got.qad.password.get_secret_value() == "qad-pw-xyz"
    assert got.qad.site == "10-100"
    assert got.qad.domain == "10USA"

    [(key_enc, pw_enc)] = await raw(
        store, "SELECT cin7_application_key_enc, qad_password_enc FROM connections"
    )
    assert "cin7-key-xyz" not in key_enc
    assert "qad-pw-xyz" not in pw_enc
    assert vault.decrypt(key_enc) == "cin7-key-xyz"
    assert vault.decrypt(pw_enc) == "qad-pw-xyz"


async def test_another_vault_cannot_read_the_secrets(database_url: str) -> None:
    first = await SqlStore.open(database_url, Vault.ephemeral())
    await first.add_connection(make_config("acme"))
    await first.close()
    second = await SqlStore.open(database_url, Vault.ephemeral())
    try:
        with pytest.raises(ConfigError, match="cannot be decrypted"):
            await second.get_connection("acme")
        assert await second.connection_id("acme") > 0  # no secret needed for the id
    finally:
        await second.close()


async def test_names_are_unique_and_lookups_say_what_is_missing(store: SqlStore) -> None:
    await store.add_connection(make_config("acme"))
    with pytest.raises(ConfigError, match="already exists"):
        await store.add_connection(make_config("acme"))
    with pytest.raises(ConfigError, match="no connection named 'nope'"):
        await store.get_connection("nope")
    assert await store.find_connection("nope") is None
    with pytest.raises(ConfigError):
        await store.connection_id("nope")


async def test_list_update_and_options(store: SqlStore) -> None:
    await store.add_connection(make_config("zeta"))
    await store.add_connection(
        make_config("alpha", create_missing_items=True, schedule="every 15m")
    )
    names = [c.name for c in await store.list_connections()]
    assert names == ["alpha", "zeta"]

    alpha = await store.get_connection("alpha")
    assert alpha.sync.create_missing_items is True
    assert alpha.sync.schedule == "every 15m"
    assert (await store.get_connection("zeta")).sync.create_missing_items is False  # default

    changed = alpha.with_settings({"qad_password": "new-pw", "allow_local": True})
    updated = await store.update_connection(changed)
    assert updated.qad.password.get_secret_value() == "new-pw"
    assert updated.allow_local is True
    assert updated.id == alpha.id
    with pytest.raises(ConfigError):
        await store.update_connection(make_config("ghost"))


async def test_health_is_recorded(store: SqlStore, cid: int) -> None:
    await store.set_health(cid, False, "QAD: 401 after token refresh")
    got = await store.get_connection("acme")
    assert got.healthy is False
    assert got.health_message == "QAD: 401 after token refresh"
    assert got.health_checked_at is not None
    await store.set_health(cid, True)
    assert (await store.get_connection("acme")).healthy is True


async def test_removing_a_connection_removes_its_state(store: SqlStore, cid: int) -> None:
    await store.set_cursor(cid, "purchases", "2024-05-10T03:21:07.417")
    await store.stage_snapshot(cid, "purchase", "id-1", "PO-1", "2024-05-10T03:21:07", {"a": 1})
    rec = await store.upsert_record(cid, "purchase", "id-1", reference="PO-1")
    await store.record_intent(cid, "po:PO-1", "po", rec.id)
    await store.set_mapping(cid, "item", "WID-100", "10-100")
    await store.append(cid, "purchase:PO-1", "fetched", "sync", {"version": 1})
    await store.start_run(cid, "sync")

    assert await store.remove_connection("acme") is True
    assert await store.remove_connection("acme") is False
    for table in (
        "cursors",
        "snapshots",
        "records",
        "postings",
        "mappings",
        "audit_events",
        "audit_heads",
        "runs",
    ):
        assert await raw(store, f"SELECT COUNT(*) FROM {table}") == [(0,)], table


async def test_a_store_without_vault_refuses_credential_verbs(database_url: str) -> None:
    store = await SqlStore.open(database_url)
    try:
        with pytest.raises(ConfigError, match="without a vault"):
            await store.add_connection(make_config())
    finally:
        await store.close()


def test_connection_config_validates_and_hides_secrets() -> None:
    config = make_config("acme", qad_password="hunter2-secret")
    assert "hunter2-secret" not in repr(config)
    assert "hunter2-secret" not in str(config)
    assert "hunter2-secret" not in config.model_dump_json()
    with pytest.raises(ValidationError):
        make_config("bad name with spaces")
    with pytest.raises(ValidationError):
        ConnectionConfig(name="x")  # type: ignore[call-arg]
