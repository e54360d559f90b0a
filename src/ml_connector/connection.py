"""One connection's settings: its Cin7 Core account, its QAD tenant and how it syncs.

A :class:`ConnectionConfig` is made of typed parts, each frozen and refusing unknown fields:

- :class:`Cin7Settings`: the account id, the application key, the API base URL;
- :class:`QadTenantSettings`: the tenant URL, OAuth client, integration user and password,
  domain, entity, default site, supplier shared set, daybook, tenant profile, the status
  supplier invoices post with;
- :class:`SyncOptions`: the schedule, its time zone and whether it is paused, rate limit and
  timeouts, and the planning options (new items and their GL account, credit terms for new
  suppliers, rounding, tolerances) and the go-live settings (cut-over date ``since``,
  ``adopt_existing``).

Every default lives on its field here and nowhere else. A new setting is one field on its part
plus its name in :data:`SETTINGS` (the flat vocabulary the CLI flags, the JSON documents and the
console's forms share: ``qad_url``, ``schedule``, ``cin7_rate_limit``...). Secrets are
:class:`pydantic.SecretStr` throughout, so a repr or a log line shows ``**********``, and
:meth:`ConnectionConfig.public` is the one view of a connection with its secrets left out.

Field shapes are checked here (lengths, numbers, the schedule's syntax); the URL policy, which
depends on ``allow_local``, is checked where connections are built
(:func:`ml_connector.usecases.connections.build_connection`).

The store keeps the settings that have columns of their own in them and the rest (the sync
options, the profile) as one JSON object by flat name, only where they differ from their
defaults: :meth:`ConnectionConfig.settings` and :meth:`ConnectionConfig.from_settings` are the
two directions.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from ml_connector.errors import ConfigError
from ml_connector.qad.profile import BUILT_IN, QadProfile
from ml_connector.qad.settings import DEFAULT_INVOICE_STATUS
from ml_connector.schedule import DEFAULT_TIMEZONE, parse_schedule, parse_timezone
from ml_connector.sync.amounts import RoundingMode

__all__ = [
    "DEFAULT_CIN7_BASE_URL",
    "DEFAULT_DAYBOOK",
    "SECRET_SETTINGS",
    "SETTINGS",
    "STORED_SECRET",
    "Cin7Settings",
    "ConnectionConfig",
    "QadTenantSettings",
    "SyncOptions",
]

DEFAULT_CIN7_BASE_URL = "https://inventory.dearsystems.com/ExternalApi/v2/"
DEFAULT_DAYBOOK = "SUPINV"
STORED_SECRET = "stored, encrypted"
"""What a view shows in place of a secret."""


class _Part(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Cin7Settings(_Part):
    """The Cin7 Core account: Cin7 limits calls per application key."""

    account_id: str = Field(min_length=1, max_length=64)
    application_key: SecretStr
    base_url: str = Field(default=DEFAULT_CIN7_BASE_URL, min_length=1, max_length=512)


class QadTenantSettings(_Part):
    """The QAD tenant and the integration user ml-connector signs in as."""

    base_url: str = Field(min_length=1, max_length=512)
    client_id: str = Field(min_length=1, max_length=128)
    username: str = Field(min_length=1, max_length=128)
    password: SecretStr
    domain: str = Field(min_length=1, max_length=32)
    entity: str = Field(min_length=1, max_length=32)
    site: str | None = Field(default=None, max_length=32)
    supplier_shared_set: str | None = Field(default=None, max_length=32)
    daybook: str = Field(default=DEFAULT_DAYBOOK, min_length=1, max_length=32)
    profile: QadProfile | None = None
    # Supplier invoices post with this status; QAD's receiver matching then finishes them.
    invoice_status: str = Field(default=DEFAULT_INVOICE_STATUS, min_length=1, max_length=32)

    @property
    def shared_set(self) -> str:
        """The supplier shared set new suppliers go in: the one given, else the domain."""
        return self.supplier_shared_set or self.domain


class SyncOptions(_Part):
    """How the connection syncs and what the planner may do on its own."""

    schedule: str | None = Field(default=None, max_length=64)
    """``every 15m`` or a cron expression (:mod:`ml_connector.schedule`); None: by hand only."""
    timezone: str = Field(default=DEFAULT_TIMEZONE, min_length=1, max_length=64)
    """The IANA zone a cron schedule's wall clock is read in."""
    paused: bool = False
    """Left alone by ``run`` and the scheduler (``connection pause|resume``, which record it in
    the connection's trail; it is not changed by ``connection edit``)."""
    cin7_rate_limit: int = Field(default=60, ge=1)
    cin7_timeout: float = Field(default=30.0, gt=0)
    qad_timeout: float = Field(default=30.0, gt=0)
    create_missing_items: bool = False
    item_gl_account: str | None = Field(default=None, max_length=32)
    default_credit_terms: str | None = Field(default=None, max_length=32)
    rounding: RoundingMode = "half-up"
    over_receipt_pct: Decimal = Field(default=Decimal(0), ge=0)
    price_tolerance_pct: Decimal = Field(default=Decimal(0), ge=0)
    price_tolerance_amount: Decimal = Field(default=Decimal(0), ge=0)
    since: date | None = None
    """The cut-over date (README, "Going live"): a purchase ordered before it creates nothing
    in QAD unless something on it is dated on or after it (then: adoption or the worklist)."""
    adopt_existing: bool = True
    """Before creating a PO, receipt or invoice, look for it in QAD (keyed there by hand)."""

    @field_validator("timezone")
    @classmethod
    def _timezone_is_known(cls, value: str) -> str:
        try:
            return parse_timezone(value).key
        except ConfigError as exc:
            raise ValueError(str(exc)) from None

    @field_validator("schedule")
    @classmethod
    def _schedule_is_understood(cls, value: str | None) -> str | None:
        if value:
            try:
                parse_schedule(value)
            except ConfigError as exc:
                raise ValueError(str(exc)) from None
        return value or None


