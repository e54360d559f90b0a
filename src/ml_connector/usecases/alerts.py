"""Alerts: tell someone when a connection needs a person, and again when it no longer does.

A rule belongs to one connection and names one destination — a webhook (a JSON POST with a
Slack-compatible ``text``) or an e-mail address (SMTP) — and the conditions it watches:

- ``failed``: records failed or needing attention;
- ``credentials``: the connection is unhealthy (a remote refused its credentials, or its last
  connection test failed);
- ``no-sync:N``: no successful sync for N intervals of the connection's schedule;
- ``hold:N``: a held invoice older than N days;
- ``audit``: the audit chain does not verify (the events appended since the last intact walk,
  and every record's status: :meth:`~ml_connector.store.sql.trail.SqlTrail.verify_recent`).

:func:`evaluate_alerts` runs after every pass, in whichever process ran it (``sync``, ``run``,
job workers), and reads everything from the database, so nothing depends on which process saw
what. Each (rule, condition) has a row in ``alert_states``; a process that finds a condition
firing claims the transition with a conditional UPDATE (``active`` false → true) and only the
one process whose UPDATE changed the row sends the notice; a clearing condition is claimed the
same way and sends the recovery notice. If delivery fails, or the process is stopped while
delivering, the claim is reverted, so the next pass tries again: nothing missed, nothing sent
twice while the condition lasts.

Delivery never changes a pass's outcome. Failures are logged by exception class and HTTP
status only: the webhook URL and the SMTP password are secrets (stored encrypted, write-only)
and never appear in logs, output or exceptions.
"""

from __future__ import annotations

import asyncio
import logging
import smtplib
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any, Literal

import httpx

from ml_connector.errors import ConfigError
from ml_connector.schedule import DEFAULT_TIMEZONE, parse_schedule
from ml_connector.store.models import AlertRule
from ml_connector.store.overview import SqlOverview
from ml_connector.store.protocols import Store
from ml_connector.store.sql import SqlStore
from ml_connector.usecases.opening import load_connection

__all__ = [
    "CHANNELS",
    "AlertDeliveryError",
    "Deliver",
    "Notice",
    "add_alert",
    "deliver_notice",
    "evaluate_alerts",
    "evaluate_quietly",
    "list_alerts",
    "no_sync_state",
    "parse_conditions",
    "remove_alert",
    "send_test_alert",
]

log = logging.getLogger(__name__)

Channel = Literal["webhook", "email"]
CHANNELS: tuple[Channel, ...] = ("webhook", "email")
NoticeState = Literal["firing", "resolved", "test"]

_PLAIN = ("failed", "credentials", "audit")
_COUNTED = ("no-sync", "hold")
TIMEOUT_S = 10.0


class AlertDeliveryError(Exception):
    """A notice could not be delivered. The message never holds the URL or the password."""


@dataclass(frozen=True)
class Notice:
    """One message about one condition of one connection."""

    connection: str
    condition: str
    state: NoticeState
    detail: str

    @property
    def text(self) -> str:
        head = {"firing": "ALERT", "resolved": "RESOLVED", "test": "TEST"}[self.state]
        return f"[{head}] ml-connector {self.connection}: {self.condition} — {self.detail}"

    def as_json(self) -> dict[str, str]:
        return {
            "text": self.text,
            "connection": self.connection,
            "condition": self.condition,
            "state": self.state,
            "detail": self.detail,
        }


Deliver = Callable[[AlertRule, Notice], Awaitable[None]]


def _now() -> datetime:
    return datetime.now(UTC)


def parse_conditions(text: str) -> tuple[str, ...]:
    """``failed,credentials,no-sync:3,hold:5,audit`` → the conditions, checked; ConfigError."""
    out: list[str] = []
    for raw in text.split(","):
        item = raw.strip().lower()
        if not item:
            continue
        name, _, arg = item.partition(":")
        if name in _PLAIN and not arg:
            pass
        elif name in _COUNTED and arg.isdigit() and int(arg) > 0:
            item = f"{name}:{int(arg)}"
        else:
            raise ConfigError(
                f"alert condition {raw.strip()!r} not understood; use failed, credentials, "
                "audit, no-sync:N (schedule intervals) or hold:N (days)"
            )
        if item not in out:
            out.append(item)
    if not out:
        raise ConfigError("name at least one alert condition with --on")
    return tuple(out)


# --- the conditions -----------------------------------------------------------------------------


