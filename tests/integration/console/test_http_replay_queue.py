"""On PostgreSQL the console's replay buttons queue a job for the workers instead of running the
pass inside the web request; a worker then replays as the operator who asked."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import psycopg
import pytest
from console_helpers import sign_in_as
from console_world import ConsoleWorld, build_console_world
from job_queue import jobs, libpq

from ml_connector.jobs.app import job_app
from ml_connector.jobs.defer import REPLAY_TASK
from ml_connector.jobs.tasks import JobOutcome
from ml_connector.jobs.worker import work
from ml_connector.passwords import Passwords
from ml_connector.store.users import SqlUsers
from ml_connector.usecases.users import add_user
from ml_connector.web import create_app

pytestmark = pytest.mark.postgres


@pytest.fixture
async def on_postgres(postgres_database: str) -> AsyncIterator[ConsoleWorld]:
    with psycopg.connect(libpq(postgres_database), autocommit=True) as conn:
        conn.execute("DROP SCHEMA public CASCADE")
        conn.execute("CREATE SCHEMA public")
    async with build_console_world(postgres_database) as built:
        yield built


@pytest.fixture
async def client(
    on_postgres: ConsoleWorld, passwords: Passwords
) -> AsyncIterator[httpx.AsyncClient]:
    await add_user(
        SqlUsers(on_postgres.store.engine), passwords, "otto", "operator", "pw-otto-1234", actor="t"
    )
    app = create_app(on_postgres.store, passwords=passwords)
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50125))
    async with httpx.AsyncClient(transport=transport, base_url="http://console.test") as c:
        yield c


def _url(world: ConsoleWorld) -> str:
    return world.store.engine.url.render_as_string(hide_password=False)


async def _record(client: httpx.AsyncClient, reference: str) -> dict:
    found = await client.get("/api/connections/acme/records", params={"reference": reference})
    [record] = [r for r in found.json()["records"] if r["reference"] == reference]
    return record


async def _replay_runs(client: httpx.AsyncClient) -> list[dict]:
    runs = (await client.get("/api/connections/acme/runs")).json()["runs"]
    return [r for r in runs if r["kind"] == "replay"]


async def test_the_queue_form_queues_a_replay_job_that_a_worker_runs(
    client: httpx.AsyncClient, on_postgres: ConsoleWorld
) -> None:
    token = await sign_in_as(client, "otto", "pw-otto-1234")
    failed = await _record(client, on_postgres.failed)

    answer = await client.post(
        "/connections/acme/errors/act",
        data={"csrf_token": token, "action": "replay-selected", "record_id": str(failed["id"])},
    )

    assert answer.status_code == 303
    (job,) = jobs(_url(on_postgres))
    shown = await client.get(answer.headers["location"])
    assert f"Queued replay job {job.id}; a worker runs it." in shown.text
    assert (job.task, job.status) == (REPLAY_TASK, "todo")
    assert job.args["references"] == [on_postgres.failed]
    assert job.args["actor"] == "console:otto"
    assert await _replay_runs(client) == []  # nothing ran in the request

    outcomes: list[JobOutcome] = []
    app = job_app(_url(on_postgres))
    async with app.open_async():
        await work(
            app,
            on_postgres.store,
            wait=False,
            on_outcome=outcomes.append,
            install_signal_handlers=False,
        )
    assert [(o.task, o.action, o.job_id) for o in outcomes] == [("replay", "replayed", job.id)]
    assert [r["actor"] for r in await _replay_runs(client)] == ["console:otto"]


async def test_the_api_answers_202_with_the_job_and_queues_the_same_replay_once(
    client: httpx.AsyncClient, on_postgres: ConsoleWorld
) -> None:
    token = await sign_in_as(client, "otto", "pw-otto-1234")
    headers = {"X-CSRF-Token": token}
    body = {"references": [on_postgres.failed, on_postgres.blocked]}

    first = await client.post("/api/connections/acme/replay", json=body, headers=headers)
    again = await client.post("/api/connections/acme/replay", json=body, headers=headers)

    assert first.status_code == 202, first.text
    (job,) = jobs(_url(on_postgres))
    assert first.json() == {
        "replayed": 0,
        "status": "queued",
        "queued": True,
        "job_id": job.id,
        "outcomes": [],
    }
    assert again.status_code == 202
    assert (again.json()["queued"], again.json()["job_id"]) == (False, None)
    assert await _replay_runs(client) == []
    unknown = await client.post("/api/connections/nobody/replay", json=body, headers=headers)
    assert unknown.status_code == 400
    assert len(jobs(_url(on_postgres))) == 1
