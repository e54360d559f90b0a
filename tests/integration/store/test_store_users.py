"""Users, console sessions and the access log on both back-ends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ml_connector.errors import ConfigError
from ml_connector.store import SqlStore
from ml_connector.store.users import SqlUsers
from ml_connector.testing import FakeClock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(0, epoch=datetime(2026, 12, 1, 9, 0, tzinfo=UTC))


@pytest.fixture
def users(store: SqlStore, clock: FakeClock) -> SqlUsers:
    return SqlUsers(store.engine, clock=clock.utcnow)


async def test_a_user_is_stored_with_role_and_hash_and_listed_by_name(users: SqlUsers) -> None:
    await users.add_user("zoe", "viewer", "$argon2id$zoe")
    added = await users.add_user("ada", "admin", "$argon2id$ada")

    assert added.name == "ada"
    assert added.role == "admin"
    assert [u.name for u in await users.list_users()] == ["ada", "zoe"]
    found = await users.get_user("zoe")
    assert found is not None
    assert (found.role, found.password_hash) == ("viewer", "$argon2id$zoe")
    assert "argon2" not in repr(found)
    assert await users.get_user("nobody") is None


async def test_a_taken_name_is_refused(users: SqlUsers) -> None:
    await users.add_user("ada", "admin", "h1")
    with pytest.raises(ConfigError, match="already exists"):
        await users.add_user("ada", "viewer", "h2")


async def test_a_session_is_found_by_its_token_hash_with_its_user(
    users: SqlUsers, clock: FakeClock
) -> None:
    ada = await users.add_user("ada", "operator", "h")
    await users.create_session("a" * 64, ada, "csrf-1")

    session = await users.get_session("a" * 64)
    assert session is not None
    assert session.user.name == "ada"
    assert session.user.role == "operator"
    assert session.csrf_token == "csrf-1"
    assert session.last_seen_at == clock.utcnow()
    assert await users.get_session("b" * 64) is None


async def test_touching_a_session_moves_its_last_seen_time(
    users: SqlUsers, clock: FakeClock
) -> None:
    ada = await users.add_user("ada", "operator", "h")
    await users.create_session("a" * 64, ada, "c")
    clock.advance(5 * 60)

    await users.touch_session("a" * 64)

    session = await users.get_session("a" * 64)
    assert session is not None
    assert session.last_seen_at == clock.utcnow()
    assert session.created_at == clock.utcnow() - timedelta(minutes=5)


async def test_a_new_password_or_removal_ends_every_session_of_that_user(
    users: SqlUsers,
) -> None:
    ada = await users.add_user("ada", "operator", "h")
    bob = await users.add_user("bob", "viewer", "h")
    await users.create_session("a" * 64, ada, "c")
    await users.create_session("c" * 64, ada, "c")
    await users.create_session("b" * 64, bob, "c")

    assert await users.set_password_hash("ada", "h2")
    assert await users.get_session("a" * 64) is None
    assert await users.get_session("c" * 64) is None
    assert await users.get_session("b" * 64) is not None
    changed = await users.get_user("ada")
    assert changed is not None
    assert changed.password_hash == "h2"

    assert await users.remove_user("bob")
    assert await users.get_session("b" * 64) is None
    assert await users.get_user("bob") is None
    assert not await users.remove_user("bob")
    assert not await users.set_password_hash("bob", "h3")


async def test_idle_sessions_are_purged(users: SqlUsers, clock: FakeClock) -> None:
    ada = await users.add_user("ada", "operator", "h")
    await users.create_session("a" * 64, ada, "c")
    clock.advance(3600)
    await users.create_session("b" * 64, ada, "c")

    assert await users.end_idle_sessions(clock.utcnow() - timedelta(minutes=30)) == 1
    assert await users.get_session("a" * 64) is None
    assert await users.get_session("b" * 64) is not None


async def test_events_are_counted_by_kind_window_user_and_address(
    users: SqlUsers, clock: FakeClock
) -> None:
    await users.log_event("sign-in-refused", "ada", "console", remote="10.0.0.1")
    clock.advance(10 * 60)
    await users.log_event("sign-in-refused", "ada", "console", remote="10.0.0.2")
    await users.log_event("sign-in-refused", "bob", "console", remote="10.0.0.2")
    await users.log_event("signed-in", "ada", "console", remote="10.0.0.2")

    since = clock.utcnow() - timedelta(minutes=5)
    refused = ("sign-in-refused",)
    assert await users.count_events(refused, since, username="ada") == 1
    assert await users.count_events(refused, since, remote="10.0.0.2") == 2
    assert (
        await users.count_events(refused, clock.utcnow() - timedelta(hours=1), username="ada") == 2
    )
    assert await users.count_events(("signed-in",), since) == 1


async def test_the_access_log_reads_back_newest_first(users: SqlUsers) -> None:
    await users.log_event("user-added", "ada", "cli:root", detail="role admin")
    await users.log_event("signed-in", "ada", "console", remote="127.0.0.1")

    events = await users.list_events()
    assert [(e.event, e.username, e.actor) for e in events] == [
        ("signed-in", "ada", "console"),
        ("user-added", "ada", "cli:root"),
    ]
    assert events[0].remote == "127.0.0.1"
    assert events[1].detail == "role admin"
    assert [e.event for e in await users.list_events(username="bob")] == []
    assert len(await users.list_events(limit=1)) == 1
