"""Quarantine: a Cin7 purchase the engine cannot read is set aside, never in the way of the rest.

A purchase list row that does not read (a date like `19/12/2025`, an `ID` that is not a GUID, an
`OrderNumber` longer than any order number), or a detail call that Cin7 refuses or answers with
something that is not a document, must not stop the pass: the poll would stop at the same row on
every later pass and nothing after it would be fetched again. Instead the engine stages a
*quarantine snapshot* for that version: the row as Cin7 listed it, with the problems in words.

- The record is `failed`, its reason names the field, and the trail says so; the pass goes on
  and the cursor moves past the row (the command exits 1, as for any failed record).
- `seen` recognises the version by its stamp like any snapshot, so the row costs nothing on the
  next pass; replaying the record reads the quarantine snapshot and fails it again, with the
  same reason, without calling Cin7.
- When Cin7 corrects the purchase, its new version differs from the quarantine snapshot, so it
  is staged, planned and posted as usual.

Identities are bounded here, because the store keeps a Cin7 ID in 64 characters and a reference
in 128: an oversized one is shortened with a hash so that it still names one record.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

from ml_connector.cin7.models import ORDER_NUMBER_MAX

MARKER = "_ml_connector_quarantine"
CIN7_ID_MAX = 64
STAMP_MAX = 64


def quarantine_payload(why: str, listed: Mapping[str, Any]) -> dict[str, Any]:
    """The snapshot staged for an unreadable version: Cin7's row and the reason."""
    return {MARKER: {"reason": why, "row": dict(listed)}}


def quarantined(payload: Mapping[str, Any]) -> str | None:
    """The reason of a quarantine snapshot; None for a real Cin7 document."""
    marked = payload.get(MARKER)
    if not isinstance(marked, Mapping):
        return None
    return str(marked.get("reason") or "Cin7 document unreadable")


def unreadable(problems: Sequence[str]) -> str:
    """The reason for a document that does not read, field by field."""
    return "Cin7 document unreadable: " + "; ".join(problems)


def refused(message: str) -> str:
    """The reason for a detail call Cin7 refused."""
    return f"Cin7 refused the purchase detail: {message}"


def _bounded(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]
    return f"{text[: limit - 14]}…{digest}"


def cin7_id_of(raw: Any) -> str | None:
    """The record key for a listed `ID` as it came (None when there is none to key on)."""
    if raw is None or isinstance(raw, Mapping | list | bool):
        return None
    text = str(raw).strip().lower()
    return _bounded(text, CIN7_ID_MAX) if text else None


def reference_of(raw: Any, cin7_id: str) -> str:
    """The record reference for a listed `OrderNumber` (the Cin7 ID when there is none)."""
    text = "" if raw is None or isinstance(raw, Mapping | list) else str(raw).strip()
    return _bounded(text or cin7_id, ORDER_NUMBER_MAX)


def stamp_of(raw: Any) -> str:
    """The listed `LastUpdatedDate` as the store keeps it (possibly not a date at all)."""
    return _bounded("" if raw is None else str(raw), STAMP_MAX)
