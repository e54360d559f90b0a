"""The reconcile views show amounts with the currency's decimals, rounded like posting."""

from __future__ import annotations

from decimal import Decimal

from rich.console import Console

from ml_connector.cli import views
from ml_connector.store.models import ReconcileLine
from ml_connector.usecases import Reconciliation


def rendered(lines: list[ReconcileLine]) -> str:
    console = Console(width=200, record=True)
    doc = views.reconcile_doc(Reconciliation("acme", None, tuple(lines)))
    console.print(views.reconcile_tables(doc))
    return console.export_text()


def test_half_a_cent_shows_as_posted_and_credit_notes_have_a_column() -> None:
    text = rendered(
        [
            ReconcileLine(
                "s1",
                "Acme",
                "USD",
                invoiced=Decimal("547.665"),
                credited=Decimal("42.505"),
                posted=Decimal("505.16"),
            ),
            ReconcileLine("s2", "Kaiju", "JPY", invoiced=Decimal("1234.5")),
        ]
    )

    assert "547.67" in text
    assert "547.66" not in text
    assert "credited in Cin7" in text
    assert "42.51" in text
    assert "1,235" in text
    assert "1,234.50" not in text
