"""The tenant URL check: what a hosted connector must refuse, and what it must let through."""

from __future__ import annotations

import pytest

from ml_connector.errors import ConfigError
from ml_connector.qad import QadSettings, check_base_url

REFUSED_ALWAYS = [
    ("ftp://acme.qad.com/clouderp", "https://"),
    ("acme.qad.com/clouderp", "https://"),
    ("http://acme.qad.com/clouderp", "https://"),
    ("https://user:pw@acme.qad.com/clouderp", "credentials"),
    ("https://user@acme.qad.com/clouderp", "credentials"),
    ("https://acme.qad.com/clouderp#frag", "fragment"),
    ("https://acme.qad.com/clouderp#", "fragment"),
    ("https://acme.qad.com/clouderp?x=1", "query"),
    ("https://acme.qad.com/clouderp?", "query"),
    ("https:///clouderp", "no host"),
    ("https://acme.qad.com:99999/clouderp", "port"),
    ("https://acme.qad.com\\@127.0.0.1/", "backslash"),
    (" https://acme.qad.com/clouderp", "spaces"),
    ("https://acme qad.com/clouderp", "spaces"),
    ("", "empty"),
    ("https://[fe80::1%25eth0]/clouderp", "zone"),
    ("https://acme.qad.com\uff3c@127.0.0.1/", "backslash"),  # fullwidth backslash folds to one
    ("https://" + "\u0080" * 3 + ".com/", "valid host"),
]

LOCAL_TARGETS = [
    "https://127.0.0.1/clouderp",
    "https://127.8.9.10/",
    "https://10.0.0.5/clouderp",
    "https://172.16.3.4/",
    "https://192.168.1.10/",
    "https://169.254.169.254/latest/meta-data",
    "https://100.64.0.1/",
    "https://0.0.0.0/",
    "https://224.0.0.1/",
    "https://240.0.0.1/",
    "https://255.255.255.255/",
    "https://[::1]/clouderp",
    "https://[::]/",
    "https://[fe80::1]/",
    "https://[fc00::1]/",
    "https://[ff02::1]/",
    "https://[::ffff:127.0.0.1]/",
    "https://[::ffff:7f00:1]/",
    "https://[::ffff:10.0.0.1]/",
    "https://[64:ff9b::a9fe:a9fe]/",
    "https://[2002:7f00:1::]/",
    "https://2130706433/",  # 127.0.0.1 as one decimal number
    "https://0x7f000001/",
    "https://017700000001/",
    "https://0x7f.0.0.1/",
    "https://0177.0.0.1/",
    "https://127.1/",
    "https://10.1/",
    "https://3232235777/",  # 192.168.1.1
    "https://localhost/clouderp",
    "https://LOCALHOST./clouderp",
    "https://qad.localhost/",
    "https://qad.local/",
    "https://erp.corp.internal/",
    "https://metadata.google.internal/",
    "https://qadserver/clouderp",
]

# Unicode look-alikes of local targets: folded (NFKC, IDNA separators) before any check.
LOCAL_LOOKALIKES = [
    ("https://①②⑦.0.0.1/", "https://127.0.0.1"),
    ("https://１２７.０.０.１/clouderp", "https://127.0.0.1/clouderp"),
    ("https://127。0。0。1/", "https://127.0.0.1"),
    ("https://127．0．0．1/", "https://127.0.0.1"),
    ("https://１０.０.０.５/", "https://10.0.0.5"),
    ("https://ｌｏｃａｌｈｏｓｔ/clouderp", "https://localhost/clouderp"),
    ("https://qad.ｌｏｃａｌ/", "https://qad.local"),
    ("https://[::①]/", "https://[::1]"),
]

