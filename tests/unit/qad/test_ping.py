"""Ping on hand-built answers (httpx.MockTransport): what a wrong URL, a redirect, a dead gateway
and a refused probe each become."""

from __future__ import annotations

import httpx
import pytest
from qad_fakes import FakeQad

from ml_connector.errors import ConfigError, PermissionDenied, Unavailable


async def test_ping_on_a_web_page_instead_of_qad_is_a_configuration_error() -> None:
    qad = FakeQad()
    qad.token_reply = lambda form: httpx.Response(200, text="<html>Welcome</html>")
    async with qad.client(retries=1) as client:
        with pytest.raises(ConfigError, match="wrong tenant URL"):
            await client.ping()


async def test_ping_on_a_redirect_is_a_configuration_error() -> None:
    qad = FakeQad()
    qad.token_reply = lambda form: httpx.Response(302, headers={"Location": "https://sso/"})
    async with qad.client() as client:
        with pytest.raises(ConfigError, match="redirect"):
            await client.ping()


async def test_ping_through_a_gateway_that_is_down_is_unavailable() -> None:
    qad = FakeQad()
    qad.api = lambda request: httpx.Response(502, text="<html>bad gateway</html>")
    async with qad.client(retries=1) as client:
        with pytest.raises(Unavailable, match="cannot reach QAD"):
            await client.ping()


async def test_ping_with_a_403_on_the_probe_is_a_permission_error() -> None:
    qad = FakeQad()
    qad.api = lambda request: httpx.Response(
        403, json={"errors": [{"severity": 1, "code": "403", "message": "Access is denied"}]}
    )
    async with qad.client() as client:
        with pytest.raises(PermissionDenied):
            await client.ping()
