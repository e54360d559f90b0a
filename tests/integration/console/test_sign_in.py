"""Signing in: passwords, throttling, session idle and lifetime limits, sign-out."""

from __future__ import annotations

from datetime import timedelta

import pytest

from ml_connector.errors import AccessDenied, SignInThrottled
from ml_connector.passwords import Passwords
from ml_connector.store.users import SqlUsers
from ml_connector.testing import FakeClock
from ml_connector.usecases import users as uc
from ml_connector.usecases.access import (
    SignInPolicy,
    resume_session,
    sign_in,
    sign_out,
    token_hash,
)

PASSWORD = "correct horse battery"
MINUTE = 60.0
HOUR = 60 * MINUTE


@pytest.fixture
async def ada(users: SqlUsers, passwords: Passwords) -> str:
    await uc.add_user(users, passwords, "ada", "operator", PASSWORD, actor="test")
    return "ada"


async def test_a_right_password_opens_a_session_whose_token_is_stored_only_hashed(
    users: SqlUsers, passwords: Passwords, ada: str, clock: FakeClock
) -> None:
    signed = await sign_in(users, passwords, ada, PASSWORD, remote="127.0.0.1", now=clock.utcnow)

    assert signed.user.name == "ada"
    assert len(signed.token) >= 40
    assert signed.csrf_token != signed.token
    assert await users.get_session(signed.token) is None
    session = await users.get_session(token_hash(signed.token))
    assert session is not None
    assert session.csrf_token == signed.csrf_token
    events = await users.list_events()
    assert (events[0].event, events[0].username, events[0].remote) == (
        "signed-in",
        "ada",
        "127.0.0.1",
    )


@pytest.mark.parametrize(("name", "password"), [("ada", "wrong password"), ("eve", PASSWORD)])
async def test_a_wrong_password_or_unknown_user_is_refused_the_same_way_and_logged(
    users: SqlUsers, passwords: Passwords, ada: str, clock: FakeClock, name: str, password: str
) -> None:
    with pytest.raises(AccessDenied, match="wrong user name or password") as refused:
        await sign_in(users, passwords, name, password, remote="10.1.1.1", now=clock.utcnow)

    assert not isinstance(refused.value, SignInThrottled)
    assert password not in str(refused.value)
    latest = (await users.list_events())[0]
    assert (latest.event, latest.username) == ("sign-in-refused", name)
    assert latest.detail in ("wrong password", "unknown user")


async def test_refusals_for_a_user_throttle_even_the_right_password_until_the_window_passes(
    users: SqlUsers, passwords: Passwords, ada: str, clock: FakeClock
) -> None:
    policy = SignInPolicy(max_failures_per_user=3, window=timedelta(minutes=15))
    for _ in range(3):
        with pytest.raises(AccessDenied):
            await sign_in(
                users,
                passwords,
                ada,
                "nope nope",
                remote="10.0.0.9",
                policy=policy,
                now=clock.utcnow,
            )

    with pytest.raises(SignInThrottled) as throttled:
        await sign_in(
            users, passwords, ada, PASSWORD, remote="10.0.0.9", policy=policy, now=clock.utcnow
        )
    assert throttled.value.retry_after == 900
    assert (await users.list_events())[0].event == "sign-in-throttled"

    clock.advance(16 * MINUTE)
    signed = await sign_in(
        users, passwords, ada, PASSWORD, remote="10.0.0.9", policy=policy, now=clock.utcnow
    )
    assert signed.user.name == "ada"


async def test_too_many_refusals_from_one_address_throttle_every_name_from_it(
    users: SqlUsers, passwords: Passwords, ada: str, clock: FakeClock
) -> None:
    policy = SignInPolicy(max_failures_per_user=100, max_failures_per_remote=4)
    for n in range(4):
        with pytest.raises(AccessDenied):
            await sign_in(
                users,
                passwords,
                f"guess{n}",
                "nope nope",
                remote="10.6.6.6",
                policy=policy,
                now=clock.utcnow,
            )

    with pytest.raises(SignInThrottled):
        await sign_in(
            users, passwords, ada, PASSWORD, remote="10.6.6.6", policy=policy, now=clock.utcnow
        )
    # Another address is not affected.
    await sign_in(
        users, passwords, ada, PASSWORD, remote="10.7.7.7", policy=policy, now=clock.utcnow
    )


