"""The store contract: one set of tests every implementation of the store protocols passes.

Each class covers one part of :mod:`ml_connector.store.protocols`; :class:`StoreContract`
combines them. A test module subclasses it once per back-end and provides the fixtures
``store`` (an empty store), ``cid`` (a connection named ``acme`` added to it), ``vault`` (the
store's vault) and ``backdoor`` (a :class:`store_helpers.Backdoor` onto the same data):

- tests/unit/store/test_memory_contract.py: :class:`ml_connector.testing.MemoryStore`;
- tests/integration/store/test_sql_contract.py: :class:`ml_connector.store.SqlStore` on a SQLite
  file and, when configured, PostgreSQL.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from pydantic import SecretStr
from store_helpers import Backdoor, make_config

from ml_connector.errors import AlreadyPosted, ConfigError, StoreError
from ml_connector.store import GENESIS, MappingRow, Store, event_hash, record_key, snapshot_hash
from ml_connector.store.audit import LINK_PURPOSE, ChainHead, event_link
from ml_connector.store.models import BrokenLink, TrailEntry
from ml_connector.vault import Vault
from ml_connector.vocab import RECORD_STATUSES

PAYLOAD: dict[str, Any] = {
    "ID": "b1d7c5f0-0000-4000-8000-000000000001",
    "OrderNumber": "PO-00412",
    "LastUpdatedDate": "2024-05-10T03:21:07.417",
    "Order": {"Status": "AUTHORISED", "Lines": [{"SKU": "WID-100", "Quantity": 10}]},
}
KEY = record_key("purchase", "PO-00412")


class Boom(Exception):
    pass


class ConnectionsContract:
    async def test_secrets_round_trip_but_are_kept_encrypted(
        self, store: Store, vault: Vault, backdoor: Backdoor
    ) -> None:
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
        assert got == await store.get_connection_by_id(added.id)

        [key_enc] = await backdoor.values("connections", "cin7_application_key_enc")
        [pw_enc] = await backdoor.values("connections", "qad_password_enc")
        assert "cin7-key-xyz" not in key_enc
        assert "qad-pw-xyz" not in pw_enc
        assert vault.decrypt(key_enc) == "cin7-key-xyz"
        assert vault.decrypt(pw_enc) == "qad-pw-xyz"

    async def test_names_are_unique_and_lookups_say_what_is_missing(self, store: Store) -> None:
        await store.add_connection(make_config("acme"))
        with pytest.raises(ConfigError, match="already exists"):
            await store.add_connection(make_config("acme"))
        with pytest.raises(ConfigError, match="no connection named 'nope'"):
            await store.get_connection("nope")
        assert await store.find_connection("nope") is None
        with pytest.raises(ConfigError):
            await store.connection_id("nope")
        with pytest.raises(ConfigError):
            await store.get_connection_by_id(424242)

    async def test_list_update_and_options(self, store: Store) -> None:
        await store.add_connection(make_config("zeta"))
        await store.add_connection(
            make_config("alpha", create_missing_items=True, schedule="every 15m")
        )
        assert [c.name for c in await store.list_connections()] == ["alpha", "zeta"]

        alpha = await store.get_connection("alpha")
        assert alpha.sync.create_missing_items is True
        assert alpha.sync.schedule == "every 15m"
        assert (await store.get_connection("zeta")).sync.create_missing_items is False  # default
        assert alpha.id is not None
        assert await store.connection_id("alpha") == alpha.id

        changed = alpha.with_settings({"qad_password": "new-pw", "allow_local": True})
        updated = await store.update_connection(changed)
        assert updated.qad.password.get_secret_value() == "new-pw"
        assert updated.allow_local is True
        assert updated.id == alpha.id
        with pytest.raises(ConfigError):
            await store.update_connection(make_config("ghost"))

    async def test_health_is_recorded_and_redacted(self, store: Store, cid: int) -> None:
        await store.set_health(cid, False, "QAD: 401 for qad-password-0001 after token refresh")
        got = await store.get_connection("acme")
        assert got.healthy is False
        assert got.health_message == "QAD: 401 for [redacted] after token refresh"
        assert got.health_checked_at is not None
        await store.set_health(cid, True)
        assert (await store.get_connection("acme")).healthy is True

    async def test_removing_a_connection_removes_its_state(
        self, store: Store, cid: int, backdoor: Backdoor
    ) -> None:
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
            assert await backdoor.count(table) == 0, table

    async def test_rotating_secrets_transforms_every_token_or_none(
        self, store: Store, vault: Vault
    ) -> None:
        await store.add_connection(make_config("acme"))
        await store.add_connection(make_config("globex", qad_password="globex-pw"))
        before = {c.name: c for c in await store.list_connections()}

        def refuse(token: str) -> str:
            raise ConfigError("rotation refused")

        with pytest.raises(ConfigError):
            await store.reencrypt_secrets(refuse)
        assert {c.name: c for c in await store.list_connections()} == before

        new = Vault.ephemeral()
        assert await store.reencrypt_secrets(lambda t: new.encrypt(vault.decrypt(t))) == 4
        with pytest.raises(ConfigError, match="cannot be decrypted"):
            await store.get_connection("globex")


class CursorsAndSnapshotsContract:
    async def test_cursor_starts_empty_and_keeps_the_raw_value(
        self, store: Store, cid: int
    ) -> None:
        assert await store.get_cursor(cid, "purchases") is None
        await store.set_cursor(cid, "purchases", "2026-08-28T12:59:44.05")
        cursor = await store.get_cursor(cid, "purchases")
        assert cursor is not None
        assert cursor.value == "2026-08-28T12:59:44.05"
        assert cursor.value_at == datetime(2026, 8, 28, 12, 59, 44, 50000, tzinfo=UTC)
        await store.set_cursor(cid, "purchases", "2026-08-29T00:00:00")
        cursor = await store.get_cursor(cid, "purchases")
        assert cursor is not None
        assert cursor.value == "2026-08-29T00:00:00"
        assert await store.get_cursor(cid, "suppliers") is None
        await store.set_cursor(cid, "suppliers", "2026-08-29T00:00:00")
        assert await store.reset_cursor(cid, "suppliers") == 1
        assert await store.reset_cursor(cid) == 1
        assert await store.get_cursor(cid, "purchases") is None
        with pytest.raises(StoreError, match="unknown stream"):
            await store.set_cursor(cid, "sales", "2026-08-29T00:00:00")  # type: ignore[arg-type]

    async def test_snapshots_get_a_new_version_only_when_content_changes(
        self, store: Store, cid: int
    ) -> None:
        doc = PAYLOAD["ID"]
        first = await store.stage_snapshot(cid, "purchase", doc, "PO-00412", "t1", PAYLOAD)
        assert (first.version, first.changed) == (1, True)
        assert first.hash == snapshot_hash(PAYLOAD)

        again = await store.stage_snapshot(cid, "purchase", doc, "PO-00412", "t1", dict(PAYLOAD))
        assert (again.version, again.changed, again.hash) == (1, False, first.hash)

        # Touched by Cin7 without a content change: same version, new timestamp recognised.
        touched = {**PAYLOAD, "LastUpdatedDate": "2024-05-11T00:00:00"}
        same = await store.stage_snapshot(cid, "purchase", doc, "PO-00412", "t2", touched)
        assert (same.version, same.changed) == (1, False)
        assert await store.seen(cid, "purchase", doc, "t2")

        edited = {
            **PAYLOAD,
            "Order": {"Status": "AUTHORISED", "Lines": [{"SKU": "WID-100", "Quantity": 12}]},
        }
        second = await store.stage_snapshot(cid, "purchase", doc, "PO-00412", "t3", edited)
        assert (second.version, second.changed) == (2, True)
        assert second.hash != first.hash

        latest = await store.latest_snapshot(cid, "purchase", doc)
        assert latest is not None
        assert latest.version == 2
        assert latest.payload == edited
        v1 = await store.get_snapshot(cid, "purchase", doc, 1)
        assert v1 is not None
        assert v1.payload["Order"]["Lines"][0]["Quantity"] == 10
        assert [s.version for s in await store.snapshot_versions(cid, "purchase", doc)] == [1, 2]
        # Key order does not matter to the hash.
        reordered = dict(reversed(list(edited.items())))
        assert (
            await store.stage_snapshot(cid, "purchase", doc, "PO-00412", "t3", reordered)
        ).changed is False

    async def test_what_is_handed_out_is_a_copy(self, store: Store, cid: int) -> None:
        payload = {"Lines": [{"SKU": "WID-100"}]}
        await store.stage_snapshot(cid, "purchase", "a", "PO-1", "t1", payload)
        payload["Lines"].append({"SKU": "LATE"})
        got = await store.latest_snapshot(cid, "purchase", "a")
        assert got is not None
        assert got.payload == {"Lines": [{"SKU": "WID-100"}]}
        got.payload["Lines"].clear()
        again = await store.latest_snapshot(cid, "purchase", "a")
        assert again is not None
        assert again.payload == {"Lines": [{"SKU": "WID-100"}]}

    async def test_seen_dedups_on_id_and_last_updated(self, store: Store, cid: int) -> None:
        await store.stage_snapshot(
            cid, "purchase", "a", "PO-1", "2024-05-10T03:21:07.417", {"x": 1}
        )
        await store.stage_snapshot(cid, "purchase", "b", "PO-2", "2024-05-10T03:21:08", {"x": 2})
        assert await store.seen(cid, "purchase", "a", "2024-05-10T03:21:07.417")
        assert not await store.seen(cid, "purchase", "a", "2024-05-10T03:21:09")
        assert not await store.seen(cid, "supplier", "a", "2024-05-10T03:21:07.417")
        pairs = [("a", "2024-05-10T03:21:07.417"), ("b", "changed"), ("c", "new")]
        pairs += [(f"n{i}", "x") for i in range(1200)]  # spans several IN chunks on SQL
        assert await store.seen_many(cid, "purchase", pairs) == {"a"}


class RecordsContract:
    async def test_records_upsert_and_keep_unset_fields(self, store: Store, cid: int) -> None:
        rec = await store.upsert_record(
            cid,
            "purchase",
            "id-1",
            reference="PO-1",
            supplier_id="sup-1",
            latest_version=1,
            month="2024-05",
            amounts={"invoiced": {"USD": "100.00"}},
        )
        assert rec.status == "pending"
        assert rec.key == "purchase:PO-1"
        again = await store.upsert_record(
            cid, "purchase", "id-1", reference="PO-1", latest_version=2
        )
        assert again.id == rec.id
        assert again.latest_version == 2
        assert again.supplier_id == "sup-1"
        assert again.month == "2024-05"
        assert again.amounts == {"invoiced": {"USD": "100.00"}}

        held = await store.upsert_record(
            cid,
            "purchase",
            "id-1",
            reference="PO-1",
            status="held",
            reason="WID-100: invoiced 10, received in QAD 6",
        )
        assert held.status == "held"
        assert (held.reason or "").startswith("WID-100")
        posted = await store.set_record_status(rec.id, "posted", posted_version=2)
        assert posted.status == "posted"
        assert posted.reason is None
        assert posted.posted_version == 2
        assert posted.status_since >= held.status_since
        assert await store.get_record_by_id(rec.id) == posted
        assert await store.get_record_by_id(424242) is None

        with pytest.raises(StoreError, match="unknown record status"):
            await store.set_record_status(rec.id, "done")  # type: ignore[arg-type]
        with pytest.raises(StoreError, match="month"):
            await store.upsert_record(cid, "purchase", "id-2", reference="PO-2", month="May 2024")
        with pytest.raises(StoreError):
            await store.set_record_status(424242, "posted")

    async def test_reasons_are_redacted(self, store: Store, cid: int) -> None:
        rec = await store.upsert_record(
            cid, "purchase", "id-1", reference="PO-1", status="failed", reason="qad-password-0001"
        )
        assert rec.reason == "[redacted]"
        again = await store.set_record_status(rec.id, "failed", "key app-key-0001 refused")
        assert again.reason == "key [redacted] refused"

    async def test_records_filter_count_and_find(self, store: Store, cid: int) -> None:
        for i, status in enumerate(["posted", "held", "blocked", "failed", "held"]):
            await store.upsert_record(
                cid,
                "purchase",
                f"id-{i}",
                reference=f"PO-{i}",
                status=status,  # type: ignore[arg-type]
                month="2024-05" if i < 3 else "2024-06",
                supplier_id="sup-1",
            )
        await store.upsert_record(cid, "supplier", "sup-1", reference="Acme Ltd", status="posted")

        held = await store.list_records(cid, status="held")
        assert [r.reference for r in held] == ["PO-1", "PO-4"]
        assert len(await store.list_records(cid, status=["blocked", "failed"])) == 2
        assert len(await store.list_records(cid, kind="purchase", month="2024-05")) == 3
        assert len(await store.list_records(cid, kind="purchase", limit=2)) == 2
        assert [r.reference for r in await store.list_records(cid, kind="purchase", offset=3)] == [
            "PO-3",
            "PO-4",
        ]
        assert len(await store.list_records(cid, supplier_id="sup-1")) == 5
        assert [r.cin7_id for r in await store.find_records(cid, "PO-3")] == ["id-3"]
        counts = await store.count_records(cid)
        assert counts == {
            **dict.fromkeys(RECORD_STATUSES, 0),
            "posted": 2,
            "held": 2,
            "blocked": 1,
            "failed": 1,
        }
        assert (await store.get_record(cid, "supplier", "sup-1")) is not None
        assert await store.get_record(cid, "purchase", "missing") is None
        with pytest.raises(StoreError, match="unknown record status"):
            await store.list_records(cid, status="done")

    async def test_reconcile_sums_amounts_per_supplier_and_currency(
        self, store: Store, cid: int
    ) -> None:
        await store.upsert_record(cid, "supplier", "sup-1", reference="Acme Ltd")
        await store.upsert_record(
            cid,
            "purchase",
            "p1",
            reference="PO-1",
            supplier_id="sup-1",
            month="2024-05",
            status="posted",
            amounts={
                "invoiced": {"USD": "100.10"},
                "posted": {"USD": "100.10"},
                "received": {"USD": "100.10"},
            },
        )
        await store.upsert_record(
            cid,
            "purchase",
            "p2",
            reference="PO-2",
            supplier_id="sup-1",
            month="2024-05",
            status="held",
            amounts={"invoiced": {"USD": "50.05"}, "held": {"USD": "50.05"}},
        )
        await store.upsert_record(
            cid,
            "purchase",
            "p3",
            reference="PO-3",
            supplier_id="sup-1",
            month="2024-06",
            amounts={"invoiced": {"USD": "999"}},
        )
        [line] = await store.reconcile(cid, month="2024-05")
        assert line.supplier_name == "Acme Ltd"
        assert line.currency == "USD"
        assert line.invoiced == Decimal("150.15")
        assert line.posted == Decimal("100.10")
        assert line.held == Decimal("50.05")
        assert line.received == Decimal("100.10")
        assert line.records == 2
        assert line.statuses == {"posted": 1, "held": 1}
        assert len(await store.reconcile(cid)) == 1

    async def test_writes_for_an_unknown_connection_are_store_errors(self, store: Store) -> None:
        with pytest.raises(StoreError) as caught:
            await store.set_cursor(424242, "purchases", "2024-05-10T03:21:07.417-SECRETISH")
        assert type(caught.value) is StoreError
        assert "SECRETISH" not in str(caught.value)
        assert caught.value.__cause__ is None
        with pytest.raises(StoreError):
            await store.upsert_record(424242, "purchase", "id-1", reference="PO-1")
        with pytest.raises(StoreError):
            await store.start_run(424242, "sync")


class RunsContract:
    async def test_runs_record_counters(self, store: Store, cid: int) -> None:
        run = await store.start_run(cid, "sync")
        assert run.status == "running"
        assert run.finished_at is None
        done = await store.finish_run(run.id, "succeeded", {"fetched": 3, "cin7_calls": 2})
        assert done.status == "succeeded"
        assert done.counters == {"fetched": 3, "cin7_calls": 2}
        assert done.finished_at is not None
        replay = await store.start_run(cid, "replay", actor="replay:alice")
        assert await store.interrupt_runs(cid) == 1
        got = await store.get_run(replay.id)
        assert got is not None
        assert got.status == "interrupted"
        assert got.actor == "replay:alice"
        assert [r.kind for r in await store.list_runs(cid)] == ["replay", "sync"]
        assert [r.kind for r in await store.list_runs(cid, kind="sync")] == ["sync"]
        assert [r.kind for r in await store.list_runs(cid, limit=1)] == ["replay"]
        with pytest.raises(StoreError):
            await store.finish_run(9999, "failed")
        with pytest.raises(StoreError, match="unknown run kind"):
            await store.start_run(cid, "backfill")  # type: ignore[arg-type]

    async def test_a_run_error_is_redacted(self, store: Store, cid: int) -> None:
        run = await store.start_run(cid, "sync")
        done = await store.finish_run(run.id, "failed", error="auth refused qad-password-0001")
        assert done.error == "auth refused [redacted]"


class TransactionsContract:
    async def test_a_failed_pass_rolls_back_snapshots_and_cursor_together(
        self, store: Store, cid: int
    ) -> None:
        await store.set_cursor(cid, "purchases", "2024-05-01T00:00:00")

        async def failing_pass() -> None:
            async with store.transaction():
                staged = await store.stage_snapshot(
                    cid, "purchase", PAYLOAD["ID"], "PO-00412", PAYLOAD["LastUpdatedDate"], PAYLOAD
                )
                assert staged.changed
                await store.set_cursor(cid, "purchases", "2024-05-10T03:21:07.417")
                # Inside the transaction the verbs see their own writes.
                assert await store.latest_snapshot(cid, "purchase", PAYLOAD["ID"]) is not None
                raise Boom

        with pytest.raises(Boom):
            await failing_pass()

        cursor = await store.get_cursor(cid, "purchases")
        assert cursor is not None
        assert cursor.value == "2024-05-01T00:00:00"
        assert await store.latest_snapshot(cid, "purchase", PAYLOAD["ID"]) is None

        async with store.transaction():
            await store.stage_snapshot(
                cid, "purchase", PAYLOAD["ID"], "PO-00412", PAYLOAD["LastUpdatedDate"], PAYLOAD
            )
            await store.set_cursor(cid, "purchases", "2024-05-10T03:21:07.417")
        cursor = await store.get_cursor(cid, "purchases")
        assert cursor is not None
        assert cursor.value == "2024-05-10T03:21:07.417"
        assert await store.latest_snapshot(cid, "purchase", PAYLOAD["ID"]) is not None

    async def test_a_rollback_restores_updates_and_deletes(self, store: Store, cid: int) -> None:
        rec = await store.upsert_record(cid, "purchase", "id-1", reference="PO-1")
        await store.record_intent(cid, "po:PO-1", "po", rec.id)
        await store.set_mapping(cid, "item", "WID-100", "10-100")

        async def undone() -> None:
            async with store.transaction():
                await store.set_record_status(rec.id, "posted")
                await store.abandon_intent(cid, "po:PO-1")
                await store.remove_mapping(cid, "item", "WID-100")
                await store.set_mapping(cid, "item", "WID-200", "10-200")
                raise Boom

        with pytest.raises(Boom):
            await undone()
        assert await store.get_record_by_id(rec.id) == rec
        assert [p.natural_key for p in await store.open_intents(cid)] == ["po:PO-1"]
        assert (await store.mapping_table(cid))["item"] == {"WID-100": "10-100"}

    async def test_a_nested_transaction_is_a_savepoint(self, store: Store, cid: int) -> None:
        async def failing_part() -> None:
            async with store.transaction():
                await store.set_cursor(cid, "suppliers", "2024-05-02T00:00:00")
                raise Boom

        async with store.transaction():
            await store.set_cursor(cid, "purchases", "2024-05-01T00:00:00")
            with pytest.raises(Boom):
                await failing_part()
        assert await store.get_cursor(cid, "purchases") is not None
        assert await store.get_cursor(cid, "suppliers") is None

    async def test_a_savepoint_kept_goes_with_its_transaction(self, store: Store, cid: int) -> None:
        async def undone() -> None:
            async with store.transaction():
                async with store.transaction():
                    await store.set_cursor(cid, "suppliers", "2024-05-02T00:00:00")
                raise Boom

        with pytest.raises(Boom):
            await undone()
        assert await store.get_cursor(cid, "suppliers") is None

    async def test_a_transaction_belongs_to_its_task(self, store: Store, cid: int) -> None:
        async with store.transaction():
            with pytest.raises(StoreError, match="another task"):
                await asyncio.create_task(store.get_cursor(cid, "purchases"))

    async def test_a_task_outliving_the_transaction_gets_its_own(
        self, store: Store, cid: int
    ) -> None:
        release = asyncio.Event()

        async def later() -> None:
            await release.wait()
            await store.set_cursor(cid, "suppliers", "2024-05-02T00:00:00")

        async with store.transaction():
            await store.set_cursor(cid, "purchases", "2024-05-01T00:00:00")
            background = asyncio.create_task(later())
        release.set()
        await background
        assert await store.get_cursor(cid, "suppliers") is not None


class PostingsContract:
    async def test_intent_then_posted_then_refused_twice(
        self, store: Store, cid: int, backdoor: Backdoor
    ) -> None:
        rec = await store.upsert_record(cid, "purchase", "id-1", reference="PO-00412")
        intent = await store.record_intent(cid, "po:PO-00412", "po", rec.id, {"lines": {"1": 10}})
        assert intent.state == "intent"
        assert intent.qad_id is None
        # A retried create after a crash finds the same intent.
        assert (await store.record_intent(cid, "po:PO-00412", "po", rec.id)).id == intent.id
        assert [p.natural_key for p in await store.open_intents(cid)] == ["po:PO-00412"]

        posted = await store.record_posted(cid, "po:PO-00412", "PO-00412")
        assert posted.state == "posted"
        assert posted.qad_id == "PO-00412"
        assert posted.details == {"lines": {"1": 10}}
        assert await store.open_intents(cid) == []

        with pytest.raises(AlreadyPosted, match="po:PO-00412"):
            await store.record_intent(cid, "po:PO-00412", "po", rec.id)

        # An edit after posting updates the same posting, never a second one.
        updated = await store.record_posted(cid, "po:PO-00412", "PO-00412", {"lines": {"1": 12}})
        assert updated.id == posted.id
        assert updated.details == {"lines": {"1": 12}}
        assert await backdoor.count("postings") == 1

        # Each call sets only what it is given: the record moves when named, else stays.
        moved = await store.upsert_record(cid, "purchase", "id-2", reference="PO-00413")
        again = await store.record_posted(cid, "po:PO-00412", "PO-7", record_id=moved.id)
        assert (again.record_id, again.qad_id, again.details) == (moved.id, "PO-7", updated.details)
        kept = await store.record_posted(cid, "po:PO-00412", "PO-8")
        assert (kept.record_id, kept.qad_id) == (moved.id, "PO-8")

    async def test_posted_state_lists_a_records_postings(self, store: Store, cid: int) -> None:
        rec = await store.upsert_record(cid, "purchase", "id-1", reference="PO-1")
        other = await store.upsert_record(cid, "purchase", "id-2", reference="PO-2")
        await store.record_intent(cid, "po:PO-1", "po", rec.id)
        await store.record_posted(cid, "po:PO-1", "PO-1")
        await store.record_intent(cid, "receipt:PO-1:2024-05-06", "receipt", rec.id, {"WID-100": 6})
        await store.record_intent(cid, "po:PO-2", "po", other.id)

        state = await store.posted_state(cid, rec)
        assert list(state) == ["po:PO-1", "receipt:PO-1:2024-05-06"]
        assert state["po:PO-1"].state == "posted"
        assert state["receipt:PO-1:2024-05-06"].state == "intent"
        assert state["receipt:PO-1:2024-05-06"].details == {"WID-100": 6}
        assert set(await store.posted_state(cid, other.id)) == {"po:PO-2"}

        both = await store.get_postings(cid, ["po:PO-1", "po:PO-2", "po:PO-3"])
        assert set(both) == {"po:PO-1", "po:PO-2"}
        assert len(await store.list_postings(cid, kind="po")) == 2
        assert len(await store.list_postings(cid, state="posted")) == 1
        with pytest.raises(StoreError, match="unknown posting state"):
            await store.list_postings(cid, state="sent")  # type: ignore[arg-type]

    async def test_an_intent_found_absent_in_qad_is_abandoned(self, store: Store, cid: int) -> None:
        await store.record_intent(cid, "invoice:sup-1:INV-9", "invoice", None)
        assert await store.abandon_intent(cid, "invoice:sup-1:INV-9") is True
        assert await store.get_posting(cid, "invoice:sup-1:INV-9") is None
        await store.record_posted(cid, "supplier:sup-1", "S0001", kind="supplier")
        assert await store.abandon_intent(cid, "supplier:sup-1") is False  # posted rows stay
        assert await store.abandon_intent(cid, "never:seen") is False
        with pytest.raises(StoreError, match="pass kind="):
            await store.record_posted(cid, "receipt:unknown", "R1")

    async def test_natural_keys_are_per_connection(self, store: Store, cid: int) -> None:
        other = await store.add_connection(make_config("other"))
        assert other.id is not None
        await store.record_posted(cid, "po:PO-1", "PO-1", kind="po")
        await store.record_intent(other.id, "po:PO-1", "po", None)
        found = await store.get_posting(other.id, "po:PO-1")
        assert found is not None
        assert found.state == "intent"


class MappingsContract:
    async def test_mappings_read_both_ways(self, store: Store, cid: int) -> None:
        await store.set_mapping(cid, "account", "5000", "6100", source="exact")
        await store.set_mapping(cid, "account", "5010", "6100", source="name", confidence=0.8)
        await store.set_mapping(cid, "item", "WID-100", "10-100")

        found = await store.get_mapping(cid, "account", "5010")
        assert found is not None
        assert (found.qad_value, found.source, found.confidence) == ("6100", "name", 0.8)
        back = await store.reverse_mappings(cid, "account", "6100")
        assert [m.cin7_value for m in back] == ["5000", "5010"]
        assert await store.reverse_mappings(cid, "item", "6100") == []
        assert await store.get_mapping(cid, "item", "WID-999") is None

        table = await store.mapping_table(cid)
        assert table["account"] == {"5000": "6100", "5010": "6100"}
        assert table["item"] == {"WID-100": "10-100"}
        assert table["currency"] == {}
        assert [(m.kind, m.cin7_value) for m in await store.list_mappings(cid)] == [
            ("account", "5000"),
            ("account", "5010"),
            ("item", "WID-100"),
        ]

    async def test_suggestions_do_not_overwrite_manual_mappings(
        self, store: Store, cid: int
    ) -> None:
        await store.set_mapping(cid, "supplier", "sup-1", "S-MANUAL")
        kept = await store.set_mapping(
            cid, "supplier", "sup-1", "S-GUESS", source="name", confidence=0.6, overwrite=False
        )
        assert kept.qad_value == "S-MANUAL"
        assert kept.source == "manual"
        replaced = await store.set_mapping(cid, "supplier", "sup-1", "S-NEW")
        assert replaced.qad_value == "S-NEW"
        assert await store.remove_mapping(cid, "supplier", "sup-1") is True
        assert await store.remove_mapping(cid, "supplier", "sup-1") is False

    async def test_import_and_export_round_trip(self, store: Store, cid: int) -> None:
        rows = [
            MappingRow("item", f"SKU-{i:04d}", f"ITEM-{i:04d}", "import", 1.0) for i in range(1200)
        ]
        rows.append(MappingRow("location", "Main Warehouse", "10-100", "import"))
        assert await store.import_mappings(cid, rows) == 1201
        exported = await store.export_mappings(cid)
        assert sorted(exported, key=lambda r: (r.kind, r.cin7_value)) == sorted(
            rows, key=lambda r: (r.kind, r.cin7_value)
        )
        assert len(await store.list_mappings(cid, "location")) == 1
        assert await store.export_mappings(cid, "location") == [rows[-1]]

    async def test_import_checks_every_row_before_writing(self, store: Store, cid: int) -> None:
        bad = [
            MappingRow("item", "SKU-1", "ITEM-1"),
            MappingRow("colour", "red", "RED"),  # type: ignore[arg-type]
        ]
        with pytest.raises(StoreError, match="unknown mapping kind"):
            await store.import_mappings(cid, bad)
        assert await store.list_mappings(cid) == []
        with pytest.raises(StoreError, match="both a Cin7 and a QAD value"):
            await store.set_mapping(cid, "item", "SKU-1", "")
        with pytest.raises(StoreError, match="confidence"):
            await store.set_mapping(cid, "item", "SKU-1", "ITEM-1", confidence=1.5)


async def _fill(store: Store, cid: int) -> None:
    await store.append(cid, KEY, "fetched", "sync", {"version": 1, "hash": "ab" * 32})
    await store.append(cid, "supplier:Acme Ltd", "posted", "sync", {"qad_id": "S0001"})
    await store.append(cid, KEY, "planned", "sync", {"actions": ["create_po"]})
    await store.append(cid, KEY, "intent", "sync", {"natural_key": "po:PO-00412"})
    await store.append(cid, KEY, "posted", "sync", {"qad_id": "PO-00412"})


def _kinds(problems: list[BrokenLink]) -> list[tuple[int | None, str]]:
    return [(p.event_id, p.kind) for p in problems]


async def _forge_plain_chain(
    store: Store, cid: int, backdoor: Backdoor, *, from_index: int, event: str, version: int
) -> None:
    """What a writer without the master key can do: edit an event, then recompute a plain
    SHA-256 chain from it to the end (as the legacy trail was linked) and the stored head."""
    events = await store.events(cid)
    prev = events[from_index].prev_hash
    for i, ev in enumerate(events[from_index:]):
        name = event if i == 0 else ev.event
        forged = event_hash(
            prev_hash=prev,
            connection_id=cid,
            record_key=ev.record_key,
            seq=ev.seq,
            at=ev.at,
            event=name,
            actor=ev.actor,
            data=ev.data,
        )
        await backdoor.update(
            "audit_events", ev.id, event=name, prev_hash=prev, hash=forged, key_version=version
        )
        prev = forged
    await backdoor.set_head(cid, len(events), prev)


class TrailContract:
    async def test_events_are_keyed_links_in_order_with_a_sequence_per_record(
        self, store: Store, cid: int, vault: Vault
    ) -> None:
        first = await store.append(cid, KEY, "fetched", "sync", {"version": 1})
        assert first.seq == 1
        assert first.prev_hash == GENESIS
        assert first.key_version == 1
        assert first.hash == event_link(
            vault.derive(LINK_PURPOSE),
            1,
            prev_hash=GENESIS,
            connection_id=cid,
            record_key=KEY,
            seq=1,
            at=first.at,
            event="fetched",
            actor="sync",
            data={"version": 1},
        )
        # Not the plain hash: without the master key nobody can compute it.
        assert first.hash != event_hash(
            prev_hash=GENESIS,
            connection_id=cid,
            record_key=KEY,
            seq=1,
            at=first.at,
            event="fetched",
            actor="sync",
            data={"version": 1},
        )
        other = await store.append(cid, "supplier:Acme Ltd", "posted", "sync")
        assert other.seq == 1
        assert other.prev_hash == first.hash
        assert other.data == {}
        second = await store.append(cid, KEY, "planned", "replay:alice", {"n": 2})
        assert second.seq == 2
        assert second.prev_hash == other.hash

        trail = await store.trail(cid, KEY)
        assert [(e.seq, e.event, e.actor) for e in trail] == [
            (1, "fetched", "sync"),
            (2, "planned", "replay:alice"),
        ]
        assert trail[0] == first  # what is read back is what was linked
        assert await store.verify(cid) == []
        assert await store.head(cid) == ChainHead(3, second.hash)
        assert [e.id for e in await store.events(cid)] == [first.id, other.id, second.id]
        assert [e.id for e in await store.events(cid, after_id=first.id, limit=1)] == [other.id]

    async def test_append_many_links_a_batch_in_order_all_or_none(
        self, store: Store, cid: int
    ) -> None:
        before = await store.append(cid, KEY, "fetched", "sync")
        batch = await store.append_many(
            cid,
            [
                TrailEntry(KEY, "planned", "sync", {"actions": 2}),
                TrailEntry("supplier:Acme Ltd", "posted", "sync"),
                TrailEntry(KEY, "intent", "sync", {"natural_key": "po:PO-00412"}),
            ],
        )
        assert [(e.record_key, e.seq) for e in batch] == [
            (KEY, 2),
            ("supplier:Acme Ltd", 1),
            (KEY, 3),
        ]
        assert [e.prev_hash for e in batch] == [before.hash, batch[0].hash, batch[1].hash]
        assert batch == (await store.events(cid))[1:]
        assert await store.head(cid) == ChainHead(4, batch[-1].hash)
        with pytest.raises(StoreError, match="unknown audit event"):
            await store.append_many(
                cid,
                [TrailEntry(KEY, "posted", "sync"), TrailEntry(KEY, "deleted", "sync")],  # type: ignore[arg-type]
            )
        assert len(await store.events(cid)) == 4
        assert await store.append_many(cid, []) == []
        assert await store.verify(cid) == []

    async def test_a_batch_longer_than_one_insert_links_in_order(
        self, store: Store, cid: int
    ) -> None:
        # Past SQLAlchemy's page of rows for one INSERT (1000): sent in several, still in order.
        entries = [
            TrailEntry(KEY if n % 3 else "supplier:Acme Ltd", "planned", "sync", {"n": n})
            for n in range(1100)
        ]
        batch = await store.append_many(cid, entries)
        assert [e.data["n"] for e in batch] == list(range(1100))
        assert [e.id for e in batch] == sorted(e.id for e in batch)
        assert [e.seq for e in batch if e.record_key == KEY] == list(range(1, 734))
        assert batch == await store.events(cid, limit=2000)
        assert await store.verify(cid) == []

    async def test_audit_data_is_redacted_before_it_is_kept(
        self, store: Store, cid: int, backdoor: Backdoor
    ) -> None:
        event = await store.append(
            cid,
            KEY,
            "failed",
            "sync",
            {
                "request": {
                    "headers": {
                        "api-auth-applicationkey": "k-123456",
                        "Authorization": "Bearer abc.def",
                    },
                    "body": {"username": "mfg", "password": "pw-123456"},
                },
                "at": datetime(2024, 5, 6, tzinfo=UTC),
                "error": "login as mfg with app-key-0001 refused",  # the connection's own key
            },
        )
        data = event.data
        assert data["request"]["headers"] == {
            "api-auth-applicationkey": "[redacted]",
            "Authorization": "[redacted]",
        }
        assert data["request"]["body"] == {"username": "mfg", "password": "[redacted]"}
        assert data["at"] == "2024-05-06T00:00:00+00:00"
        assert data["error"] == "login as mfg with [redacted] refused"
        stored = json.dumps(await backdoor.values("audit_events", "data"))
        assert "k-123456" not in stored
        assert "pw-123456" not in stored
        assert "app-key-0001" not in stored
        assert await store.verify(cid) == []

    async def test_verify_names_an_edited_event(
        self, store: Store, cid: int, backdoor: Backdoor
    ) -> None:
        await _fill(store, cid)
        target = (await store.trail(cid, KEY))[1]
        await backdoor.update(
            "audit_events", target.id, data={"actions": ["create_po", "pay_twice"]}
        )
        problems = await store.verify(cid)
        assert [(p.event_id, p.record_key, p.seq, p.kind) for p in problems] == [
            (target.id, KEY, 2, "link-mismatch")
        ]
        assert "edited" in problems[0].problem

    async def test_an_edit_with_a_recomputed_plain_chain_is_still_found(
        self, store: Store, cid: int, backdoor: Backdoor
    ) -> None:
        await _fill(store, cid)
        events = await store.events(cid)
        await _forge_plain_chain(store, cid, backdoor, from_index=2, event="blocked", version=1)
        # Every forged link fails its HMAC; the chain and the head agree with each other.
        assert _kinds(await store.verify(cid)) == [(e.id, "link-mismatch") for e in events[2:]]

    async def test_a_whole_chain_rewritten_as_plain_hashes_is_found(
        self, store: Store, cid: int, backdoor: Backdoor
    ) -> None:
        await _fill(store, cid)
        await _forge_plain_chain(store, cid, backdoor, from_index=0, event="fetched", version=0)
        assert _kinds(await store.verify(cid)) == [(None, "unsealed")]

    async def test_a_plain_event_after_keyed_ones_is_found(
        self, store: Store, cid: int, backdoor: Backdoor
    ) -> None:
        await _fill(store, cid)
        events = await store.events(cid)
        await _forge_plain_chain(store, cid, backdoor, from_index=4, event="posted", version=0)
        assert _kinds(await store.verify(cid)) == [(events[4].id, "unkeyed-event")]

    async def test_verify_names_a_deleted_middle_event(
        self, store: Store, cid: int, backdoor: Backdoor
    ) -> None:
        await _fill(store, cid)
        events = await store.events(cid)
        await backdoor.delete("audit_events", id=events[2].id)
        problems = await store.verify(cid)
        assert [(p.event_id, p.kind, p.problem) for p in problems] == [
            (
                events[3].id,
                "chain-broken",
                "the event before this one is missing or was altered",
            ),
            (events[3].id, "missing-sequence", "event 2 of this record is missing"),
            (None, "truncated", "the stored head says 5 events were appended, 4 remain"),
        ]

    async def test_deleted_newest_events_show_against_the_stored_head(
        self, store: Store, cid: int, backdoor: Backdoor
    ) -> None:
        await _fill(store, cid)
        events = await store.events(cid)
        await backdoor.delete("audit_events", id=events[-1].id)
        assert _kinds(await store.verify(cid)) == [(None, "truncated")]

    async def test_truncation_with_the_head_rewritten_shows_against_a_head_kept_elsewhere(
        self, store: Store, cid: int, backdoor: Backdoor
    ) -> None:
        await _fill(store, cid)
        kept = await store.head(cid)
        events = await store.events(cid)
        for ev in events[-2:]:
            await backdoor.delete("audit_events", id=ev.id)
        await backdoor.set_head(cid, 3, events[2].hash)
        assert await store.verify(cid) == []  # the database agrees with itself
        problems = await store.verify(cid, expect=kept)
        assert _kinds(problems) == [(None, "truncated")]
        assert "5 events" in problems[0].problem

    async def test_a_head_kept_earlier_still_verifies_after_the_trail_grew(
        self, store: Store, cid: int, backdoor: Backdoor
    ) -> None:
        assert await store.verify(cid, expect=await store.head(cid)) == []  # empty: 0:000…
        await _fill(store, cid)
        kept = await store.head(cid)
        await store.append(cid, KEY, "completed", "sync")
        assert await store.verify(cid, expect=kept) == []
        other = ChainHead(kept.count, "ab" * 32)
        assert _kinds(await store.verify(cid, expect=other)) == [(None, "head-mismatch")]

    async def test_rotation_keeps_old_links_verifiable_under_a_new_version(
        self, store: Store, cid: int, vault: Vault
    ) -> None:
        await _fill(store, cid)
        await vault.rotate(store)
        after = await store.append(cid, KEY, "completed", "sync")
        assert after.key_version == 2
        assert {e.key_version for e in await store.events(cid)} == {1, 2}
        assert await store.verify(cid) == []

    async def test_every_status_a_record_takes_is_an_event_in_the_same_transaction(
        self, store: Store, cid: int
    ) -> None:
        rec = await store.upsert_record(cid, "purchase", "id-1", reference="PO-00412")
        await store.upsert_record(cid, "purchase", "id-1", reference="PO-00412", month="2026-12")
        held = await store.set_record_status(
            rec.id,
            "held",
            "WID-100: invoiced 10, received in QAD 6",
            actor="cli:alice",
            trail=[TrailEntry(KEY, "held", "cli:alice", {"why": "receipt"})],
        )
        await store.set_record_status(rec.id, "held", "still waiting")  # no change, no event
        events = await store.trail(cid, KEY)
        assert [(e.event, e.actor) for e in events] == [
            ("status", "store"),
            ("status", "cli:alice"),
            ("held", "cli:alice"),
        ]
        assert events[0].data == {"cin7_id": "id-1", "from": None, "to": "pending", "reason": None}
        assert events[1].data == {
            "cin7_id": "id-1",
            "from": "pending",
            "to": "held",
            "reason": held.reason,
        }

        async def crash_before_commit() -> None:
            async with store.transaction():
                await store.set_record_status(rec.id, "posted", actor="sync")
                raise RuntimeError("crash before commit")

        with pytest.raises(RuntimeError):
            await crash_before_commit()
        assert (await store.get_record_by_id(rec.id)).status == "held"  # type: ignore[union-attr]
        assert len(await store.trail(cid, KEY)) == 3
        assert await store.verify(cid) == []

    async def test_a_status_changed_behind_the_stores_back_is_named(
        self, store: Store, cid: int, backdoor: Backdoor
    ) -> None:
        rec = await store.upsert_record(cid, "purchase", "id-1", reference="PO-00412")
        await store.set_record_status(rec.id, "blocked", "missing item WID-9")
        await store.upsert_record(cid, "supplier", "s-1", reference="Acme Ltd")
        await backdoor.update("records", rec.id, status="posted")
        problems = await store.verify(cid)
        assert [(p.record_key, p.kind) for p in problems] == [(KEY, "status-without-event")]
        assert "blocked" in problems[0].problem

    async def test_a_deleted_key_version_is_named(
        self, store: Store, cid: int, backdoor: Backdoor
    ) -> None:
        await _fill(store, cid)
        first = (await store.events(cid))[0]
        await backdoor.delete("audit_keys", version=1)
        assert _kinds(await store.verify(cid)) == [(first.id, "unknown-key-version")]

    async def test_chains_of_connections_are_independent(
        self, store: Store, cid: int, backdoor: Backdoor
    ) -> None:
        other = await store.add_connection(make_config("other"))
        assert other.id is not None
        await _fill(store, cid)
        await store.append(other.id, KEY, "fetched", "sync")
        assert (await store.trail(other.id, KEY))[0].prev_hash == GENESIS
        await backdoor.delete("audit_events", connection_id=cid)
        assert await store.verify(other.id) == []
        assert await store.verify(cid) != []

    async def test_concurrent_appends_never_fork_the_chain(self, store: Store, cid: int) -> None:
        await asyncio.gather(
            *(
                store.append(cid, f"purchase:PO-{i % 3}", "fetched", "sync", {"i": i})
                for i in range(24)
            )
        )
        assert await store.verify(cid) == []
        seqs = sorted(e.seq for e in await store.trail(cid, "purchase:PO-0"))
        assert seqs == list(range(1, 9))

    async def test_an_append_that_rolls_back_leaves_no_trace(self, store: Store, cid: int) -> None:
        await store.append(cid, KEY, "fetched", "sync")

        async def crash_before_commit() -> None:
            async with store.transaction():
                await store.append(cid, KEY, "intent", "sync")
                raise RuntimeError("crash before commit")

        with pytest.raises(RuntimeError):
            await crash_before_commit()
        after = await store.append(cid, KEY, "intent", "sync")
        assert after.seq == 2
        assert await store.verify(cid) == []

    async def test_an_event_needs_key_name_and_actor(self, store: Store, cid: int) -> None:
        with pytest.raises(StoreError):
            await store.append(cid, KEY, "", "sync")  # type: ignore[arg-type]
        with pytest.raises(StoreError, match="unknown audit event"):
            await store.append(cid, KEY, "deleted", "sync")  # type: ignore[arg-type]
        with pytest.raises(StoreError):
            await store.append(cid, "", "fetched", "sync")
        with pytest.raises(ConfigError, match="no connection"):
            await store.append(424242, KEY, "fetched", "sync")

    async def test_awkward_json_values_survive_the_round_trip(self, store: Store, cid: int) -> None:
        data = {
            "qty": 0.1,
            "big": 1e20,
            "huge": 2**70,
            "name": "Café Ünïcode — 東京",
            "nested": [1.5, None, True, {"b": 2, "a": 1}],
            "nan": float("nan"),
        }
        event = await store.append(cid, KEY, "fetched", "sync", data)
        assert event.data["nan"] == "nan"  # JSON has no NaN; it is kept as text
        assert (await store.trail(cid, KEY))[0].data == event.data
        assert await store.verify(cid) == []

    async def test_naive_times_are_refused(self, store: Store, cid: int) -> None:
        with pytest.raises(StoreError, match="timezone-aware"):
            await store.append(cid, KEY, "fetched", "sync", at=datetime(2024, 5, 6))


class AlertsContract:
    async def test_alert_rules_keep_their_destination_encrypted(
        self, store: Store, cid: int, vault: Vault, backdoor: Backdoor
    ) -> None:
        target = {"url": "https://hooks.example.test/T0/SECRET-PATH"}
        rule = await store.add_alert_rule(cid, "webhook", target, ["failed", "auth"])
        assert (rule.channel, rule.conditions, rule.target) == (
            "webhook",
            ("failed", "auth"),
            target,
        )
        [listed] = await store.list_alert_rules(cid)
        assert listed == rule
        [token] = await backdoor.values("alert_rules", "target_enc")
        assert "SECRET-PATH" not in token
        assert json.loads(vault.decrypt(token)) == target

        other = await store.add_connection(make_config("other"))
        assert other.id is not None
        assert await store.list_alert_rules(other.id) == []
        assert await store.remove_alert_rule(other.id, rule.id) is False
        assert await store.remove_alert_rule(cid, rule.id) is True
        assert await store.list_alert_rules(cid) == []

    async def test_a_condition_is_claimed_by_one_caller_per_change(
        self, store: Store, cid: int, backdoor: Backdoor
    ) -> None:
        rule = await store.add_alert_rule(cid, "webhook", {"url": "https://h.test/x"}, ["failed"])
        assert await store.alert_states(rule.id) == {}
        assert await store.claim_alert(rule.id, "failed", active=True) is True
        assert await store.claim_alert(rule.id, "failed", active=True) is False
        assert await store.alert_states(rule.id) == {"failed": True}
        await store.unclaim_alert(rule.id, "failed", active=True)  # the delivery failed
        assert await store.alert_states(rule.id) == {"failed": False}
        assert await store.claim_alert(rule.id, "failed", active=True) is True
        await store.alert_sent(rule.id, "failed")
        assert await store.claim_alert(rule.id, "failed", active=False) is True
        assert await store.alert_states(rule.id) == {"failed": False}

        assert await store.remove_alert_rule(cid, rule.id) is True
        assert await backdoor.count("alert_states") == 0

    async def test_alert_rules_go_with_their_connection_and_rotate_with_the_key(
        self, store: Store, cid: int, vault: Vault, backdoor: Backdoor
    ) -> None:
        rule = await store.add_alert_rule(cid, "webhook", {"url": "https://h.test/x"}, ["failed"])
        await store.claim_alert(rule.id, "failed", active=True)
        new = Vault.ephemeral()
        assert await store.reencrypt_secrets(lambda t: new.encrypt(vault.decrypt(t))) == 3
        [token] = await backdoor.values("alert_rules", "target_enc")
        assert json.loads(new.decrypt(token)) == {"url": "https://h.test/x"}

        assert await store.remove_connection("acme") is True
        assert await backdoor.count("alert_rules") == 0
        assert await backdoor.count("alert_states") == 0


class StoreContract(
    AlertsContract,
    ConnectionsContract,
    CursorsAndSnapshotsContract,
    RecordsContract,
    RunsContract,
    TransactionsContract,
    PostingsContract,
    MappingsContract,
    TrailContract,
):
    """Every part of the contract; subclass it as ``Test<Backend>Store`` with the fixtures."""
