"""Long-running processes scope secrets per unit of work: the embedded scheduler (`run`) per
connection's turn, a job worker per job. What one turn or job handled is masked in its own lines,
never seen by the next one, and never gathered in the process's (the command's) scope."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import httpx
import pytest
from procrastinate import App, JobContext
from procrastinate.jobs import Job
from procrastinate.testing import InMemoryConnector
from store_helpers import make_config

from ml_connector.cli.logs import report_turn
from ml_connector.jobs.tasks import RUNTIME_KEY, JobOutcome, JobRuntime, sync_task
from ml_connector.masking import MASK, keep_secret, kept_secrets, secret_scope
from ml_connector.runner import Turn, look_once
from ml_connector.testing import FakeClock, MemoryStore
from ml_connector.usecases import Remotes
from ml_connector.vault import Vault

SECRETS = {
    "acme": ("acme-cin7-key-0001", "acme-qad-password"),
    "beta": ("beta-cin7-key-0002", "beta-qad-password"),
}


async def _store(**settings: object) -> MemoryStore:
    store = MemoryStore(Vault.ephemeral(), clock=FakeClock().utcnow)
    for name, (key, password) in SECRETS.items():
        await store.add_connection(
            make_config(
                name,
                cin7_application_key=key,
                qad_password=password,
                schedule="every 15m",
                **settings,
            )
        )
    return store


def _refusing() -> Remotes:
    """Both remotes refuse the credentials at once: each pass stops after reading its secrets."""
    return Remotes(
        cin7_transport=httpx.MockTransport(lambda request: httpx.Response(403, json=[])),
        qad_transport=httpx.MockTransport(lambda request: httpx.Response(401, json={})),
    )


async def test_each_scheduler_turn_keeps_its_connections_secrets_only() -> None:
    store = await _store()
    seen: dict[str, frozenset[str]] = {}

    def on_turn(turn: Turn) -> None:
        seen[turn.name] = kept_secrets()

    with secret_scope():  # the `run` command's own scope
        await look_once(
            store,
            now=lambda: datetime(2026, 12, 1, tzinfo=UTC),
            on_turn=on_turn,
            remotes=_refusing(),
        )
        assert kept_secrets() == frozenset()  # nothing gathered across turns

    assert seen == {name: frozenset(secrets) for name, secrets in SECRETS.items()}


async def test_each_job_keeps_its_connections_secrets_only() -> None:
    # Paused connections: a schedule slot's job reads the connection (and its secrets), then
    # finds it paused and reports so, without a pass.
    store = await _store(paused=True)
    outcomes: list[tuple[JobOutcome, frozenset[str]]] = []
    runtime = JobRuntime(store, report=lambda outcome: outcomes.append((outcome, kept_secrets())))
    app = App(connector=InMemoryConnector())

    def context(job_id: int) -> JobContext:
        job = Job(id=job_id, queue="default", lock=None, queueing_lock=None, task_name="sync")
        return JobContext(
            app=app,
            job=job,
            start_timestamp=0.0,
            additional_context={RUNTIME_KEY: runtime},
            abort_reason=lambda: None,
        )

    with secret_scope():  # the `worker` command's own scope
        await sync_task(context(1), "acme", timestamp=1_764_000_000)
        await sync_task(context(2), "beta", timestamp=1_764_000_000)
        assert kept_secrets() == frozenset()

    assert [(o.connection, o.action) for o, _ in outcomes] == [
        ("acme", "paused"),
        ("beta", "paused"),
    ]
    assert [kept for _, kept in outcomes] == [
        frozenset(SECRETS["acme"]),
        frozenset(SECRETS["beta"]),
    ]


def test_a_turns_line_masks_the_secrets_its_scope_remembers(
    capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    log = logging.getLogger("ml_connector.run.test")
    with caplog.at_level(logging.INFO, logger=log.name), secret_scope():
        keep_secret("acme-qad-password")
        report_turn(log, "acme", "failed", "QAD said acme-qad-password is wrong")

    line = capsys.readouterr().err
    assert "acme-qad-password" not in line
    assert f"acme: failed: QAD said {MASK} is wrong" in line
    assert [r.detail for r in caplog.records] == [f"QAD said {MASK} is wrong"]  # type: ignore[attr-defined]
