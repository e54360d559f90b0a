"""Cin7's rate limit: a rolling window of N calls per 60 s per application key (reference §2).

Only calls that are let through occupy the window; a refused call does not, so `Retry-After`
is exactly the time until the oldest admitted call leaves the window.
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
