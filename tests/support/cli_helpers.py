"""Shared helpers for the CLI tests: sandboxes over HTTP and an in-process `ml-connector` runner."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from typer.testing import CliRunner, Result

from ml_connector.cli import app
from ml_connector.sandbox.cin7 import Cin7Sandbox, create_cin7_sandbox
from ml_connector.sandbox.qad import QadSandbox, QadTenant, create_qad_sandbox
from ml_connector.serve import ServerThread

RATE_LIMIT = 100_000

# Variables that could point a command at the user's own data or credentials.
_CLEARED = (
    "ML_CONNECTOR_DATABASE_URL",
    "ML_CONNECTOR_MASTER_KEY",
    "ML_CONNECTOR_CIN7_APPLICATION_KEY",
    "ML_CONNECTOR_QAD_PASSWORD",
    "ML_CONNECTOR_DEBUG",
    "ML_CONNECTOR_EVENT_LOOP",
)


@dataclass
class Sandboxes:
    cin7: Cin7Sandbox
    qad: QadSandbox
    cin7_url: str
    qad_root: str

    @property
    def tenant(self) -> QadTenant:
        return self.qad.tenant("acme")

    @property
    def qad_url(self) -> str:
        return self.qad.base_url(self.qad_root, "acme")

    def add_args(self, name: str, **overrides: str | None) -> list[str]:
        """`connection add` arguments for these sandboxes; an override of None drops the flag."""
        t = self.tenant
        values: dict[str, str | None] = {
            "--cin7-account-id": self.cin7.account_id,
            "--cin7-application-key": self.cin7.application_key,
            "--cin7-base-url": f"{self.cin7_url}/ExternalApi/v2/",
            "--qad-url": self.qad_url,
            "--qad-client-id": t.client_id,
            "--qad-username": t.username,
            "--qad-password": t.password,
            "--qad-domain": t.domain,
            "--qad-entity": t.entity,
            "--cin7-rate-limit": str(RATE_LIMIT),
        }
        values.update(overrides)
        args = [name, "--allow-local"]
        for flag, value in values.items():
            if value is not None:
                args += [flag, value]
        return args

    def qad_counts(self) -> dict[str, int]:
        state = self.tenant.state()
        return {
            "purchase_orders": len(state["purchaseOrders"]),
            "receipts": len(state["receipts"]),
            "supplier_invoices": len(state["supplierInvoices"]),
            "suppliers": len(state["suppliers"]),
        }


@contextmanager
def start_sandboxes(
    *,
    purchases: int = 40,
    suppliers: int = 15,
    application_key: str | None = None,
    qad_password: str | None = None,
) -> Iterator[Sandboxes]:
    cin7 = create_cin7_sandbox(
        seed=7,
        suppliers=suppliers,
        purchases=purchases,
        rate_limit=RATE_LIMIT,
        application_key=application_key,
    )
    qad = create_qad_sandbox(seed=7, password=qad_password)
    with ServerThread(cin7.app) as cin7_server, ServerThread(qad.app) as qad_server:
        yield Sandboxes(cin7, qad, cin7_server.url, qad_server.url)


class Cli:
    """Invokes `ml-connector` in-process with ``ML_CONNECTOR_HOME`` set to ``home``."""

    def __init__(self, home: Path, **env: str | None) -> None:
        self.home = home
        self.env: dict[str, str | None] = {name: None for name in _CLEARED}
        self.env["ML_CONNECTOR_HOME"] = str(home)
        self.env.update(env)
        self.results: list[Result] = []

    @property
    def database(self) -> Path:
        return self.home / "ml-connector.db"

    def __call__(self, *args: str, input: str | None = None, **env: str | None) -> Result:
        result = CliRunner().invoke(
            app, list(args), input=input, env={**self.env, **env}, catch_exceptions=False
        )
        self.results.append(result)
        assert "Traceback" not in result.stdout + result.stderr, result.stderr
        return result

    def ok(self, *args: str, **kwargs: Any) -> Result:
        result = self(*args, **kwargs)
        assert result.exit_code == 0, (result.exit_code, result.stdout, result.stderr)
        return result

    def json(self, *args: str, expect: int = 0) -> Any:
        result = self(*args, "--json")
        assert result.exit_code == expect, (result.exit_code, result.stdout, result.stderr)
        return json.loads(result.stdout)

    def all_output(self) -> str:
        return "".join(r.stdout + r.stderr for r in self.results)
