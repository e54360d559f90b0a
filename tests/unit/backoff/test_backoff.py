"""The one backoff function and the two policies the clients use."""

from __future__ import annotations

import random

import pytest

from ml_connector import backoff
from ml_connector.backoff import Backoff


def test_cin7_policy_grows_with_jitter_and_is_capped() -> None:
    rng = random.Random(1)
    for attempt, (low, high) in enumerate([(0.25, 0.5), (0.5, 1.0), (1.0, 2.0), (2.0, 4.0)], 1):
        delays = {backoff.CIN7.delay(attempt, rng) for _ in range(50)}
        assert all(low <= d <= high for d in delays)
        assert len(delays) > 1  # jittered, not a fixed step
    assert 15.0 <= backoff.CIN7.delay(30, rng) <= 30.0


def test_qad_policy_grows_and_is_capped() -> None:
    rng = random.Random(1)
    delays = [backoff.QAD.delay(n, rng) for n in range(1, 11)]
    assert 0.1 <= delays[0] <= 0.2
    assert 0.2 <= delays[1] <= 0.4
    assert all(d <= 5.0 for d in delays)
    assert delays[9] >= 2.5


def test_step_is_the_ceiling_and_half_of_it_is_always_kept() -> None:
    policy = Backoff(base=1.0, cap=8.0)
    assert [policy.step(n) for n in range(1, 6)] == [1.0, 2.0, 4.0, 8.0, 8.0]

    class Extremes(random.Random):
        def __init__(self, pick: float) -> None:
            super().__init__()
            self.pick = pick

        def uniform(self, a: float, b: float) -> float:
            return a + (b - a) * self.pick

    assert policy.delay(3, Extremes(0.0)) == 2.0
    assert policy.delay(3, Extremes(1.0)) == 4.0


def test_attempts_below_one_and_far_past_the_cap_stay_in_range() -> None:
    policy = Backoff(base=0.5, cap=30.0)
    assert policy.step(0) == policy.step(1) == 0.5
    assert policy.step(-3) == 0.5
    assert policy.step(10_000) == 30.0  # no float overflow on a very long outage


def test_delay_without_an_rng_uses_the_module_random() -> None:
    assert 0.25 <= Backoff(base=0.5, cap=1.0).delay(1) <= 0.5


@pytest.mark.parametrize(("base", "cap"), [(0.0, 1.0), (-1.0, 1.0), (2.0, 1.0)])
def test_nonsense_policies_are_refused(base: float, cap: float) -> None:
    with pytest.raises(ValueError, match="0 < base <= cap"):
        Backoff(base=base, cap=cap)
