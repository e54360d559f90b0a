"""QAD Adaptive ERP simulator: tenants, OAuth, QAD's REST envelopes and rules, fault injection.

    from ml_connector.sandbox.qad import create_qad_sandbox

    sandbox = create_qad_sandbox(tenants=("acme",), token_ttl=1800)
    tenant = sandbox.tenant("acme")  # client_id, username, password, domain, entity
    transport = httpx.ASGITransport(app=sandbox.app)

The wire contract it serves is `docs/qad-rest.md`.
"""

from ml_connector.sandbox.qad.sandbox import QadSandbox, create_qad_sandbox
from ml_connector.sandbox.qad.tenant import QadTenant

__all__ = ["QadSandbox", "QadTenant", "create_qad_sandbox"]
