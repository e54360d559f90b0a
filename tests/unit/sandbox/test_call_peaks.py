"""The Cin7 sandbox's measure of a client's pacing: the most calls per key in any window."""

from __future__ import annotations

from ml_connector.sandbox.cin7 import create_cin7_sandbox
from ml_connector.sandbox.cin7.ratelimit import CallPeaks
from ml_connector.testing import FakeClock


def test_the_peak_is_the_most_calls_in_any_rolling_window() -> None:
    clock = FakeClock(start=0.0)
    peaks = CallPeaks(clock, window=10.0)
    for at in (0, 1, 2, 9.5, 10.5, 11, 25):
        clock.now = at
        peaks.hit("k")
    # 0..9.5 holds four; at 10.5 the call at 0 has left (and 1 at 11).
    assert peaks.peak == {"k": 4}
    assert peaks.calls == {"k": 7}
    peaks.reset()
    assert peaks.peak == {}


def test_stats_give_each_keys_calls_refusals_and_peak() -> None:
    clock = FakeClock(start=0.0)
    sandbox = create_cin7_sandbox(
        purchases=0, rate_limit=2, rate_window=5.0, extra_application_keys=("second",), clock=clock
    )
    state = sandbox.state
    key = sandbox.application_key
    verdicts = [state.admit(key).allowed for _ in range(3)]
    state.admit("second")
    assert verdicts == [True, True, False]
    stats = state.stats()
    assert stats["rate_window"] == 5.0
    assert stats["by_key"][key] == {"calls": 3, "rate_limited": 1, "peak_in_window": 3}
    assert stats["by_key"]["second"] == {"calls": 1, "rate_limited": 0, "peak_in_window": 1}
    clock.now = 5.0
    assert state.admit(key).allowed
    assert "second" in state.application_keys
