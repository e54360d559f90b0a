"""Alerts are evaluated after every pass, from the database: a condition fires once while it
lasts, clears with a recovery notice, is sent once when two processes evaluate together, and is
retried on the next pass when delivery failed. Destinations are a local webhook receiver and a
local SMTP sink; the store is opened twice as two processes would."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

import pytest
from alert_sinks import smtp_sink, webhook_receiver
from sqlalchemy import text
from usecase_world import Setup

from ml_connector.store.models import AlertRule, Record
from ml_connector.usecases import edit_connection, sync_connection
from ml_connector.usecases.alerts import Notice, add_alert, evaluate_alerts, list_alerts


async def _fail_one(setup: Setup) -> Record:
    config = await setup.config()
    assert config.id is not None
    posted = await setup.first.list_records(config.id, status="posted", kind="purchase")
    record = posted[0]
    await setup.first.set_record_status(record.id, "failed", "QAD refused: supplier on hold")
    return record


async def test_fires_once_while_it_lasts_then_sends_the_recovery(setup: Setup) -> None:
    with webhook_receiver() as hook:
        await add_alert(setup.first, "acme", "webhook", {"url": hook.url}, ["failed"])
        await sync_connection(setup.first, "acme", remotes=setup.remotes)
        assert hook.received == []
        record = await _fail_one(setup)

        for _ in range(3):
            await sync_connection(setup.first, "acme", remotes=setup.remotes)
        assert [(n["condition"], n["state"]) for n in hook.received] == [("failed", "firing")]
        first = hook.received[0]
        assert first["connection"] == "acme"
        assert "1 records failed" in first["detail"]
        assert first["text"].startswith("[ALERT] ml-connector acme: failed")

        await setup.first.set_record_status(record.id, "posted", None)
        await sync_connection(setup.first, "acme", remotes=setup.remotes)
        await sync_connection(setup.first, "acme", remotes=setup.remotes)
        assert [n["state"] for n in hook.received] == ["firing", "resolved"]


async def test_the_audit_rule_fires_when_a_status_is_changed_behind_the_stores_back(
    setup: Setup,
) -> None:
    with webhook_receiver() as hook:
        await add_alert(setup.first, "acme", "webhook", {"url": hook.url}, ["audit"])
        await sync_connection(setup.first, "acme", remotes=setup.remotes)
        assert hook.received == []  # the chain verifies: nothing to say
        async with setup.first.engine.begin() as c:
            await c.execute(
                text(
                    "UPDATE records SET status = 'ignored' WHERE id = (SELECT MIN(id) FROM records)"
                )
            )
        await sync_connection(setup.first, "acme", remotes=setup.remotes)
        assert [(n["condition"], n["state"]) for n in hook.received] == [("audit", "firing")]
        assert hook.received[0]["detail"] == (
            "audit chain broken: 1 status-without-event (`ml-connector audit verify acme`)"
        )


async def test_two_processes_evaluating_at_once_send_once(setup: Setup) -> None:
    with webhook_receiver() as hook:
        await add_alert(setup.first, "acme", "webhook", {"url": hook.url}, ["credentials"])
        config = await setup.config()
        assert config.id is not None
        await setup.first.set_health(config.id, False, "QAD refused the password")

        sent = await asyncio.gather(
            *(evaluate_alerts(store, "acme") for store in (setup.first, setup.second) * 3)
        )

        assert sum(len(s) for s in sent) == 1
        assert [(n["condition"], n["state"]) for n in hook.received] == [("credentials", "firing")]
        assert hook.received[0]["detail"] == "QAD refused the password"


async def test_a_failed_delivery_is_retried_on_the_next_pass(
    setup: Setup, caplog: pytest.LogCaptureFixture
) -> None:
    with webhook_receiver() as hook:
        await add_alert(setup.first, "acme", "webhook", {"url": hook.url}, ["failed"])
        await sync_connection(setup.first, "acme", remotes=setup.remotes)
        await _fail_one(setup)
        hook.status = 500

        with caplog.at_level(logging.WARNING):
            result = await sync_connection(setup.first, "acme", remotes=setup.remotes)
        assert result.kind == "sync"  # the pass completed; delivery is not its outcome
        assert hook.received == []
        logged = "\n".join(r.getMessage() for r in caplog.records)
        assert "delivery failed (HTTP 500)" in logged
        assert "SECRET" not in logged
        assert hook.url not in logged

        hook.status = 200
        await sync_connection(setup.first, "acme", remotes=setup.remotes)
        await sync_connection(setup.first, "acme", remotes=setup.remotes)
        assert [(n["condition"], n["state"]) for n in hook.received] == [("failed", "firing")]


async def test_email_alerts_and_recovery_through_smtp(setup: Setup) -> None:
    with smtp_sink() as mail:
        target = {
            "to": "ops@example.test",
            "host": mail.host,
            "port": mail.port,
            "user": "alerts",
            "password": "smtp-pass-SECRET",
            "from": "connector@example.test",
            "starttls": False,
        }
        await add_alert(setup.first, "acme", "email", target, ["credentials", "audit"])
        config = await setup.config()
        assert config.id is not None
        await setup.first.set_health(config.id, False, "Cin7 refused the application key")

        await evaluate_alerts(setup.first, "acme")
        await evaluate_alerts(setup.second, "acme")
        await setup.first.set_health(config.id, True)
        await evaluate_alerts(setup.first, "acme")

        subjects = [m["Subject"] for m in mail.messages]
        assert len(subjects) == 2, subjects
        assert subjects[0].startswith("[ALERT] ml-connector acme: credentials")
        assert subjects[1].startswith("[RESOLVED] ml-connector acme: credentials")
        assert mail.messages[0]["To"] == "ops@example.test"
        assert "Cin7 refused the application key" in str(mail.messages[0].get_payload())
        assert len(mail.logins) == 2  # logged in with the stored user and password


async def test_targets_are_encrypted_at_rest_and_survive_key_rotation(setup: Setup) -> None:
    with webhook_receiver() as hook:
        await add_alert(setup.first, "acme", "webhook", {"url": hook.url}, ["credentials"])
        async with setup.first.engine.connect() as c:
            stored = (await c.execute(text("SELECT target_enc, conditions FROM alert_rules"))).all()
        assert len(stored) == 1
        assert "SECRET" not in stored[0][0]
        assert "127.0.0.1" not in stored[0][0]

        result = await setup.vault.rotate(setup.first)
        assert result.reencrypted == 3  # two connection secrets and the alert's target
        async with setup.first.engine.connect() as c:
            rotated = (await c.execute(text("SELECT target_enc FROM alert_rules"))).scalar_one()
        assert rotated != stored[0][0]

        (rule,) = await list_alerts(setup.first, "acme")
        assert rule.target == {"url": hook.url}
        assert "SECRET" not in repr(rule)
        config = await setup.config()
        assert config.id is not None
        await setup.first.set_health(config.id, False, "QAD refused the password")
        await evaluate_alerts(setup.first, "acme")
        assert [n["state"] for n in hook.received] == ["firing"]


async def test_an_old_hold_fires_once_its_age_passes_the_limit(setup: Setup) -> None:
    await sync_connection(setup.first, "acme", remotes=setup.remotes)
    record = await _fail_one(setup)
    await setup.first.set_record_status(record.id, "held", "waiting for the receipt")
    await add_alert(setup.first, "acme", "webhook", {"url": "http://127.0.0.1:9/x"}, ["hold:5"])
    got: list[Notice] = []

    async def collect(_rule: AlertRule, notice: Notice) -> None:
        got.append(notice)

    soon = datetime.now(UTC) + timedelta(days=4)
    later = datetime.now(UTC) + timedelta(days=6)
    assert await evaluate_alerts(setup.first, "acme", now=soon, deliver=collect) == []
    await evaluate_alerts(setup.first, "acme", now=later, deliver=collect)
    await evaluate_alerts(setup.first, "acme", now=later, deliver=collect)
    assert [(n.condition, n.state) for n in got] == [("hold:5", "firing")]
    assert "over 5 days" in got[0].detail


async def test_no_sync_fires_after_n_intervals_and_recovers_with_a_successful_sync(
    setup: Setup,
) -> None:
    await edit_connection(setup.first, "acme", {"schedule": "every 15m"})
    await add_alert(setup.first, "acme", "webhook", {"url": "http://127.0.0.1:9/x"}, ["no-sync:2"])
    await sync_connection(setup.first, "acme", remotes=setup.remotes)
    got: list[Notice] = []

    async def collect(_rule: AlertRule, notice: Notice) -> None:
        got.append(notice)

    now = datetime.now(UTC)
    one_late = now + timedelta(minutes=20)  # one interval missed: not yet
    two_late = now + timedelta(minutes=31)
    assert await evaluate_alerts(setup.first, "acme", now=one_late, deliver=collect) == []
    await evaluate_alerts(setup.first, "acme", now=two_late, deliver=collect)
    await evaluate_alerts(setup.second, "acme", now=two_late, deliver=collect)
    assert [(n.condition, n.state) for n in got] == [("no-sync:2", "firing")]
    assert "no successful sync for 2 intervals (every 15m)" in got[0].detail

    await sync_connection(setup.first, "acme", remotes=setup.remotes)
    await evaluate_alerts(setup.first, "acme", deliver=collect)
    assert [(n.condition, n.state) for n in got] == [
        ("no-sync:2", "firing"),
        ("no-sync:2", "resolved"),
    ]
    assert got[1].detail.startswith("synced successfully at ")


async def test_a_delivery_cut_short_by_a_stop_is_sent_by_the_next_pass(setup: Setup) -> None:
    await add_alert(setup.first, "acme", "webhook", {"url": "http://127.0.0.1:9/x"}, ["failed"])
    await sync_connection(setup.first, "acme", remotes=setup.remotes)
    await _fail_one(setup)
    started = asyncio.Event()
    got: list[Notice] = []

    async def hang(_rule: AlertRule, _notice: Notice) -> None:
        started.set()
        await asyncio.Event().wait()  # until the process is stopped

    async def collect(_rule: AlertRule, notice: Notice) -> None:
        got.append(notice)

    stopped = asyncio.create_task(evaluate_alerts(setup.first, "acme", deliver=hang))
    await started.wait()
    stopped.cancel()  # what Ctrl-C or SIGTERM does to `run` mid-delivery
    with pytest.raises(asyncio.CancelledError):
        await stopped

    await evaluate_alerts(setup.second, "acme", deliver=collect)
    await evaluate_alerts(setup.second, "acme", deliver=collect)
    assert [(n.condition, n.state) for n in got] == [("failed", "firing")]
