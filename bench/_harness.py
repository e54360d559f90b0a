"""What the proof benches share: sandboxes in their own processes, a home, the real command.

Each bench runs `ml-connector` exactly as a user would, as a child process, against both
sandboxes served on 127.0.0.1 by `SandboxProcess`. The connection is made with
`ml-connector connection add` and `mapping suggest --apply`; timeouts the CLI has no flag for
go in through the store, as an operator's `connection edit` would. Figures are judged from the
sandboxes' books (`ml_connector.sandbox.truth`), never from the connector's store.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psycopg
from sqlalchemy.engine import make_url

from ml_connector import eventloop
from ml_connector.sandbox.process import SandboxProcess
from ml_connector.vault import Vault

NAME = "bench"
ACCOUNT = "6c0a3f52-8d1e-4b7a-9f26-3e5d4c2b1a00"
KEY = "0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e"
CLIENT_ID = "ba5eba11ba5eba11ba5eba11ba5eba11"
PASSWORD = "bench-not-a-secret"
CLI = [sys.executable, "-c", "from ml_connector.cli import main; main()"]
# Catalogue SKUs that every suggested mapping covers: purchases of these always reach QAD.
SKUS = (
    "WID-100",
    "WID-150",
    "BRK-20",
    "BRK-40",
    "NUT-M8",
    "NUT-M10",
    "WSH-M8",
    "BOX-S",
    "BOX-M",
    "BOX-L",
    "SCR-4X30",
    "TAPE-DUCT",
)


_STARTED = time.monotonic()


def log(message: str) -> None:
    print(f"[{time.monotonic() - _STARTED:7.1f} s] {message}", file=sys.stderr, flush=True)


@dataclass
class Pass:
    """One `ml-connector sync` child: its exit code (None when it was killed) and time."""

    exit_code: int | None
    elapsed_s: float
    doc: dict[str, Any] | None = None


class Home:
    """A temporary `ML_CONNECTOR_HOME` (and, given a PostgreSQL URL, a fresh database)."""

    def __init__(self, database_url: str | None) -> None:
        self.path = Path(tempfile.mkdtemp(prefix="mlc-bench-"))
        self.env = {
            **os.environ,
            "ML_CONNECTOR_HOME": str(self.path),
            "ML_CONNECTOR_MASTER_KEY": Vault.generate_key(),
        }
        self.env.pop("ML_CONNECTOR_DATABASE_URL", None)
        self.env.pop("ML_CONNECTOR_DEBUG", None)
        self._admin_url: str | None = None
        self._database: str | None = None
        if database_url:
            self._database = f"mlc_bench_{secrets.token_hex(6)}"
            self._admin_url = _libpq(database_url)
            with psycopg.connect(self._admin_url, autocommit=True) as admin:
                admin.execute(f'CREATE DATABASE "{self._database}"')
            url = make_url(database_url).set(database=self._database)
            self.env["ML_CONNECTOR_DATABASE_URL"] = url.render_as_string(hide_password=False)

    @property
    def backend(self) -> str:
        return "postgresql" if self._database else "sqlite"

    def close(self) -> None:
        if self._admin_url and self._database:
            with psycopg.connect(self._admin_url, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{self._database}" WITH (FORCE)')


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@contextlib.contextmanager
def sandboxes(
    *, suppliers: int, seed: int, qad_args: Sequence[str] = ()
) -> Iterator[tuple[SandboxProcess, SandboxProcess]]:
    """Both sandboxes, empty of purchases, in their own processes."""
    cin7 = SandboxProcess(
        "cin7",
        "--seed",
        str(seed),
        "--suppliers",
        str(suppliers),
        "--purchases",
        "0",
        "--rate-limit",
        "1000000",
        "--account-id",
        ACCOUNT,
        "--application-key",
        KEY,
    )
    qad = SandboxProcess("qad", "--client-id", CLIENT_ID, "--password", PASSWORD, *qad_args)
    try:
        cin7.wait()
        qad.wait()
        yield cin7, qad
    finally:
        cin7.stop()
        qad.stop()


def cli(home: Home, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """`ml-connector ARGS` in a child process, to completion."""
    done = subprocess.run([*CLI, *args], env=home.env, capture_output=True, text=True, timeout=3600)
    if check and done.returncode != 0:
        raise RuntimeError(f"ml-connector {' '.join(args)} exited {done.returncode}: {done.stderr}")
    return done


def connect(home: Home, cin7: SandboxProcess, qad: SandboxProcess, **options: Any) -> None:
    """Add the bench connection with the real command and apply the suggested mappings."""
    cli(
        home,
        "connection",
        "add",
        NAME,
        "--cin7-account-id",
        ACCOUNT,
        "--cin7-application-key",
        KEY,
        "--cin7-base-url",
        cin7.base,
        "--qad-url",
        qad.base,
        "--qad-client-id",
        CLIENT_ID,
        "--qad-username",
        "integration",
        "--qad-password",
        PASSWORD,
        "--qad-domain",
        "10USA",
        "--qad-entity",
        "10USACO",
        "--allow-local",
        "--cin7-rate-limit",
        "1000000",
    )
    if options:
        eventloop.run(_set_options(home, options))
    cli(home, "mapping", "suggest", NAME, "--apply")


async def _set_options(home: Home, options: dict[str, Any]) -> None:
    from ml_connector.settings import load_settings
    from ml_connector.store.sql import SqlStore

    saved = dict(os.environ)
    os.environ.update(home.env)
    try:
        settings = load_settings()
        store = await SqlStore.open(settings.database_url, Vault.from_settings(settings))
        try:
            config = await store.get_connection(NAME)
            await store.update_connection(config.with_settings(options))
        finally:
            await store.close()
    finally:
        os.environ.clear()
        os.environ.update(saved)


def sync(home: Home, *, kill_after: float | None = None) -> Pass:
    """`ml-connector sync bench --json`; SIGKILLed after `kill_after` seconds if it runs on."""
    started = time.monotonic()
    proc = subprocess.Popen(
        [*CLI, "sync", NAME, "--json"],
        env=home.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        out, _ = proc.communicate(timeout=kill_after if kill_after is not None else 3600)
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, signal.SIGKILL)
        proc.communicate()
        return Pass(None, time.monotonic() - started)
    doc = None
    with contextlib.suppress(ValueError, IndexError):
        doc = json.loads(out.strip().splitlines()[-1])
    return Pass(proc.returncode, time.monotonic() - started, doc)


def records(home: Home, status: str) -> list[dict[str, Any]]:
    """The purchase records with this status, as `ml-connector records --json` shows them."""
    done = cli(
        home,
        "records",
        NAME,
        "--status",
        status,
        "--kind",
        "purchase",
        "--limit",
        "0",
        "--json",
    )
    rows: list[dict[str, Any]] = json.loads(done.stdout)["records"]
    return rows


class Cin7Control:
    """The Cin7 sandbox's `/_sandbox/` verbs and its API, for building the scenario."""

    def __init__(self, sandbox: SandboxProcess) -> None:
        self.control = sandbox.control
        self.http = httpx.Client(timeout=60)
        self.api = httpx.Client(
            base_url=sandbox.base,
            timeout=60,
            headers={"api-auth-accountid": ACCOUNT, "api-auth-applicationkey": KEY},
        )

    def post(self, path: str, body: dict[str, Any] | None = None) -> Any:
        answer = self.http.post(f"{self.control}/{path}", json=body or {})
        if answer.status_code != 200:
            raise RuntimeError(f"POST /_sandbox/{path}: {answer.status_code} {answer.text}")
        return answer.json()

    def get(self, path: str) -> Any:
        return self.http.get(f"{self.control}/{path}").raise_for_status().json()

    def suppliers(self) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = (
            self.api.get("supplier", params={"Limit": 1000}).raise_for_status().json()
        )["SupplierList"]
        return rows

    def close(self) -> None:
        self.http.close()
        self.api.close()
