"""The event loop the connector's own processes run on: uvloop where it is installed.

asyncio's pure-Python loop (its selector, handles and task steps) was about a tenth of the
connector's CPU on a sync pass; uvloop, a drop-in loop on libuv, does the same work in C. Every
place that starts the connector's code on a loop of its own (the CLI's commands, the demo, the
benches' measured children) goes through :func:`run`, so there is one answer to "which loop":

    from ml_connector import eventloop
    eventloop.run(main())

Where uvloop is not installed (Windows has none) the loop is asyncio's own, with no error.
``ML_CONNECTOR_EVENT_LOOP=asyncio`` chooses asyncio's loop even where uvloop is installed, to
tell a loop problem from a connector problem. The sandboxes are not the connector: they keep
asyncio's loop by name (:data:`ml_connector.sandbox.SERVER_LOOP`).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Coroutine, Mapping
from importlib.util import find_spec
from typing import Any, Literal, TypeVar

from ml_connector.errors import ConfigError

__all__ = ["EVENT_LOOP_ENV", "LoopName", "loop_factory", "loop_name", "run"]

EVENT_LOOP_ENV = "ML_CONNECTOR_EVENT_LOOP"

LoopName = Literal["uvloop", "asyncio"]

_T = TypeVar("_T")


def loop_name(environ: Mapping[str, str] | None = None) -> LoopName:
    """``uvloop`` when it is installed and ``ML_CONNECTOR_EVENT_LOOP`` is unset, ``auto`` or
    ``uvloop``; ``asyncio`` when the variable says so or uvloop is missing.

    An unknown value is a :class:`~ml_connector.errors.ConfigError` (exit 2 from the CLI).
    """
    env = os.environ if environ is None else environ
    wanted = env.get(EVENT_LOOP_ENV, "").strip().lower() or "auto"
    if wanted not in ("auto", "uvloop", "asyncio"):
        raise ConfigError(f"{EVENT_LOOP_ENV} must be auto, uvloop or asyncio, not {wanted!r}")
    if wanted == "asyncio" or find_spec("uvloop") is None:
        return "asyncio"
    return "uvloop"


def loop_factory(
    environ: Mapping[str, str] | None = None,
) -> Callable[[], asyncio.AbstractEventLoop]:
    """What :class:`asyncio.Runner` builds the loop with (see :func:`loop_name`)."""
    if loop_name(environ) == "uvloop":
        import uvloop

        return uvloop.new_event_loop
    return asyncio.new_event_loop


def run(main: Coroutine[Any, Any, _T]) -> _T:
    """:func:`asyncio.run` on the connector's loop."""
    try:
        factory = loop_factory()
    except ConfigError:
        main.close()  # never awaited: no "coroutine was never awaited" warning
        raise
    with asyncio.Runner(loop_factory=factory) as runner:
        return runner.run(main)
