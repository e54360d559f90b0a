"""A connection's typed settings: parts that refuse unknown fields, defaults in one place, one
flat vocabulary for flags, documents and storage, and one view without secrets."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from pydantic import BaseModel, SecretStr, ValidationError

from ml_connector.connection import (
    SETTINGS,
    STORED_SECRET,
    Cin7Settings,
    ConnectionConfig,
    QadTenantSettings,
    SyncOptions,
    setting_name,
)
from ml_connector.errors import ConfigError
from ml_connector.qad.profile import BUILT_IN

KEY = "app-key-SECRET-1"
PASSWORD = "qad-pass-SECRET-2"


def flat(**changes: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "cin7_account_id": "acc-1",
        "cin7_application_key": KEY,
        "qad_url": "https://acme.qad.example/clouderp",
        "qad_client_id": "client",
        "qad_username": "integration",
        "qad_password": PASSWORD,
        "qad_domain": "10USA",
        "qad_entity": "10USACO",
    }
    values.update(changes)
    return values


def test_every_field_of_every_part_has_one_flat_name() -> None:
    places = set(SETTINGS.values())
    for part, model in (("cin7", Cin7Settings), ("qad", QadTenantSettings), ("sync", SyncOptions)):
        for field in model.model_fields:
            assert (part, field) in places, f"{part}.{field} has no flat setting name"
    assert len(places) == len(SETTINGS)


def test_defaults_live_on_the_parts() -> None:
    config = ConnectionConfig.from_settings("acme", flat())
    assert config.cin7.base_url.startswith("https://inventory.dearsystems.com/")
    assert config.qad.daybook == "SUPINV"
    assert config.qad.shared_set == "10USA"  # the domain unless one is given
    assert config.qad.profile is None
    assert config.sync == SyncOptions()
    assert (config.sync.cin7_rate_limit, config.sync.cin7_timeout) == (60, 30.0)
    assert config.sync.rounding == "half-up"
    assert config.sync.over_receipt_pct == Decimal(0)
    assert config.allow_local is False
    assert config.settings(changed_only=True) == {
        **{k: v for k, v in config.settings().items() if k in flat()},
        "allow_local": False,
    }


def test_parts_are_frozen_and_refuse_unknown_fields() -> None:
    config = ConnectionConfig.from_settings("acme", flat())
    with pytest.raises(ValidationError):
        config.sync.cin7_rate_limit = 5  # type: ignore[misc]
    with pytest.raises(ValidationError):
        SyncOptions.model_validate({"cin7_rate_lmit": 5})
    with pytest.raises(ConfigError, match="unknown connection setting 'qad_base_url'"):
        ConnectionConfig.from_settings("acme", flat(qad_base_url="https://x.example/"))


@pytest.mark.parametrize(
    ("change", "where"),
    [
        ({"schedule": "hourly"}, "schedule"),
        ({"cin7_rate_limit": 0}, "cin7_rate_limit"),
        ({"qad_timeout": -1}, "qad_timeout"),
        ({"rounding": "up"}, "rounding"),
        ({"over_receipt_pct": "-5"}, "over_receipt_pct"),
        ({"qad_domain": ""}, "qad_domain"),
        ({"qad_url": ""}, "qad_url"),
    ],
)
def test_validation_names_the_flat_setting(change: dict[str, Any], where: str) -> None:
    with pytest.raises(ValidationError) as refused:
        ConnectionConfig.from_settings("acme", flat(**change))
    assert [setting_name(tuple(e["loc"])) for e in refused.value.errors()] == [where]


def test_changing_settings_validates_again_and_keeps_identity() -> None:
    config = ConnectionConfig.from_settings("acme", flat(schedule="every 15m", qad_site="10-100"))
    stored = config.model_copy(update={"id": 7, "healthy": False, "health_message": "refused"})
    changed = stored.with_settings(
        {"qad_password": "new-pass", "cin7_rate_limit": 30, "qad_site": None}
    )
    assert (changed.id, changed.name, changed.healthy) == (7, "acme", False)
    assert changed.qad.password.get_secret_value() == "new-pass"
    assert isinstance(changed.qad.password, SecretStr)
    assert changed.sync.cin7_rate_limit == 30
    assert changed.qad.site is None  # None resets to the default
    assert changed.sync.schedule == "every 15m"  # untouched settings stay
    assert changed.cin7 == stored.cin7
    with pytest.raises(ValidationError):
        stored.with_settings({"schedule": "sometimes"})


def test_the_public_view_shows_every_setting_but_no_secret() -> None:
    config = ConnectionConfig.from_settings(
        "acme",
        flat(
            schedule="every 1h",
            cin7_rate_limit=100_000,
            over_receipt_pct="2.5",
            qad_profile=BUILT_IN["qxtend"],
        ),
    )
    view = config.public()
    text = repr(view) + repr(config) + config.model_dump_json()
    assert KEY not in text
    assert PASSWORD not in text
    assert view["cin7_application_key"] == view["qad_password"] == STORED_SECRET
    assert view["qad_url"] == "https://acme.qad.example/clouderp"
    assert view["schedule"] == "every 1h"
    assert view["qad_profile"] == "qxtend"
    assert view["qad_channels"] == {
        "suppliers": "rest",
        "purchase_orders": "qxtend",
        "receipts": "qxtend",
        "invoices": "qxtend",
    }
    assert view["options"] == {"cin7_rate_limit": 100_000, "over_receipt_pct": Decimal("2.5")}
    assert not any(isinstance(v, BaseModel | SecretStr) for v in view.values())
    assert config.secrets() == (KEY, PASSWORD)


def test_flat_settings_round_trip() -> None:
    config = ConnectionConfig.from_settings(
        "acme", flat(allow_local=True, create_missing_items=True, qad_profile=BUILT_IN["mixed"])
    )
    again = ConnectionConfig.from_settings("acme", config.settings())
    assert again == config
