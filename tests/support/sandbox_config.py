"""The connection settings of a test that syncs against both sandboxes."""

from __future__ import annotations

from typing import Any

from ml_connector.sandbox.cin7 import Cin7Sandbox
from ml_connector.sandbox.connection import sandbox_settings
from ml_connector.sandbox.qad import QadSandbox
from ml_connector.store.models import ConnectionConfig


def sandbox_config(
    name: str, cin7: Cin7Sandbox, qad: QadSandbox, *, cin7_url: str, qad_url: str, **extra: Any
) -> ConnectionConfig:
    """Connection `name` on the Cin7 sandbox served at `cin7_url` and the QAD tenant `name` at
    `qad_url` (its base URL), loopback allowed and Cin7's rate limit out of the way; `extra`
    settings (a QAD profile, say) go beside them."""
    settings = sandbox_settings(cin7, qad, cin7_url=cin7_url, qad_url=qad_url, tenant=name)
    return ConnectionConfig.from_settings(name, {**settings, "cin7_rate_limit": 100_000, **extra})
