"""`ml-connector alert …`: who is told when a connection needs a person.

A webhook URL and an SMTP password are secrets: best read from a file (``--webhook-url-file``,
``--smtp-password-file``) so they stay out of shell history and ``ps``; they are stored
encrypted and never shown again (``alert list`` says ``stored, encrypted``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from ml_connector.cli.console import EXIT_OK, EXIT_UNAVAILABLE, emit, emit_json, run, say, table
from ml_connector.errors import ConfigError
from ml_connector.masking import keep_secret
from ml_connector.store.models import AlertRule
from ml_connector.usecases import alerts as uc
from ml_connector.usecases.opening import open_store

__all__ = ["alert_app"]

alert_app = typer.Typer(
    no_args_is_help=True,
    help="Alerts by webhook or e-mail when a connection needs a person, and when it recovers.",
)

Name = Annotated[str, typer.Argument(help="The connection's name.", show_default=False)]
Json = Annotated[bool, typer.Option("--json", help="Print one JSON document instead of tables.")]
STORED = "stored, encrypted"
PLAIN_URL_WARNING = (
    "warning: --webhook-url on the command line is visible to other users in the process "
    "list; prefer --webhook-url-file"
)


def _first_line(path: Path, what: str) -> str:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read the {what} file {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"the {what} file {path} is not UTF-8 text") from None
    value = text.splitlines()[0].strip() if text.strip() else ""
    if not value:
        raise ConfigError(f"the {what} file {path} is empty")
    return value


def _rule_doc(rule: AlertRule) -> dict[str, Any]:
    return {
        "id": rule.id,
        "channel": rule.channel,
        "target": STORED,
        "conditions": list(rule.conditions),
        "created_at": rule.created_at,
    }


@alert_app.command("add")
def alert_add(
    name: Name,
    on: Annotated[
        str,
        typer.Option(
            "--on",
            metavar="CONDITIONS",
            help="Comma-separated: failed, credentials, audit, no-sync:N (schedule intervals), "
            "hold:N (days).",
            show_default=False,
        ),
    ],
    webhook_url_file: Annotated[
        Path | None,
        typer.Option(help="Read the webhook URL from this file's first line.", show_default=False),
    ] = None,
    webhook_url: Annotated[
        str | None,
        typer.Option(help="The webhook URL (prefer --webhook-url-file).", show_default=False),
    ] = None,
    email: Annotated[
        str | None, typer.Option(help="Send e-mail to this address.", show_default=False)
    ] = None,
    smtp_host: Annotated[
        str | None,
        typer.Option(help="The SMTP server that sends the e-mail.", show_default=False),
    ] = None,
    smtp_port: Annotated[int, typer.Option(min=1, max=65535, help="The SMTP port.")] = 25,
    smtp_user: Annotated[
        str | None,
        typer.Option(
            help="Log in to the SMTP server as this user (with --smtp-password-file).",
            show_default=False,
        ),
    ] = None,
    smtp_password_file: Annotated[
        Path | None,
        typer.Option(
            help="Read the SMTP password from this file's first line.", show_default=False
        ),
    ] = None,
    from_addr: Annotated[
        str | None, typer.Option("--from", help="The sender address.", show_default=False)
    ] = None,
    starttls: Annotated[bool, typer.Option("--starttls", help="Upgrade with STARTTLS.")] = False,
) -> None:
    """Add an alert rule: a webhook (JSON, Slack-compatible) or an e-mail address."""

    async def body() -> int:
        conditions = uc.parse_conditions(on)
        hooks = [x for x in (webhook_url_file, webhook_url) if x is not None]
        if len(hooks) + (email is not None) != 1:
            raise ConfigError(
                "give exactly one destination: --webhook-url-file, --webhook-url or --email"
            )
        target: dict[str, Any]
        channel: uc.Channel
        if email is None:
            url = webhook_url if webhook_url is not None else ""
            if webhook_url_file is not None:
                url = _first_line(webhook_url_file, "webhook URL")
            keep_secret(url)
            channel, target = "webhook", {"url": url}
        else:
            password = (
                _first_line(smtp_password_file, "SMTP password")
                if smtp_password_file is not None
                else None
            )
            keep_secret(password)
            channel = "email"
            target = {
                "to": email,
                "host": smtp_host,
                "port": smtp_port,
                "user": smtp_user,
                "password": password,
                "from": from_addr,
                "starttls": starttls,
            }
        async with open_store() as store:
            rule = await uc.add_alert(store, name, channel, target, conditions)
        say(f"Added alert {rule.id} on {name}: {rule.channel} on {', '.join(rule.conditions)}.")
        if webhook_url is not None:
            say(PLAIN_URL_WARNING, err=True)
        return EXIT_OK

    run(body)


@alert_app.command("list")
def alert_list(name: Name, as_json: Json = False) -> None:
    """List a connection's alert rules (destinations are never shown)."""

    async def body() -> int:
        async with open_store() as store:
            rules = await uc.list_alerts(store, name)
        if as_json:
            emit_json({"connection": name, "alerts": [_rule_doc(r) for r in rules]})
        else:
            emit(
                table(
                    f"Alerts of {name}",
                    [("id", "right"), "channel", "target", "on", "added"],
                    [
                        (
                            r.id,
                            r.channel,
                            STORED,
                            ", ".join(r.conditions),
                            f"{r.created_at:%Y-%m-%d %H:%M}",
                        )
                        for r in rules
                    ],
                    caption=None if rules else f"no alerts: ml-connector alert add {name} …",
                )
            )
        return EXIT_OK

    run(body)


@alert_app.command("remove")
def alert_remove(
    name: Name, rule_id: Annotated[int, typer.Argument(metavar="ID", help="The alert's id.")]
) -> None:
    """Remove one alert rule."""

    async def body() -> int:
        async with open_store() as store:
            await uc.remove_alert(store, name, rule_id)
        say(f"Removed alert {rule_id} from {name}.")
        return EXIT_OK

    run(body)


@alert_app.command("test")
def alert_test(
    name: Name,
    rule_id: Annotated[
        int | None, typer.Argument(metavar="[ID]", help="Only this alert (default: all).")
    ] = None,
) -> None:
    """Send a test notice; exit 4 when a delivery fails."""

    async def body() -> int:
        async with open_store() as store:
            results = await uc.send_test_alert(store, name, rule_id)
        failed = 0
        for rule, error in results:
            if error is None:
                say(f"Alert {rule.id} ({rule.channel}): test notice delivered.")
            else:
                failed += 1
                say(f"Alert {rule.id} ({rule.channel}): delivery failed: {error}.")
        return EXIT_UNAVAILABLE if failed else EXIT_OK

    run(body)
