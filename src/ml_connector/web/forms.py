"""Reading what people type into the console's forms and query strings."""

from __future__ import annotations

from datetime import date

from ml_connector.errors import ConfigError

__all__ = ["PAGE_SIZE", "parse_day", "parse_month"]

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