async def test_a_session_ends_after_its_idle_time(
    users: SqlUsers, passwords: Passwords, ada: str, clock: FakeClock
) -> None:
    policy = SignInPolicy(idle=timedelta(minutes=30))
    signed = await sign_in(users, passwords, ada, PASSWORD, remote=None, now=clock.utcnow)

    clock.advance(20 * MINUTE)
    assert await resume_session(users, signed.token, policy=policy, now=clock.utcnow) is not None
    clock.advance(20 * MINUTE)  # 20 minutes since the last use: still alive
    assert await resume_session(users, signed.token, policy=policy, now=clock.utcnow) is not None
    clock.advance(31 * MINUTE)
    assert await resume_session(users, signed.token, policy=policy, now=clock.utcnow) is None
    assert await users.get_session(token_hash(signed.token)) is None


async def test_a_session_ends_after_its_lifetime_however_busy(
    users: SqlUsers, passwords: Passwords, ada: str, clock: FakeClock
) -> None:
    policy = SignInPolicy(idle=timedelta(minutes=30), lifetime=timedelta(hours=2))
    signed = await sign_in(users, passwords, ada, PASSWORD, remote=None, now=clock.utcnow)
    for _ in range(4):  # used every 25 minutes: never idle
        clock.advance(25 * MINUTE)
        assert (
            await resume_session(users, signed.token, policy=policy, now=clock.utcnow) is not None
        )
    clock.advance(25 * MINUTE)  # 125 minutes after signing in
    assert await resume_session(users, signed.token, policy=policy, now=clock.utcnow) is None


async def test_garbage_tokens_resume_nothing(users: SqlUsers, clock: FakeClock) -> None:
    assert await resume_session(users, "", now=clock.utcnow) is None
    assert await resume_session(users, "x" * 500, now=clock.utcnow) is None
    assert await resume_session(users, "not-a-session", now=clock.utcnow) is None


async def test_signing_out_ends_the_session_and_is_logged(
    users: SqlUsers, passwords: Passwords, ada: str, clock: FakeClock
) -> None:
    signed = await sign_in(users, passwords, ada, PASSWORD, remote="127.0.0.1", now=clock.utcnow)
    session = await resume_session(users, signed.token, now=clock.utcnow)
    assert session is not None

    await sign_out(users, session, remote="127.0.0.1")

    assert await resume_session(users, signed.token, now=clock.utcnow) is None
    assert (await users.list_events())[0].event == "signed-out"


async def test_a_password_change_signs_the_user_out_and_the_new_password_works(
    users: SqlUsers, passwords: Passwords, ada: str, clock: FakeClock
) -> None:
    signed = await sign_in(users, passwords, ada, PASSWORD, remote=None, now=clock.utcnow)

    await uc.change_password(users, passwords, ada, "a brand new one", actor="cli:root")

    assert await resume_session(users, signed.token, now=clock.utcnow) is None
    with pytest.raises(AccessDenied):
        await sign_in(users, passwords, ada, PASSWORD, remote=None, now=clock.utcnow)
    await sign_in(users, passwords, ada, "a brand new one", remote=None, now=clock.utcnow)


async def test_user_changes_are_checked_and_logged(users: SqlUsers, passwords: Passwords) -> None:
    await uc.add_user(users, passwords, "bob", "viewer", PASSWORD, actor="cli:root")
    with pytest.raises(Exception, match="unknown role"):
        await uc.add_user(users, passwords, "cy", "superuser", PASSWORD, actor="cli:root")
    with pytest.raises(Exception, match="user name"):
        await uc.add_user(users, passwords, "bad name!", "viewer", PASSWORD, actor="cli:root")
    with pytest.raises(Exception, match="too short"):
        await uc.add_user(users, passwords, "dee", "viewer", "short", actor="cli:root")
    with pytest.raises(Exception, match="no user named"):
        await uc.remove_user(users, "nobody", actor="cli:root")

    await uc.remove_user(users, "bob", actor="cli:root")

    assert [u.name for u in await uc.list_users(users)] == []
    log = await uc.access_log(users)
    assert [(e.event, e.username, e.actor) for e in log] == [
        ("user-removed", "bob", "cli:root"),
        ("user-added", "bob", "cli:root"),
    ]


async def test_a_sign_in_sweeps_away_sessions_left_idle(
    users: SqlUsers, passwords: Passwords, ada: str, clock: FakeClock
) -> None:
    policy = SignInPolicy(idle=timedelta(minutes=30))
    abandoned = await sign_in(users, passwords, ada, PASSWORD, remote=None, now=clock.utcnow)
    clock.advance(2 * HOUR)

    await sign_in(users, passwords, ada, PASSWORD, remote=None, policy=policy, now=clock.utcnow)

    assert await users.get_session(token_hash(abandoned.token)) is None
