"""Shared QAD sandbox fixtures: a fresh sandbox and a client logged in to tenant `acme`.

Cin7 sandbox test modules define their own `sandbox` fixture, which takes precedence here.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from ml_connector.sandbox.qad import QadSandbox, create_qad_sandbox

ROOT = "http://qad.test"


@pytest.fixture
def sandbox() -> QadSandbox:
    return create_qad_sandbox()


@pytest.fixture
async def qad(sandbox: QadSandbox) -> AsyncIterator[httpx.AsyncClient]:
    """An in-process client carrying a bearer token of the integration user."""
    tenant = sandbox.tenant("acme")
    transport = httpx.ASGITransport(app=sandbox.app)
    async with httpx.AsyncClient(transport=transport, base_url=sandbox.base_url(ROOT)) as client:
        answer = await client.post(
            "/oauth/token",
            data={
                "client_id": tenant.client_id,
                "username": tenant.username,
                "password": tenant.password,
                "grant_type": "password",
            },
        )
        client.headers["Authorization"] = f"Bearer {answer.json()['access_token']}"
        yield client