async def _conditions(
    store: SqlStore, name: str, wanted: set[str], now: datetime
) -> dict[str, tuple[bool, str]]:
    """Each wanted condition: whether it holds now, and a line saying why (or that it cleared)."""
    config = await load_connection(store, name)
    cid = config.id
    assert cid is not None
    reads = SqlOverview(store.engine)
    counts = (await reads.record_counts()).get(cid, {}) if "failed" in wanted else {}
    oldest_hold = (await reads.oldest_holds()).get(cid)
    last_ok = (await reads.last_runs(status="succeeded", kind="sync")).get(cid)
    out: dict[str, tuple[bool, str]] = {}
    for condition in wanted:
        kind, _, arg = condition.partition(":")
        if kind == "failed":
            n = counts.get("failed", 0) + counts.get("attention", 0)
            out[condition] = (n > 0, f"{n} records failed or need attention")
        elif kind == "credentials":
            bad = not config.healthy
            why = config.health_message or "credentials refused"
            out[condition] = (bad, why if bad else "connection healthy again")
        elif kind == "no-sync":
            out[condition] = no_sync_state(
                config.sync.schedule,
                last_ok.finished_at if last_ok else None,
                config.created_at,
                int(arg),
                now,
                timezone=config.sync.timezone,
                paused=config.sync.paused,
            )
        elif kind == "hold":
            since = oldest_hold
            days = int(arg)
            old = since is not None and now - since > timedelta(days=days)
            out[condition] = (
                old,
                f"a hold has waited since {since:%Y-%m-%d %H:%M} UTC (over {days} days)"
                if old and since is not None
                else f"no hold older than {days} days",
            )
        elif kind == "audit":
            broken = await store.verify_recent(cid)
            kinds = Counter(b.kind for b in broken)
            out[condition] = (
                bool(broken),
                "audit chain broken: "
                + ", ".join(f"{n} {kind}" for kind, n in sorted(kinds.items()))
                + f" (`ml-connector audit verify {name}`)"
                if broken
                else "audit chain verifies",
            )
    return out


def no_sync_state(
    schedule: str | None,
    last_ok: datetime | None,
    created: datetime | None,
    intervals: int,
    now: datetime,
    *,
    timezone: str = DEFAULT_TIMEZONE,
    paused: bool = False,
) -> tuple[bool, str]:
    """Whether a scheduled connection is ``intervals`` schedule intervals late, and why: the
    ``intervals``-th fire time after the last success (or the creation) has passed
    (:meth:`~ml_connector.schedule.Schedule.overdue_at`; for cron an interval is the gap between
    consecutive fire times). A paused connection is never late."""
    if not schedule:
        return False, "no schedule"
    if paused:
        return False, "paused"
    try:
        parsed = parse_schedule(schedule, timezone)
    except ConfigError:
        return False, "schedule not understood"
    since = last_ok or created
    if since is None:
        return False, "never synced"
    late = now > parsed.overdue_at(since, intervals)
    when = f"{since:%Y-%m-%d %H:%M} UTC"
    if late:
        what = "last successful sync" if last_ok else "created, never synced"
        return True, f"no successful sync for {intervals} intervals ({schedule}); {what} {when}"
    return False, f"synced successfully at {when}"


# --- evaluation -----------------------------------------------------------------------------------


async def evaluate_alerts(
    store: SqlStore,
    name: str,
    *,
    now: datetime | None = None,
    deliver: Deliver | None = None,
) -> list[Notice]:
    """Check every alert rule of connection ``name`` and send what changed; return what was sent.

    Never raises for a delivery failure (it is logged and retried on the next pass).
    """
    moment = now or _now()
    send = deliver or deliver_notice
    config = await load_connection(store, name)
    assert config.id is not None
    rules = await store.list_alert_rules(config.id)
    if not rules:
        return []
    wanted = {c for rule in rules for c in rule.conditions}
    states = await _conditions(store, name, wanted, moment)
    sent: list[Notice] = []
    for rule in rules:
        known = await store.alert_states(rule.id)
        for condition in rule.conditions:
            firing, detail = states[condition]
            if not firing and not known.get(condition, False):
                continue  # nothing to clear: skip the write
            if not await store.claim_alert(rule.id, condition, active=firing):
                continue
            notice = Notice(name, condition, "firing" if firing else "resolved", detail)
            try:
                await send(rule, notice)
            except asyncio.CancelledError:
                # Stopped mid-delivery (Ctrl-C, SIGTERM): the next pass sends it again rather
                # than never (it may arrive twice if it got through just before the stop).
                await store.unclaim_alert(rule.id, condition, active=firing)
                raise
            except Exception as exc:
                await store.unclaim_alert(rule.id, condition, active=firing)
                log.warning(
                    "alert %d (%s) for %s, %s %s: delivery failed (%s); retried on the next pass",
                    rule.id,
                    rule.channel,
                    name,
                    condition,
                    notice.state,
                    _describe(exc),
                )
                continue
            await store.alert_sent(rule.id, condition)
            sent.append(notice)
    return sent


