"""Connection changes and reads: add, edit, remove, list, show, test.

Settings arrive by their flat names (``qad_url``, ``schedule``, ``cin7_rate_limit``; see
:mod:`ml_connector.connection`), from CLI flags or console forms alike. A new or edited
connection is validated in one place (:func:`_validated`: the typed parts' field rules, then the
URL policy) before anything is stored. Problems are reported by the option a person typed and
never echo the values given.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from ml_connector.connection import ConnectionConfig, setting_name
from ml_connector.errors import ConfigError, UrlRefused
from ml_connector.masking import keep_secret
from ml_connector.qad.profile import QadProfile
from ml_connector.qad.settings import check_base_url
from ml_connector.schedule import DEFAULT_TIMEZONE, parse_schedule, parse_timezone
from ml_connector.store.protocols import Store
from ml_connector.sync.connect import Verdict, check_connection, qad_settings
from ml_connector.usecases.opening import load_connection
from ml_connector.usecases.throttles import cin7_pacer

__all__ = [
    "ConnectionEdit",
    "ConnectionTest",
    "add_connection",
    "build_connection",
    "check_targets",
    "edit_connection",
    "list_connections",
    "ping_connection",
    "remove_connection",
    "show_connection",
]


@dataclass(frozen=True)
class ConnectionTest:
    """Both sides' verdicts; ``ok`` when neither failed."""

    connection: str
    verdicts: tuple[Verdict, ...]

    @property
    def ok(self) -> bool:
        return all(v.ok for v in self.verdicts)

    @property
    def failures(self) -> tuple[Verdict, ...]:
        return tuple(v for v in self.verdicts if not v.ok)


@dataclass(frozen=True)
class ConnectionEdit:
    """The connection after an edit and the names of the settings that changed."""

    config: ConnectionConfig
    settings: tuple[str, ...]


def _option_name(setting: str) -> str:
    return "NAME" if setting == "name" else "--" + setting.replace("_", "-")


def check_targets(
    qad_url: str,
    cin7_base_url: str,
    allow_local: bool,
    schedule: str | None,
    timezone: str | None = None,
    profile: QadProfile | None = None,
) -> None:
    """Refuse bad URLs, schedules and time zones before anyone is asked for a secret.

    A tenant profile's own QXtend URL (`[qxtend] url`) is dialled like the tenant's, so it
    meets the same policy, and a refusal names the profile field.
    """
    check_base_url(qad_url, allow_local=allow_local)
    try:
        check_base_url(cin7_base_url, allow_local=allow_local)
    except UrlRefused as refused:  # one URL policy for every URL we dial
        raise refused.relabel("Cin7 base URL") from None
    if profile is not None and profile.qxtend.url:
        try:
            check_base_url(profile.qxtend.url, allow_local=allow_local)
        except UrlRefused as refused:
            raise refused.relabel(f"profile {profile.name}: [qxtend] url") from None
    if timezone:
        parse_timezone(timezone)
    if schedule:
        parse_schedule(schedule, timezone or DEFAULT_TIMEZONE)


def build_connection(name: str, settings: Mapping[str, Any]) -> ConnectionConfig:
    """A new, validated connection from flat settings (ConfigError naming the options)."""
    return _validated(lambda: ConnectionConfig.from_settings(name, settings))


def _validated(build: Any) -> ConnectionConfig:
    try:
        config: ConnectionConfig = build()
    except ValidationError as exc:
        problems = "; ".join(
            f"{_option_name(setting_name(tuple(err['loc'])))}: "
            + err["msg"].removeprefix("Value error, ")
            for err in exc.errors(include_input=False, include_url=False)
        )
        raise ConfigError(f"connection settings refused: {problems}") from None
    qad_settings(config)
    check_targets(
        config.qad.base_url,
        config.cin7.base_url,
        config.allow_local,
        config.sync.schedule,
        config.sync.timezone,
        config.qad.profile,
    )
    return config


async def add_connection(store: Store, config: ConnectionConfig) -> ConnectionConfig:
    """Store a new connection (secrets encrypted); ConfigError when the name is taken."""
    keep_secret(*config.secrets())
    return await store.add_connection(config)


async def edit_connection(store: Store, name: str, changes: Mapping[str, Any]) -> ConnectionEdit:
    """Change some settings of a stored connection; the rest, its records, audit trail and
    mappings stay. ``None`` resets an optional setting to its default. ``paused`` is not
    edited here: pausing is recorded in the trail (:func:`~ml_connector.usecases.scheduling
    .set_paused`)."""
    if "paused" in changes:
        raise ConfigError(f"pause or resume with `connection pause|resume {name}`")
    current = await load_connection(store, name)
    updated = _validated(lambda: current.with_settings(changes))
    keep_secret(*updated.secrets())
    before, after = current.settings(), updated.settings()
    changed = tuple(s for s in after if after[s] != before.get(s))
    if changed:
        updated = await store.update_connection(updated)
    return ConnectionEdit(updated, changed)


async def list_connections(store: Store) -> list[ConnectionConfig]:
    """Every connection by name, with its health."""
    return await store.list_connections()


async def show_connection(store: Store, name: str) -> ConnectionConfig:
    """One connection's settings (ConfigError if there is none)."""
    return await load_connection(store, name)


async def ping_connection(store: Store, name: str) -> ConnectionTest:
    """Ping both systems and record the connection's health from what they said."""
    config = await load_connection(store, name)
    verdicts = tuple(await check_connection(config, pacer=cin7_pacer(store, config)))
    result = ConnectionTest(name, verdicts)
    assert config.id is not None
    await store.set_health(
        config.id, result.ok, "; ".join(v.message for v in result.failures) or None
    )
    return result


async def remove_connection(store: Store, name: str) -> None:
    """Delete a connection and everything recorded for it; ConfigError if there is none."""
    if not await store.remove_connection(name):
        raise ConfigError(f"no connection named {name!r}")
