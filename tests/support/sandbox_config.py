"""The connection settings of a test that syncs against both sandboxes."""

from __future__ import annotations

from typing import Any

from ml_connector.sandbox.cin7 import Cin7Sandbox
from ml_connector.sandbox.qad import QadSandbox
from ml_connector.store.models import ConnectionConfig


def sandbox_config(
    name: str, cin7: Cin7Sandbox, qad: QadSandbox, *, cin7_url: str, qad_url: str, **extra: Any
) -> ConnectionConfig:
    """Connection `name` on the Cin7 sandbox served at `cin7_url` and the QAD tenant `name` at
    `qad_url` (its base URL), loopback allowed and Cin7's rate limit out of the way; `extra`
    settings (a QAD profile, say) go beside them."""
    tenant = qad.tenant(name)
    settings: dict[str, Any] = {
        "cin7_account_id": cin7.account_id,
        "cin7_application_key": cin7.application_key,
        "cin7_base_url": cin7_url + "/ExternalApi/v2/",
        "qad_url": qad_url,
        "qad_client_id": tenant.client_id,
        "qad_username": tenant.username,
        "qad_password": tenant.password,
        "qad_domain": tenant.domain,
        "qad_entity": tenant.entity,
        "allow_local": True,
        "cin7_rate_limit": 100_000,
        **extra,
    }
    return ConnectionConfig.from_settings(name, settings)
