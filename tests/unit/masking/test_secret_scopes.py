"""Secrets to mask belong to the command or request that handled them: a nested scope sees its
parents', concurrent scopes never see each other's, and a closed scope forgets."""

from __future__ import annotations

import asyncio
from typing import Any

from ml_connector.masking import (
    MASK,
    SecretScopes,
    keep_secret,
    kept_secrets,
    scrub,
    secret_scope,
)


def test_outside_every_scope_nothing_is_remembered() -> None:
    keep_secret("hunter2-outside")
    assert kept_secrets() == frozenset()
    assert scrub("hunter2-outside") == "hunter2-outside"


def test_a_nested_scope_sees_its_parents_and_forgets_its_own() -> None:
    with secret_scope():
        keep_secret("outer-secret", "abc", None, "")  # too short or empty: never remembered
        with secret_scope():
            keep_secret("inner-secret")
            assert scrub("outer-secret inner-secret abc") == f"{MASK} {MASK} abc"
        assert kept_secrets() == {"outer-secret"}
        assert scrub("inner-secret") == "inner-secret"
    assert kept_secrets() == frozenset()
    assert scrub("outer-secret") == "outer-secret"


def test_longer_secrets_are_masked_first() -> None:
    with secret_scope():
        keep_secret("pass", "password-1")
        assert scrub("password-1") == MASK


async def test_concurrent_tasks_with_their_own_scopes_do_not_share() -> None:
    both_kept = asyncio.Event()
    kept = 0
    seen: dict[str, frozenset[str]] = {}
    shown: dict[str, str] = {}

    async def tenant(name: str) -> None:
        nonlocal kept
        with secret_scope():
            keep_secret(f"{name}-password")
            kept += 1
            if kept == 2:
                both_kept.set()
            await both_kept.wait()  # both scopes are open at once
            seen[name] = kept_secrets()
            shown[name] = scrub("acme-password globex-password")

    await asyncio.gather(tenant("acme"), tenant("globex"))
    assert seen["acme"] == {"acme-password"}
    assert seen["globex"] == {"globex-password"}
    assert shown["acme"] == f"{MASK} globex-password"
    assert shown["globex"] == f"acme-password {MASK}"
    assert kept_secrets() == frozenset()


async def test_a_task_started_in_a_scope_shares_it_until_it_closes() -> None:
    with secret_scope():
        keep_secret("command-secret")
        inner = await asyncio.create_task(_kept_in_a_child_task())
        assert inner == {"command-secret", "child-secret"}  # the child added to the same scope
    assert kept_secrets() == frozenset()


async def _kept_in_a_child_task() -> frozenset[str]:
    keep_secret("child-secret")
    return kept_secrets()


async def test_each_request_through_the_middleware_gets_a_scope_of_its_own() -> None:
    seen: list[frozenset[str]] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        keep_secret(scope["path"].strip("/") + "-token")
        seen.append(kept_secrets())

    async def receive() -> dict[str, Any]:
        return {"type": "http.request"}

    async def send(message: Any) -> None:
        return None

    middleware = SecretScopes(app)
    with secret_scope():
        keep_secret("server-wide")
        await middleware({"type": "http", "path": "/first"}, receive, send)
        await middleware({"type": "http", "path": "/second"}, receive, send)
        assert kept_secrets() == {"server-wide"}  # nothing leaked back to the server's scope
    assert seen == [{"server-wide", "first-token"}, {"server-wide", "second-token"}]
