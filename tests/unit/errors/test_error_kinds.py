"""Errors carry their kind in their class: a connection test's verdict and a refused URL's
wording follow the class raised, never the words of a message."""

from __future__ import annotations

import pytest

from ml_connector.errors import (
    AuthRejected,
    ConfigError,
    ConnectorError,
    PermissionDenied,
    RateLimited,
    Unavailable,
    UrlRefused,
    WrongTenantUrl,
)
from ml_connector.qad.profile import parse_profile
from ml_connector.qad.settings import check_base_url
from ml_connector.sync.connect import verdict_problem
from ml_connector.usecases import check_targets


@pytest.mark.parametrize(
    ("error", "problem"),
    [
        (PermissionDenied("no role", system="qad", status=403), "permission"),
        (AuthRejected("refused", system="cin7", status=403), "credentials"),
        (WrongTenantUrl("QAD answered 404"), "tenant-url"),
        (UrlRefused("must not contain credentials"), "tenant-url"),
        # Words alone classify nothing: a setting problem that mentions a URL is still config.
        (ConfigError("QAD base URL is fine but the daybook is not"), "config"),
        (RateLimited("slow down", system="cin7", retry_after=60), "rate-limited"),
        (Unavailable("timed out", system="qad"), "unreachable"),
        (ConnectorError("something else"), "other"),
    ],
)
def test_a_verdict_follows_the_class_raised(error: ConnectorError, problem: str) -> None:
    assert verdict_problem(error) == problem


def test_a_refused_url_names_its_rule_and_which_system() -> None:
    with pytest.raises(UrlRefused) as refused:
        check_base_url("https://user:pw@qad.example.com/clouderp")
    assert refused.value.rule == "must not contain credentials (user:password@host)"
    assert str(refused.value) == "QAD base URL must not contain credentials (user:password@host)"
    assert isinstance(refused.value, ConfigError)  # exit 2, like every setting problem

    with pytest.raises(UrlRefused) as cin7:
        check_targets(
            "https://acme.qad.example.com/clouderp",
            "http://cin7.example.com/ExternalApi/v2/",
            False,
            None,
        )
    assert str(cin7.value) == (
        "Cin7 base URL must use https:// (http is only allowed for local hosts)"
    )
    assert cin7.value.label == "Cin7 base URL"


def test_a_profiles_qxtend_url_meets_the_same_policy_and_names_the_field() -> None:
    tenant = ("https://acme.qad.example.com/clouderp", "https://cin7.example.com/ExternalApi/v2/")
    inside = parse_profile(
        {"qxtend": {"url": "http://10.0.0.5:22079/qxi/services/QdocWebService"}}, name="acme.toml"
    )
    with pytest.raises(UrlRefused) as refused:
        check_targets(*tenant, False, None, profile=inside)
    assert str(refused.value) == (
        "profile acme.toml: [qxtend] url points at a local or private address (10.0.0.5); "
        "refused unless local targets are explicitly allowed"
    )
    check_targets(*tenant, True, None, profile=inside)  # --allow-local: an on-premise QXtend

    ftp = parse_profile({"qxtend": {"url": "ftp://qad.example.com/qxi"}}, name="ftp.toml")
    with pytest.raises(UrlRefused, match=r"^profile ftp.toml: \[qxtend\] url must start with"):
        check_targets(*tenant, True, None, profile=ftp)
    check_targets(*tenant, False, None, profile=parse_profile({}, name="default.toml"))
