"""The settings of a connection that syncs the Cin7 sandbox into a QAD sandbox tenant."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ml_connector.sandbox.cin7 import Cin7Sandbox
    from ml_connector.sandbox.qad import QadSandbox


def sandbox_settings(
    cin7: Cin7Sandbox, qad: QadSandbox, *, cin7_url: str, qad_url: str, tenant: str = "acme"
) -> dict[str, Any]:
    """Flat connection settings (`ConnectionConfig.from_settings`) for the Cin7 sandbox served
    at `cin7_url` and QAD's `tenant` at `qad_url` (the tenant's base URL), loopback allowed."""
    held = qad.tenant(tenant)
    return {
        "cin7_account_id": cin7.account_id,
        "cin7_application_key": cin7.application_key,
        "cin7_base_url": f"{cin7_url}/ExternalApi/v2/",
        "qad_url": qad_url,
        "qad_client_id": held.client_id,
        "qad_username": held.username,
        "qad_password": held.password,
        "qad_domain": held.domain,
        "qad_entity": held.entity,
        "allow_local": True,
    }
