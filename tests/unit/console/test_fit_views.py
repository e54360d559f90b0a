"""`connection fit` prints its advice as written: profile fields are in brackets, not markup."""

from __future__ import annotations

from rich.console import Console

from ml_connector.cli import views
from ml_connector.usecases.fit import Capability, FitReport


def rendered(report: FitReport) -> str:
    console = Console(width=400, record=True)
    console.print(views.fit_table(views.fit_doc(report)))
    return console.export_text()


def test_profile_fields_in_brackets_print_as_they_are() -> None:
    report = FitReport(
        "acme",
        "[x].toml",
        [
            Capability(
                "receipts",
                False,
                "over QXtend: no QdocWebService (HTTP 404) [/qxi]",
                "use the rest profile, or set [qxtend] url if it lives elsewhere",
                "profile",
            ),
            Capability(
                "browse sites", False, "keys [b]site.code[/b]", "set [browses.sites] code = 'x'"
            ),
        ],
    )

    text = rendered(report)

    assert "Profile [x].toml: the tenant does not fit" in text
    assert "set [qxtend] url if it lives elsewhere" in text
    assert "set [browses.sites] code = 'x'" in text
    assert "(HTTP 404) [/qxi]" in text  # a closing tag of no markup is not an error
    assert "keys [b]site.code[/b]" in text
