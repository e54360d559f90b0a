"""A planted secret is nowhere in plain text: not in the database, logs, reprs or errors."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url
from store_helpers import PLANTED, make_config, raw

from ml_connector.errors import AlreadyPosted, ConfigError, StoreError
from ml_connector.store import SqlStore
from ml_connector.store.tables import metadata
from ml_connector.vault import Vault


async def _exercise(store: SqlStore) -> list[BaseException]:
    """Store the secret every way the engine might, and collect the errors raised on the way."""
    config = await store.add_connection(
        make_config("acme", cin7_application_key=PLANTED, qad_password=f"{PLANTED}-pw")
    )
    assert config.id is not None
    cid = config.id
    key = "purchase:PO-00412"
    await store.append(
        cid,
        key,
        "failed",
        "sync",
        {
            "request": {
                "url": "https://inventory.dearsystems.com/ExternalApi/v2/purchase",
                "headers": {"api-auth-accountid": "acc-1", "api-auth-applicationkey": PLANTED},
            },
            "token_request": {"username": "mfg", "password": f"{PLANTED}-pw"},
            "error": f"QAD said: user mfg / {PLANTED}-pw is locked",
            "attempts": [{"Authorization": f"Bearer {PLANTED}"}, {"note": f"key {PLANTED}"}],
        },
    )
    await store.append(cid, key, "retried", "sync", [f"echo {PLANTED}"])
    await store.set_health(cid, False, f"Cin7 403 for key {PLANTED}")
    record = await store.upsert_record(
        cid, "purchase", "id-1", reference="PO-00412", status="failed", reason=f"bad {PLANTED}"
    )
    await store.set_record_status(record.id, "failed", f"still bad {PLANTED}-pw")
    run = await store.start_run(cid, "sync")
    await store.finish_run(run.id, "failed", {"failed": 1}, error=f"auth: {PLANTED}")
    await store.record_posted(cid, "po:PO-00412", "PO-00412", kind="po")

    errors: list[BaseException] = []
    for attempt in (
        store.add_connection(make_config("acme", cin7_application_key=PLANTED)),
        store.record_intent(cid, "po:PO-00412", "po", record.id),
    ):
        try:
            await attempt
        except (ConfigError, AlreadyPosted, StoreError) as exc:
            errors.append(exc)
    await store.update_connection(config.with_settings({"schedule": "every 5m"}))
    assert store.vault is not None
    await store.vault.rotate(store)
    return errors


async def _all_rows_as_text(store: SqlStore) -> str:
    parts = []
    for table in metadata.sorted_tables:
        parts.append(repr(await raw(store, f"SELECT * FROM {table.name}")))
    return "\n".join(parts)


async def test_planted_secret_is_never_stored_logged_or_shown(
    database_url: str, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)
    vault = Vault.ephemeral()
    store = await SqlStore.open(database_url, vault, echo=True)
    try:
        errors = await _exercise(store)
        assert len(errors) == 2  # both refusals happened, and their texts are checked below
        for exc in errors:
            assert PLANTED not in str(exc)
            assert PLANTED not in repr(exc)

        stored = await _all_rows_as_text(store)
        assert "acme" in stored
        assert "[redacted]" in stored
        assert PLANTED not in stored

        config = await store.get_connection("acme")
        assert config.cin7.application_key.get_secret_value() == PLANTED  # still usable
        for shown in (
            repr(config),
            str(config),
            config.model_dump_json(),
            repr(store),
            repr(vault),
        ):
            assert PLANTED not in shown

        wrong = SqlStore(store.engine, Vault.ephemeral())
        with pytest.raises(ConfigError) as caught:
            await wrong.get_connection("acme")
        assert PLANTED not in str(caught.value)
    finally:
        await store.close()

    assert "INSERT INTO audit_events" in caplog.text  # SQL logging really was on
    assert PLANTED not in caplog.text
    out = capsys.readouterr()
    assert PLANTED not in out.out
    assert PLANTED not in out.err

    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        assert url.database is not None
        files = list(Path(url.database).parent.glob(Path(url.database).name + "*"))
        assert files
        for path in files:
            assert PLANTED.encode() not in path.read_bytes(), path.name
