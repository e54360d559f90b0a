"""Builders shared by the console tests: a connection with planted secrets, signing in."""

from __future__ import annotations

import re
from typing import Any

import httpx

from ml_connector.store import ConnectionConfig

PASSWORD = "correct horse battery"
PLANTED_KEY = "PLANTED-cin7-key-7f1e2d"
PLANTED_PASSWORD = "PLANTED-qad-pass-4b9c0a"


def make_connection(name: str = "acme", **overrides: Any) -> ConnectionConfig:
    """A connection whose secrets are planted, so tests can look for them in every answer."""
    values: dict[str, Any] = {
        "cin7_account_id": "acc-1",
        "cin7_application_key": PLANTED_KEY,
        "qad_url": "https://qad.example.test/qad-central",
        "qad_client_id": "afb97fd2000000000000000000000000",
        "qad_username": "mfg@example.test",
        "qad_password": PLANTED_PASSWORD,
        "qad_domain": "10USA",
        "qad_entity": "10USACO",
        "schedule": "every 15m",
    }
    values.update(overrides)
    return ConnectionConfig.from_settings(name, values)


_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    found = _CSRF.search(html)
    assert found, "no csrf_token field on the page"
    return found.group(1)


async def sign_in_as(client: httpx.AsyncClient, name: str, password: str = PASSWORD) -> str:
    """Sign ``client`` in through the login form; return the session's CSRF token."""
    form = await client.get("/login")
    assert form.status_code == 200
    answer = await client.post(
        "/login",
        data={"username": name, "password": password, "csrf_token": csrf_of(form.text)},
    )
    assert answer.status_code == 303, answer.text
    me = await client.get("/api/me")
    assert me.status_code == 200
    token: str = me.json()["csrf_token"]
    return token
