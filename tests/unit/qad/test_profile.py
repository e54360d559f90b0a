"""Tenant profiles: the built-ins, TOML files, and one precise error per bad field."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from ml_connector.errors import ConfigError
from ml_connector.qad.profile import (
    BUILT_IN,
    ProfileError,
    QadProfile,
    load_profile,
    parse_profile,
    stored_profile,
)
from ml_connector.qad.routing import with_profile
from ml_connector.qad.settings import QadSettings

FULL = """
dates = "datetime"

[channels]
suppliers = "rest"
purchase_orders = "qxtend"
receipts = "qxtend"
invoices = "rest"

[qxtend]
url = "https://qad.example.com/qxi/services/QdocWebService"
receiver = "QADFIN"
[qxtend.versions]
receivePurchaseOrder = "eB2_3"

[browses.sites]
id = "urn:browse:bebrowse:com.qad.erp.base.sitesV2"
code = "siteV2.siteCode"

[defaults]
daybook_set = "DBS-AP"
bill_to = "10-100"
exchange_rate_type = "ACCOUNTING"
invoice_status = "AP-NOALLOC"
rounding = 3
[defaults.supplier_gl_profiles]
invoice_control = "AP-CTRL"
"""


def write(tmp_path: Path, text: str, name: str = "acme.toml") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_built_in_profiles_route_the_four_capabilities() -> None:
    routes = {
        name: tuple(
            p.channels.of(c) for c in ("suppliers", "purchase_orders", "receipts", "invoices")
        )
        for name, p in BUILT_IN.items()
    }
    assert routes == {
        "rest": ("rest", "rest", "rest", "rest"),
        "qxtend": ("rest", "qxtend", "qxtend", "qxtend"),
        "mixed": ("rest", "rest", "qxtend", "qxtend"),
    }
    assert load_profile("mixed") is BUILT_IN["mixed"]
    assert not BUILT_IN["rest"].channels.uses_qxtend


def test_a_file_sets_what_it_names_and_keeps_the_rest_defaults(tmp_path: Path) -> None:
    profile = load_profile(write(tmp_path, FULL))
    assert profile.name == "acme.toml"
    assert profile.dates == "datetime"
    assert profile.channels.of("purchase_orders") == "qxtend"
    assert profile.qxtend.receiver == "QADFIN"
    assert profile.qxtend.versions.receivePurchaseOrder == "eB2_3"
    assert profile.qxtend.versions.bcinvoice == "ERP3_1"
    assert profile.browses.sites.code == "siteV2.siteCode"
    assert profile.browses.sites.description == "site.description"
    assert profile.browses.currencies.code == "currency.currencyCode"
    assert profile.defaults.rounding == 3
    assert profile.defaults.supplier_gl_profiles.invoice_control == "AP-CTRL"
    assert profile.qxtend_url("https://x/clouderp") == profile.qxtend.url


def test_without_a_url_qxtend_hangs_off_the_qad_url() -> None:
    assert BUILT_IN["mixed"].qxtend_url("https://acme.qad.com/clouderp/") == (
        "https://acme.qad.com/clouderp/qxi/services/QdocWebService"
    )


def test_an_empty_file_is_the_rest_profile_under_its_name(tmp_path: Path) -> None:
    profile = load_profile(write(tmp_path, "", "empty.toml"))
    assert profile == QadProfile(name="empty.toml")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[chanels]\nreceipts = 'rest'", "[chanels]: unknown table"),
        ("[channels]\nreceipt = 'rest'", "[channels] receipt: unknown key"),
        ("[channels]\nreceipts = 'soap'", "[channels] receipts: 'soap' is not one of rest, qxtend"),
        ("[channels]\nsuppliers = 'qxtend'", "[channels] suppliers: 'qxtend' is not supported"),
        ("dates = 'us'", "dates: 'us' is not one of date, datetime"),
        ("colour = 'red'", "colour: unknown key"),
        ("[qxtend]\nreceiver = ''", "[qxtend] receiver: ''"),
        (
            "[qxtend.versions]\nshipSalesOrder = 'X'",
            "[qxtend.versions] shipSalesOrder: unknown key",
        ),
        ("[browses.sites]\nkey = 'x'", "[browses.sites] key: unknown key"),
        ("[browses.sites]\ncode = ''", "[browses.sites] code: '': must not be blank"),
        ("[browses.receipts]\nid = ' '", "[browses.receipts] id: ' ': must not be blank"),
        ("[browses.projects]\nid = 'x'", "[browses.projects]: unknown table"),
        ("[defaults]\nrounding = 9", "[defaults] rounding: 9"),
        # TOML has types: a quoted number or a float is a mistake, not something to coerce.
        ("[defaults]\nrounding = '2'", "[defaults] rounding: '2': Input should be a valid int"),
        ("[defaults]\nrounding = 2.0", "[defaults] rounding: 2.0: Input should be a valid int"),
        ("[browses.sites]\ncode = 3", "[browses.sites] code: 3: Input should be a valid str"),
        ("[defaults]\nbill = 'x'", "[defaults] bill: unknown key"),
        ("channels = 'rest'", "channels: must be a table"),
        ("name = 'x'", "name: unknown key"),
    ],
)
def test_each_bad_field_is_named(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ProfileError) as raised:
        load_profile(write(tmp_path, text))
    assert str(raised.value).startswith("profile acme.toml: ")
    assert message in str(raised.value)
    assert "\n" not in str(raised.value)
    assert isinstance(raised.value, ConfigError)


def test_unknown_names_unreadable_files_and_bad_toml(tmp_path: Path) -> None:
    with pytest.raises(ProfileError, match="unknown QAD profile 'fast'"):
        load_profile("fast")
    with pytest.raises(ProfileError, match="cannot read it"):
        load_profile(str(tmp_path / "missing.toml"))
    with pytest.raises(ProfileError, match="not valid TOML"):
        load_profile(write(tmp_path, "[channels\n"))


def test_a_stored_profile_reads_back_the_same() -> None:
    profile = parse_profile({"channels": {"receipts": "qxtend"}}, name="p.toml")
    assert stored_profile(profile.stored()) == profile
    assert stored_profile(None) is BUILT_IN["rest"]
    with pytest.raises(ProfileError, match=r"stored profile: \[channels\] receipts"):
        stored_profile({"channels": {"receipts": "ftp"}})


def test_the_invoice_status_a_connection_sets_wins_over_its_profiles() -> None:
    base = QadSettings(
        base_url="https://acme.qad.com/clouderp",
        client_id="c",
        username="u",
        password="p",
    )
    profile = parse_profile(tomllib.loads(FULL), name="acme.toml")

    assert with_profile(base, profile).invoice_status == "AP-NOALLOC"
    own = base.model_copy(update={"invoice_status": "AP-GLALLOC"})
    assert with_profile(own, profile).invoice_status == "AP-GLALLOC"
    assert with_profile(base, BUILT_IN["rest"]).invoice_status == "AP-INITIAL"
