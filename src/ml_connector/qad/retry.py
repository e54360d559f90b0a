"""Backoff between attempts: exponential with jitter, capped, and an injectable sleep."""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable

Sleep = Callable[[float], Awaitable[None]]

BASE_DELAY = 0.2
MAX_DELAY = 5.0


def backoff_delay(attempt: int, rng: random.Random, *, base: float = BASE_DELAY) -> float:
    """Seconds to wait before retry number `attempt` (0-based): half fixed, half jitter.

    The fixed half keeps a retry from landing immediately; the jittered half spreads callers
    that failed together (say, eight calls on one QAD restart) so they do not return together.
    """
    ceiling = min(MAX_DELAY, base * 2**attempt)
    return float(ceiling / 2 + rng.uniform(0, ceiling / 2))
