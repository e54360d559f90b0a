"""Redaction and canonical JSON for anything the store keeps in the clear.

:func:`redact` masks values under secret-looking keys (passwords, tokens, ``api-auth-*`` headers,
``Authorization`` ...), masks ``Bearer``/``Basic`` credentials inside strings, scrubs any known
secret value wherever it appears, and turns the result into plain JSON values. Audit data always
goes through it; :func:`canonical_json` gives the bytes that hashes are computed over.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from functools import lru_cache
from typing import Any
from uuid import UUID

from pydantic import BaseModel, SecretBytes, SecretStr

from ml_connector.json_codec import dumps_sorted

__all__ = ["MASK", "canonical_json", "is_secret_key", "redact", "sha256_hex"]

MASK = "[redacted]"

_SECRET_MARKERS = (
    "password",
    "passwd",
    "passphrase",
    "secret",
    "token",
    "authorization",
    "applicationkey",
    "apiauth",
    "apikey",
    "privatekey",
    "masterkey",
    "accesskey",
    "cookie",
    "credential",
    "signature",
)
_SECRET_NAMES = frozenset({"key", "pwd", "auth", "pass", "sig"})
_CREDENTIAL_IN_TEXT = re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{6,}")
# The shortest text `_CREDENTIAL_IN_TEXT` can match: "basic" or "bearer", a space, 6 characters.
_CREDENTIAL_MIN_LENGTH = len("basic") + 1 + 6
# Secrets shorter than this are not scrubbed by value: masking "abc" everywhere would garble text.
_MIN_SCRUB_LENGTH = 4


@lru_cache(maxsize=1024)
def is_secret_key(key: str) -> bool:
    """True for keys whose values must never be stored or shown.

    Matching ignores case, ``-`` and ``_``: ``api-auth-applicationkey``, ``QadPassword`` and
    ``access_token`` are secret; ``natural_key`` and ``record_key`` are not. Remembered per key:
    audit data repeats a few dozen keys in every event.
    """
    folded = re.sub(r"[-_\s.]", "", key.lower())
    return folded in _SECRET_NAMES or any(marker in folded for marker in _SECRET_MARKERS)


def redact(obj: Any, *, secrets: Iterable[str] = ()) -> Any:
    """A JSON-ready copy of ``obj`` with secrets masked.

    Mappings, sequences, dataclasses and pydantic models are walked; datetimes become ISO strings,
    ``Decimal`` and ``UUID`` become strings, ``SecretStr`` is always masked. Every occurrence of a
    value in ``secrets`` inside any string is replaced by ``[redacted]``.

    >>> redact({"user": "ann", "Password": "hunter2", "note": "Bearer abc.def.ghi"})
    {'user': 'ann', 'Password': '[redacted]', 'note': 'Bearer [redacted]'}
    """
    known = sorted({s for s in secrets if len(s) >= _MIN_SCRUB_LENGTH}, key=len, reverse=True)
    return _walk(obj, known)


def _walk(obj: Any, known: list[str]) -> Any:
    # Plain JSON containers and strings first, by exact type: most of what is walked.
    kind = type(obj)
    if kind is str:
        return _scrub(obj, known)
    if kind is dict:
        return _walk_mapping(obj, known)
    if kind is list:
        return [_walk(item, known) for item in obj]
    if obj is None or isinstance(obj, bool | int):
        return obj
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else str(obj)
    if isinstance(obj, str):
        return _scrub(obj, known)
    if isinstance(obj, SecretStr | SecretBytes):
        return MASK
    if isinstance(obj, Mapping):
        return _walk_mapping(obj, known)
    if isinstance(obj, BaseModel):
        return _walk(dict(obj), known)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return _walk({f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}, known)
    if isinstance(obj, datetime | date):
        return obj.isoformat()
    if isinstance(obj, Enum):
        return _walk(obj.value, known)
    if isinstance(obj, Decimal | UUID):
        return str(obj)
    if isinstance(obj, bytes):
        return MASK
    if isinstance(obj, list | tuple | set | frozenset):
        return [_walk(item, known) for item in obj]
    return _scrub(str(obj), known)


def _walk_mapping(obj: Mapping[Any, Any], known: list[str]) -> dict[str, Any]:
    return {
        str(k): (MASK if is_secret_key(str(k)) and v not in (None, "") else _walk(v, known))
        for k, v in obj.items()
    }


def _scrub(text: str, known: list[str]) -> str:
    for secret in known:
        if secret in text:
            text = text.replace(secret, MASK)
    if len(text) < _CREDENTIAL_MIN_LENGTH:
        return text
    return _CREDENTIAL_IN_TEXT.sub(lambda m: f"{m.group(1)} {MASK}", text)


def canonical_json(obj: Any) -> bytes:
    """Deterministic JSON bytes: sorted keys, no spaces, UTF-8, no NaN.

    The bytes of ``json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
    allow_nan=False).encode()``, which every stored hash was computed over (`dumps_sorted`).
    """
    return dumps_sorted(obj)


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
