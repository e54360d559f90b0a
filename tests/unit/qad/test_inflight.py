"""QAD's in-flight bound per tenant: the profile's `[limits] in_flight`, one bound for all of a
tenant's channels."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from ml_connector.qad.inflight import DEFAULT_IN_FLIGHT, LocalInFlight, tenant_fingerprint
from ml_connector.qad.profile import BUILT_IN, ProfileError, load_profile, stored_profile
from ml_connector.qad.routing import RoutedChannel, build_channel
from ml_connector.qad.settings import QadSettings


def settings() -> QadSettings:
    return QadSettings(
        base_url="https://acme.qad.example/clouderp",
        client_id="client",
        username="integration",
        password="secret-pw",
        domain="10USA",
        entity="10USACO",
    )


def test_a_profile_bounds_eight_requests_unless_it_says_otherwise(tmp_path: Path) -> None:
    assert BUILT_IN["rest"].limits.in_flight == DEFAULT_IN_FLIGHT == 8
    path = tmp_path / "acme.toml"
    path.write_text("[limits]\nin_flight = 3\n", encoding="utf-8")
    profile = load_profile(str(path))
    assert profile.limits.in_flight == 3
    assert stored_profile(profile.stored()).limits.in_flight == 3
    # Profiles stored before the setting existed read back with the default.
    assert stored_profile({"name": "rest"}).limits.in_flight == 8


@pytest.mark.parametrize("value", ["0", "65", '"many"'])
def test_a_bad_bound_is_refused_by_name(tmp_path: Path, value: str) -> None:
    path = tmp_path / "acme.toml"
    path.write_text(f"[limits]\nin_flight = {value}\n", encoding="utf-8")
    with pytest.raises(ProfileError, match=r"\[limits\] in_flight"):
        load_profile(str(path))


async def test_a_local_bound_holds_at_most_its_size() -> None:
    bound = LocalInFlight(2)
    out = peak = 0

    async def request() -> None:
        nonlocal out, peak
        async with bound.slot():
            out += 1
            peak = max(peak, out)
            await asyncio.sleep(0)
            out -= 1

    await asyncio.gather(*(request() for _ in range(10)))
    assert peak == 2
    with pytest.raises(ValueError, match="at least 1"):
        LocalInFlight(0)


async def test_the_channels_of_one_tenant_share_one_bound() -> None:
    bound = LocalInFlight(4)
    channel = build_channel(settings(), BUILT_IN["mixed"], in_flight=bound)
    assert isinstance(channel, RoutedChannel)
    async with channel:
        rest_slots = channel.suppliers_via.in_flight  # type: ignore[attr-defined]
        qxtend_slots = channel.receiving_via.in_flight  # type: ignore[attr-defined]
    assert rest_slots is bound
    assert qxtend_slots is bound


def test_a_tenant_is_named_by_its_url_whatever_the_case_or_trailing_slash() -> None:
    name = tenant_fingerprint("https://acme.qad.example/clouderp")
    assert tenant_fingerprint("HTTPS://ACME.qad.example/clouderp/") == name
    assert tenant_fingerprint("https://other.qad.example/clouderp") != name
    assert "acme" not in name


async def test_a_local_bound_serves_waiters_in_order_and_cancelled_ones_lose_no_slot() -> None:
    bound = LocalInFlight(1)
    order: list[str] = []

    async def request(name: str) -> None:
        async with bound.slot():
            order.append(name)
            await asyncio.sleep(0)

    held = bound.slot()
    await held.__aenter__()
    first, gone, last = (asyncio.create_task(request(n)) for n in ("first", "gone", "last"))
    await asyncio.sleep(0)
    gone.cancel()
    await asyncio.sleep(0)
    # The slot handed to `first`, which is cancelled before it runs, goes on to `last`.
    await held.__aexit__(None, None, None)
    first.cancel()
    await asyncio.gather(first, gone, last, return_exceptions=True)
    assert order == ["last"]
    assert first.cancelled()
    assert gone.cancelled()
    # The slot is free again: the next request takes it at once.
    async with asyncio.timeout(1):
        async with bound.slot():
            order.append("again")
    assert order == ["last", "again"]
