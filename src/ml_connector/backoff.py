"""Backoff between attempts: one function, one policy per remote system. No I/O, no imports.

Both clients wait the same way after a transient failure: *equal jitter*. Half of the
exponential step is kept, so a retry never lands at once; the other half is random, so callers
that failed together (eight calls hit by one QAD restart, several workers throttled by Cin7)
do not come back together. The step doubles per consecutive failure up to a cap:

    >>> import random
    >>> QAD.delay(1, random.Random(1)) <= QAD.base
    True

Attempts are counted from 1 (the first retry). The policies differ only in their numbers:
Cin7 answers slowly recovering gateways (start at 0.5 s, cap 30 s); QAD's send path retries
inside one request and inside read-backs (start at 0.2 s, cap 5 s). Rate limits are not backoff:
they wait for the `Retry-After` the server announced (`cin7/retry.py`).
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

Sleep = Callable[[float], Awaitable[None]]
"""`asyncio.sleep`, or a test's stand-in that returns at once."""


@dataclass(frozen=True)
class Backoff:
    """Equal-jitter exponential backoff: `base` seconds for the first retry, at most `cap`."""

    base: float
    cap: float

    def __post_init__(self) -> None:
        if self.base <= 0 or self.cap < self.base:
            raise ValueError("backoff needs 0 < base <= cap")

    def step(self, attempt: int) -> float:
        """The ceiling of the wait before retry number `attempt` (1-based), without jitter."""
        doublings = min(max(0, attempt - 1), 62)  # past the cap long before; no float overflow
        return float(min(self.cap, self.base * 2.0**doublings))

    def delay(self, attempt: int, rng: random.Random | None = None) -> float:
        """Seconds to wait before retry number `attempt` (1-based): within [step/2, step]."""
        step = self.step(attempt)
        return step / 2 + (rng or random).uniform(0, step / 2)


CIN7 = Backoff(base=0.5, cap=30.0)
QAD = Backoff(base=0.2, cap=5.0)
