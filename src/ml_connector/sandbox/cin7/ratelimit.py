"""Cin7's rate limit: a rolling window of N calls per 60 s per application key (reference §2).

Only calls that are let through occupy the window; a refused call does not, so `Retry-After`
is exactly the time until the oldest admitted call leaves the window.

`CallPeaks` is the sandbox's own measure of a client's pacing: the most calls a key sent in any
rolling window, refused ones included. A pacer that keeps every key at or under the limit
shows a peak of at most the limit and no refusal.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

WINDOW_SECONDS = 60.0


@dataclass(frozen=True, slots=True)
class Verdict:
    allowed: bool
    limit: int
    retry_after: int = 0  # whole seconds until the window frees; 0 when allowed


class RollingWindow:
    """Admit at most `limit` calls per key in any `window` seconds of `clock` time."""

    def __init__(
        self, limit: int, clock: Callable[[], float], window: float = WINDOW_SECONDS
    ) -> None:
        if limit < 1:
            raise ValueError("the rate limit must be at least 1 call per window")
        self.limit = limit
        self.window = window
        self._clock = clock
        self._calls: dict[str, deque[float]] = {}

    def hit(self, key: str) -> Verdict:
        """Record a call for `key` if the window has room; say when it will otherwise."""
        now = self._clock()
        calls = self._calls.setdefault(key, deque())
        horizon = now - self.window
        while calls and calls[0] <= horizon:
            calls.popleft()
        if len(calls) < self.limit:
            calls.append(now)
            return Verdict(True, self.limit)
        # With a lowered limit more calls than `limit` may be held: the window frees when
        # enough of them have left for one more call to fit.
        release = calls[len(calls) - self.limit]
        wait = max(1, math.ceil(round(release + self.window - now, 6)))
        return Verdict(False, self.limit, wait)

    def reset(self) -> None:
        self._calls.clear()


class CallPeaks:
    """Per key: calls, and the most of them that fell in any rolling `window` of `clock` time."""

    def __init__(self, clock: Callable[[], float], window: float = WINDOW_SECONDS) -> None:
        self.window = window
        self._clock = clock
        self._recent: dict[str, deque[float]] = {}
        self.peak: dict[str, int] = {}
        self.calls: dict[str, int] = {}

    def hit(self, key: str) -> None:
        now = self._clock()
        recent = self._recent.setdefault(key, deque())
        while recent and recent[0] <= now - self.window:
            recent.popleft()
        recent.append(now)
        self.peak[key] = max(self.peak.get(key, 0), len(recent))
        self.calls[key] = self.calls.get(key, 0) + 1

    def reset(self) -> None:
        self._recent.clear()
        self.peak.clear()
        self.calls.clear()