async def evaluate_quietly(store: Store, name: str) -> None:
    """:func:`evaluate_alerts` for the end of a pass: no error of its own escapes.

    Alerts read the SQL overview, so a store without a database (the memory double) has none.
    """
    if not isinstance(store, SqlStore):
        return
    try:
        await evaluate_alerts(store, name)
    except Exception as exc:
        log.warning("alerts for %s not evaluated: %s", name, _describe(exc))


def _describe(exc: BaseException) -> str:
    # Only the class and, for HTTP, the status: an httpx message carries the URL.
    if isinstance(exc, httpx.HTTPStatusError):
        return f"HTTP {exc.response.status_code}"
    if isinstance(exc, AlertDeliveryError):
        return str(exc)
    return type(exc).__name__


# --- delivery -----------------------------------------------------------------------------------


async def deliver_notice(rule: AlertRule, notice: Notice) -> None:
    """Send one notice to the rule's destination; AlertDeliveryError when it did not arrive."""
    try:
        if rule.channel == "webhook":
            async with httpx.AsyncClient(timeout=TIMEOUT_S, follow_redirects=False) as client:
                response = await client.post(str(rule.target["url"]), json=notice.as_json())
                response.raise_for_status()
        elif rule.channel == "email":
            await asyncio.to_thread(_send_mail, rule.target, notice)
        else:
            raise AlertDeliveryError(f"unknown alert channel {rule.channel!r}")
    except AlertDeliveryError:
        raise
    except Exception as exc:
        raise AlertDeliveryError(_describe(exc)) from None


def _send_mail(target: dict[str, Any], notice: Notice) -> None:
    message = EmailMessage()
    message["Subject"] = notice.text
    message["From"] = str(target.get("from") or "ml-connector@localhost")
    message["To"] = str(target["to"])
    message.set_content(
        f"{notice.text}\n\nconnection: {notice.connection}\ncondition: {notice.condition}\n"
        f"state: {notice.state}\ndetail: {notice.detail}\n"
    )
    with smtplib.SMTP(str(target["host"]), int(target.get("port") or 25), timeout=TIMEOUT_S) as s:
        if target.get("starttls"):
            s.starttls()
        if target.get("user"):
            s.login(str(target["user"]), str(target.get("password") or ""))
        s.send_message(message)


# --- managing rules -------------------------------------------------------------------------------


async def add_alert(
    store: Store,
    name: str,
    channel: Channel,
    target: dict[str, Any],
    conditions: Sequence[str],
) -> AlertRule:
    """Add a rule to connection ``name``; the destination is stored encrypted."""
    config = await load_connection(store, name)
    assert config.id is not None
    if channel == "webhook":
        url = str(target.get("url") or "")
        if not url.startswith(("http://", "https://")):
            raise ConfigError("the webhook URL must start with http:// or https://")
    elif not target.get("to") or not target.get("host"):
        raise ConfigError("an e-mail alert needs --email and --smtp-host")
    return await store.add_alert_rule(config.id, channel, target, conditions)


async def list_alerts(store: Store, name: str) -> list[AlertRule]:
    config = await load_connection(store, name)
    assert config.id is not None
    return await store.list_alert_rules(config.id)


async def remove_alert(store: Store, name: str, rule_id: int) -> None:
    config = await load_connection(store, name)
    assert config.id is not None
    if not await store.remove_alert_rule(config.id, rule_id):
        raise ConfigError(f"connection {name!r} has no alert {rule_id}")


async def send_test_alert(
    store: Store, name: str, rule_id: int | None = None, *, deliver: Deliver | None = None
) -> list[tuple[AlertRule, str | None]]:
    """Send a test notice through one rule (or all); each rule with None or why it failed."""
    rules = await list_alerts(store, name)
    if rule_id is not None:
        rules = [r for r in rules if r.id == rule_id]
        if not rules:
            raise ConfigError(f"connection {name!r} has no alert {rule_id}")
    if not rules:
        raise ConfigError(f"connection {name!r} has no alerts; add one with `alert add`")
    send = deliver or deliver_notice
    out: list[tuple[AlertRule, str | None]] = []
    for rule in rules:
        notice = Notice(name, "test", "test", "a test notice from `ml-connector alert test`")
        try:
            await send(rule, notice)
        except Exception as exc:
            out.append((rule, _describe(exc)))
        else:
            out.append((rule, None))
    return out
