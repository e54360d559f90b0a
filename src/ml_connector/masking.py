"""Secrets to mask in anything a person reads: error lines, health messages.

The clients never put a secret in a message, but a last line of defence costs little: every
secret a command handles (a typed option, a decrypted connection credential) is remembered here,
and :func:`scrub` masks it in the one error line the command prints.
"""

from __future__ import annotations

__all__ = ["MASK", "keep_secret", "scrub"]

MASK = "**********"
_MIN_LENGTH = 4  # shorter strings would mask ordinary words

_secrets: set[str] = set()


def keep_secret(*values: str | None) -> None:
    """Remember secret strings so that an error line can never show them."""
    _secrets.update(v for v in values if v and len(v) >= _MIN_LENGTH)


def scrub(text: str) -> str:
    """``text`` with every remembered secret masked."""
    for secret in sorted(_secrets, key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text
