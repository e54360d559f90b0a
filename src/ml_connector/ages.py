"""How long something has waited, in a few characters: one wording for the command line
(``records``, ``holds``, ``status``) and the operator console."""

from __future__ import annotations

__all__ = ["format_age"]


def format_age(seconds: float) -> str:
    """A compact age: ``45s``, ``12m``, ``3h 20m``, ``2d 4h`` (a negative age is ``0s``)."""
    whole = max(0, int(seconds))
    days, rest = divmod(whole, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m"
    if minutes:
        return f"{minutes}m"
    return f"{secs}s"