ALLOWED = [
    ("https://acme.qad.com/clouderp", "https://acme.qad.com/clouderp"),
    ("https://acme.qad.com/clouderp/", "https://acme.qad.com/clouderp"),
    ("https://acme-nonprod.qad.com/clouderp/test", "https://acme-nonprod.qad.com/clouderp/test"),
    ("https://eeadaptive.yash.com:33005/clouderp", "https://eeadaptive.yash.com:33005/clouderp"),
    ("https://8.8.8.8/clouderp", "https://8.8.8.8/clouderp"),
    ("HTTPS://ACME.QAD.COM/clouderp", "HTTPS://ACME.QAD.COM/clouderp"),
    # What is checked is what is dialled: the folded, ASCII form.
    ("https://ａｃｍｅ.qad.com/clouderp", "https://acme.qad.com/clouderp"),
    ("https://acme.qad.com:３３００５/clouderp", "https://acme.qad.com:33005/clouderp"),
    ("https://bücher.example.com/clouderp/", "https://xn--bcher-kva.example.com/clouderp"),
    ("https://acme。qad。com/clouderp", "https://acme.qad.com/clouderp"),
]


@pytest.mark.parametrize(("url", "reason"), REFUSED_ALWAYS)
@pytest.mark.parametrize("allow_local", [False, True])
def test_refused_whatever_allow_local(url: str, reason: str, allow_local: bool) -> None:
    with pytest.raises(ConfigError):
        check_base_url(url, allow_local=allow_local)


@pytest.mark.parametrize("url", LOCAL_TARGETS)
def test_local_targets_refused_by_default(url: str) -> None:
    with pytest.raises(ConfigError, match="local or private"):
        check_base_url(url)


@pytest.mark.parametrize(("url", "normalised"), LOCAL_LOOKALIKES)
def test_lookalikes_of_local_targets_are_refused(url: str, normalised: str) -> None:
    with pytest.raises(ConfigError, match="local or private"):
        check_base_url(url)
    assert check_base_url(url, allow_local=True) == normalised


@pytest.mark.parametrize("url", LOCAL_TARGETS)
def test_local_targets_allowed_when_asked(url: str) -> None:
    assert check_base_url(url, allow_local=True) == url.rstrip("/")
    http = "http://" + url.removeprefix("https://")
    assert check_base_url(http, allow_local=True) == http.rstrip("/")


@pytest.mark.parametrize(("url", "normalised"), ALLOWED)
def test_public_https_allowed(url: str, normalised: str) -> None:
    assert check_base_url(url) == normalised


def test_http_to_a_public_host_is_refused_even_with_allow_local() -> None:
    with pytest.raises(ConfigError, match="https"):
        check_base_url("http://acme.qad.com/clouderp", allow_local=True)


def _settings(**overrides: object) -> QadSettings:
    values: dict[str, object] = {
        "base_url": "https://acme.qad.com/clouderp/",
        "client_id": "afb97fd2",
        "username": "integration",
        "password": "s3cret-Passw0rd",
    }
    values.update(overrides)
    return QadSettings(**values)  # type: ignore[arg-type]


def test_settings_check_the_url_at_construction() -> None:
    assert _settings().base_url == "https://acme.qad.com/clouderp"
    with pytest.raises(ConfigError, match="local or private"):
        _settings(base_url="http://127.0.0.1:8702/acme/clouderp")
    local = _settings(base_url="http://127.0.0.1:8702/acme/clouderp", allow_local=True)
    assert local.base_url == "http://127.0.0.1:8702/acme/clouderp"


def test_settings_defaults_follow_the_contract() -> None:
    s = _settings()
    assert (s.domain, s.entity, s.supplier_shared_set) == ("10USA", "10USACO", "10USA")
    assert (s.daybook, s.invoice_status, s.default_site) == ("SUPINV", "AP-INITIAL", None)


def test_settings_never_show_the_password() -> None:
    s = _settings()
    for text in (repr(s), str(s), s.model_dump_json()):
        assert "s3cret-Passw0rd" not in text
    assert s.password.get_secret_value() == "s3cret-Passw0rd"


def test_settings_are_frozen() -> None:
    s = _settings()
    with pytest.raises(ValueError, match="frozen"):
        s.base_url = "https://127.0.0.1/"  # type: ignore[misc]
