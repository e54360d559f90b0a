"""Reading what people type into the console's forms and query strings."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from ml_connector.errors import ConfigError

__all__ = ["EDITABLE", "PAGE_SIZE", "form_changes", "parse_day", "parse_month"]

PAGE_SIZE = 50


def parse_day(text: str, what: str) -> date | None:
    """``YYYY-MM-DD`` (empty: None); ConfigError for anything else."""
    text = text.strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"the {what!r} date must look like 2026-12-01") from None


def parse_month(text: str) -> str | None:
    """``YYYY-MM`` (empty: None, every month); ConfigError for anything else."""
    text = text.strip()
    if not text:
        return None
    try:
        date.fromisoformat(text + "-01")
    except ValueError:
        raise ConfigError("the month must look like 2026-12") from None
    return text


#: The settings the console's edit form offers: (flat name, label, kind). Secrets are
#: write-only: their fields start empty, and an empty one keeps what is stored.
EDITABLE: tuple[tuple[str, str, str], ...] = (
    ("cin7_account_id", "Cin7 account ID", "text"),
    ("cin7_application_key", "Cin7 application key", "secret"),
    ("cin7_base_url", "Cin7 base URL", "text"),
    ("qad_url", "QAD tenant URL", "text"),
    ("qad_client_id", "QAD client ID", "text"),
    ("qad_username", "QAD user", "text"),
    ("qad_password", "QAD password", "secret"),
    ("qad_domain", "QAD domain", "text"),
    ("qad_entity", "QAD entity", "text"),
    ("qad_site", "QAD site", "optional"),
    ("schedule", "Schedule", "optional"),
    ("timezone", "Time zone (cron schedules)", "optional"),
    ("cin7_rate_limit", "Cin7 calls per minute", "text"),
    ("allow_local", "Allow local or http:// URLs", "flag"),
)


def form_changes(form: Mapping[str, str]) -> dict[str, Any]:
    """The settings an edit form asks to change: secrets only when typed, an emptied optional
    field resets it (None), a checkbox is on when present; the use case validates the rest."""
    changes: dict[str, Any] = {}
    for setting, _label, kind in EDITABLE:
        value = form.get(setting, "")
        if kind == "flag":
            changes[setting] = bool(value)
        elif kind == "secret":
            if value:
                changes[setting] = value
        elif kind == "optional":
            changes[setting] = value.strip() or None
        elif value.strip():
            changes[setting] = value.strip()
    return changes