SETTINGS: Mapping[str, tuple[str, str]] = {
    "cin7_account_id": ("cin7", "account_id"),
    "cin7_application_key": ("cin7", "application_key"),
    "cin7_base_url": ("cin7", "base_url"),
    "qad_url": ("qad", "base_url"),
    "qad_client_id": ("qad", "client_id"),
    "qad_username": ("qad", "username"),
    "qad_password": ("qad", "password"),
    "qad_domain": ("qad", "domain"),
    "qad_entity": ("qad", "entity"),
    "qad_site": ("qad", "site"),
    "qad_supplier_shared_set": ("qad", "supplier_shared_set"),
    "qad_daybook": ("qad", "daybook"),
    "qad_profile": ("qad", "profile"),
    "qad_invoice_status": ("qad", "invoice_status"),
    **{name: ("sync", name) for name in SyncOptions.model_fields},
}
"""Each setting's flat name (``--qad-url``, ``"qad_url"`` in JSON) and where it lives."""

SECRET_SETTINGS = frozenset({"cin7_application_key", "qad_password"})
_SCHEDULING = frozenset({"schedule", "timezone", "paused"})

_PLACES = {place: name for name, place in SETTINGS.items()}


class ConnectionConfig(BaseModel):
    """One Cin7 Core account paired with one QAD tenant.

    Build it with plain secret strings (pydantic wraps them in ``SecretStr``), or from flat
    settings with :meth:`from_settings`; change it with :meth:`with_settings`, which validates
    again. The store encrypts the secrets on write and hands them back decrypted, still wrapped,
    on read; ``id``, ``created_at`` and the health fields are filled in by the store.
    ``allow_local`` admits local or private addresses and http:// for both systems' URLs
    (sandboxes, on-premise trials).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
    cin7: Cin7Settings
    qad: QadTenantSettings
    sync: SyncOptions = SyncOptions()
    allow_local: bool = False
    id: int | None = None
    created_at: datetime | None = None
    healthy: bool = True
    health_message: str | None = None
    health_checked_at: datetime | None = None

    @classmethod
    def from_settings(
        cls, name: str, settings: Mapping[str, Any], **stored: Any
    ) -> ConnectionConfig:
        """A connection from flat settings (``qad_url``, ``schedule``..., ``allow_local``);
        ``stored`` carries what the store fills in (``id``, ``created_at``, health).

        Raises pydantic's ``ValidationError``; :func:`setting_name` names its locations.
        """
        return cls.model_validate({"name": name, **_nest(settings), **stored})

    def settings(self, *, changed_only: bool = False) -> dict[str, Any]:
        """Every setting by flat name (secrets still wrapped), plus ``allow_local``;
        ``changed_only`` keeps only those that differ from their defaults."""
        flat: dict[str, Any] = {}
        for setting, (part, field) in SETTINGS.items():
            model = getattr(self, part)
            value = getattr(model, field)
            if changed_only and value == type(model).model_fields[field].get_default(
                call_default_factory=True
            ):
                continue
            flat[setting] = value
        flat["allow_local"] = self.allow_local
        return flat

    def with_settings(self, settings: Mapping[str, Any]) -> ConnectionConfig:
        """This connection with some flat settings changed, validated again (id, name and
        health stay). A value of ``None`` resets an optional setting to its default."""
        current = self.model_dump()
        for part, fields in _nest(settings).items():
            if not isinstance(fields, dict):
                current[part] = fields
                continue
            for field, value in fields.items():
                if value is None:
                    current[part].pop(field, None)  # back to the field's default
                else:
                    current[part][field] = value
        return type(self).model_validate(current)

    def public(self) -> dict[str, Any]:
        """The connection as people may see it: every setting by flat name with the secrets
        shown as ``stored, encrypted``, the profile by its name and the channel each capability
        takes (``qad_channels``); the sync options other than
        the schedule, its time zone and ``paused`` under ``options``, only where they differ
        from their defaults."""
        view: dict[str, Any] = {"name": self.name, "id": self.id}
        changed = self.settings(changed_only=True)
        options: dict[str, Any] = {}
        for setting, value in self.settings().items():
            if isinstance(value, SecretStr):
                value = STORED_SECRET
            elif isinstance(value, QadProfile):
                value = value.name
            if SETTINGS.get(setting, ("",))[0] == "sync" and setting not in _SCHEDULING:
                if setting in changed:
                    options[setting] = value
                continue
            view[setting] = value
        view["options"] = options
        # A profile file is read once and its path forgotten: its routing shows here.
        profile = self.qad.profile or BUILT_IN["rest"]
        view["qad_channels"] = profile.channels.model_dump()
        view.update(
            healthy=self.healthy,
            health_message=self.health_message,
            health_checked_at=self.health_checked_at,
            created_at=self.created_at,
        )
        return view

    def secrets(self) -> tuple[str, str]:
        """The plain secrets, for masking in messages (never for showing)."""
        return (
            self.cin7.application_key.get_secret_value(),
            self.qad.password.get_secret_value(),
        )


def setting_name(location: tuple[int | str, ...]) -> str:
    """The flat setting name of a validation error's location (``("qad", "base_url")`` →
    ``qad_url``)."""
    if len(location) >= 2 and (str(location[0]), str(location[1])) in _PLACES:
        return _PLACES[(str(location[0]), str(location[1]))]
    return ".".join(str(part) for part in location) or "?"


def _nest(settings: Mapping[str, Any]) -> dict[str, Any]:
    nested: dict[str, Any] = {}
    for setting, value in settings.items():
        if setting == "allow_local":
            nested["allow_local"] = value
            continue
        if setting not in SETTINGS:
            raise ConfigError(f"unknown connection setting {setting!r}")
        part, field = SETTINGS[setting]
        nested.setdefault(part, {})[field] = value
    return nested
