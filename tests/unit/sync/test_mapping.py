"""Cross-reference rules: suggestions on the sandbox catalogue, normalisation, CSV exchange."""

from __future__ import annotations

import pytest

from ml_connector.cin7.models import Account, Location, PaymentTerm, Product, Supplier, TaxRule
from ml_connector.errors import ConfigError
from ml_connector.sandbox.catalog import DIVERGENCES, cin7_catalog, qad_catalog
from ml_connector.sync.mapping import (
    KINDS,
    Cin7Ref,
    Cin7Reference,
    MappingRow,
    QadRef,
    QadReference,
    SuggestionReport,
    as_tables,
    export_csv,
    import_csv,
    normalise,
    normalise_code,
    suggest,
    suggest_all,
)


def sandbox_sides() -> tuple[Cin7Reference, QadReference]:
    cin7 = cin7_catalog()
    qad = qad_catalog()
    cin7_side = Cin7Reference(
        accounts=[Cin7Ref(a.code, a.name, a.status == "ACTIVE") for a in cin7.accounts],
        products=[Cin7Ref(p.sku, p.name) for p in cin7.products if p.stocked],
        locations=[Cin7Ref(loc.name, loc.name) for loc in cin7.locations],
        payment_terms=[Cin7Ref(t.name, t.name) for t in cin7.payment_terms],
        tax_rules=[Cin7Ref(t.name, t.name) for t in cin7.tax_rules],
        currencies=[Cin7Ref(code, code) for code in cin7.currencies],
    )
    qad_side = QadReference(
        gl_accounts=[QadRef(g.code, g.description, g.active) for g in qad.gl_accounts],
        items=[QadRef(i.code, i.description, i.status == "ACTIVE") for i in qad.items],
        sites=[QadRef(s.code, s.description) for s in qad.sites],
        credit_terms=[QadRef(t.code, t.description) for t in qad.credit_terms],
        tax_classes=[QadRef(t.code, t.description) for t in qad.tax_classes],
        currencies=[QadRef(code) for code in qad.currencies],
    )
    return cin7_side, qad_side


def by_source(report: SuggestionReport) -> dict[str, dict[str, str]]:
    found: dict[str, dict[str, str]] = {}
    for s in report.suggestions:
        found.setdefault(s.source, {})[s.cin7_value] = s.qad_value
    return found


@pytest.fixture(scope="module")
def sandbox_reports() -> dict[str, SuggestionReport]:
    cin7_side, qad_side = sandbox_sides()
    return dict(suggest_all(cin7_side, qad_side))


def test_sandbox_accounts(sandbox_reports: dict[str, SuggestionReport]) -> None:
    report = sandbox_reports["account"]
    found = by_source(report)
    cin7 = cin7_catalog()
    expected_exact = {
        a.code: a.code
        for a in cin7.accounts
        if a.code not in DIVERGENCES.accounts_missing and a.code not in DIVERGENCES.account_codes
    }
    assert found["exact"] == expected_exact
    assert found["name"] == {"425": "4250", "632": "6320"}
    assert set(found) == {"exact", "name"}
    assert [ref.value for ref in report.unmatched] == ["090", "461", "_109_"]
    archived = [ref.value for ref in report.unmatched if not ref.active]
    assert archived == ["_109_"]
    assert report.ambiguous == []
    assert all(s.confidence == 1.0 for s in report.suggestions if s.source == "exact")
    assert all(s.confidence == 0.8 for s in report.suggestions if s.source == "name")


def test_sandbox_items(sandbox_reports: dict[str, SuggestionReport]) -> None:
    report = sandbox_reports["item"]
    found = by_source(report)
    skus = [p.sku for p in cin7_catalog().products if p.stocked]
    odd = {"CBL-050", "CBL-100", "FUSE-5A", "MTR-0.75KW"}
    assert found["exact"] == {sku: sku for sku in skus if sku not in odd}
    # A dropped dash is a normalised-code match; a changed digit only matches on the name.
    assert found["code"] == {"CBL-050": "CBL050", "CBL-100": "CBL100"}
    assert found["name"] == {"FUSE-5A": "FUSE05A"}
    # The service CST-CAL-1 and the non-inventory SAF-KIT-1 need no QAD item.
    assert [ref.value for ref in report.unmatched] == ["MTR-0.75KW"]
    assert report.ambiguous == []


def test_sandbox_sites_terms_tax_currencies(
    sandbox_reports: dict[str, SuggestionReport],
) -> None:
    locations = sandbox_reports["location"]
    assert by_source(locations) == {"name": {"Main Warehouse": "10-100", "East Coast DC": "10-200"}}
    assert [ref.value for ref in locations.unmatched] == ["Production Floor"]

    terms = sandbox_reports["payment_term"]
    assert by_source(terms) == {
        "name": {
            "30 days": "N30",
            "60 days": "N60",
            "7 days": "N7",
            "2%10 Net30": "2-10N30",
            "20th of next month": "EOM20",
        }
    }
    tax = sandbox_reports["tax_rule"]
    assert by_source(tax) == {
        "name": {"Tax Exempt": "EXEMPT", "Purchase Tax 8.25%": "PT825", "Imports 5%": "IMP5"}
    }
    currencies = sandbox_reports["currency"]
    assert by_source(currencies) == {"exact": {c: c for c in ("USD", "EUR", "GBP", "CAD", "AUD")}}
    for report in (terms, tax, currencies):
        assert report.unmatched == []
    assert set(sandbox_reports) == set(KINDS)
    assert sandbox_reports["supplier"].suggestions == []


@pytest.mark.parametrize(
    ("left", "right"),
    [
        ("Freight & Courier", "freight and courier"),
        ("Repairs & Maint.", "Repairs and Maintenance"),
        ("  Light,  Power -- Heating ", "light power heating"),
        ("Main Whse", "MAIN WAREHOUSE"),
        ("Bank A/C", "Bank Account"),
        ("Café Supplies", "Cafe supplies"),
        ("Inventory - Packaging", "Inventory Packaging"),
    ],
)
def test_normalise_equal(left: str, right: str) -> None:
    assert normalise(left) == normalise(right)


@pytest.mark.parametrize(
    ("left", "right"),
    [
        ("Purchase Tax 8.25%", "Purchase Tax 82.5%"),
        ("Production Floor", "Production"),
        ("Data/Config", "Dat account onfig"),
        ("Glass Fuse 5A", "Glass Fuse 05A"),
    ],
)
def test_normalise_different(left: str, right: str) -> None:
    assert normalise(left) != normalise(right)


def test_normalise_code() -> None:
    assert normalise_code("CBL-050") == normalise_code("cbl 050") == "cbl050"
    assert normalise_code("FUSE-5A") != normalise_code("FUSE05A")
    assert normalise_code("_109_") == "109"


def test_one_qad_record_claimed_by_two_names_is_ambiguous() -> None:
    cin7 = [Cin7Ref("A1", "Freight"), Cin7Ref("A2", "freight"), Cin7Ref("A3", "Insurance")]
    qad = [QadRef("F1", "Freight"), QadRef("I1", "Insurance")]
    report = suggest("account", cin7, qad)
    assert [(s.cin7_value, s.qad_value) for s in report.suggestions] == [("A3", "I1")]
    assert [(ref.value, [q.code for q in cands]) for ref, cands in report.ambiguous] == [
        ("A1", ["F1"]),
        ("A2", ["F1"]),
    ]
    assert report.unmatched == []


def test_two_candidates_are_ambiguous_and_stronger_rule_wins_the_record() -> None:
    cin7 = [Cin7Ref("X-1", "Widget"), Cin7Ref("300", "Purchases"), Cin7Ref("301", "Purchases")]
    qad = [QadRef("W1", "Widget"), QadRef("W2", "WIDGET"), QadRef("300", "Purchases")]
    report = suggest("item", cin7, qad)
    # 300 takes QAD 300 exactly; 301 then finds no free record with its name.
    assert [(s.cin7_value, s.qad_value, s.source) for s in report.suggestions] == [
        ("300", "300", "exact")
    ]
    assert [(ref.value, [q.code for q in c]) for ref, c in report.ambiguous] == [
        ("X-1", ["W1", "W2"])
    ]
    assert [ref.value for ref in report.unmatched] == ["301"]


def test_inactive_qad_records_are_never_suggested() -> None:
    cin7 = [Cin7Ref("630", "Inventory"), Cin7Ref("700", "Old Stuff")]
    qad = [QadRef("630", "Inventory", active=False), QadRef("701", "Old Stuff", active=False)]
    report = suggest("account", cin7, qad)
    assert report.suggestions == []
    assert [ref.value for ref in report.unmatched] == ["630", "700"]


def test_existing_mappings_are_kept_and_their_records_not_offered_again() -> None:
    cin7 = [Cin7Ref("WID-100", "Widget"), Cin7Ref("WID-101", "Widget B"), Cin7Ref("X", "Gone")]
    qad = [
        QadRef("WID-100", "Widget"),
        QadRef("W100", "Widget old", active=False),
        QadRef("WB", "Widget B"),
    ]
    existing = {"WID-100": "WB", "X": "W100"}
    report = suggest("item", cin7, qad, existing)
    assert [(s.cin7_value, s.qad_value, s.source) for s in report.kept] == [
        ("WID-100", "WB", "kept"),
        ("X", "W100", "kept"),
    ]
    assert [s.cin7_value for s in report.stale] == ["X"]
    # WB is already used by a manual mapping, so WID-101 is not offered it by name.
    assert report.suggestions == []
    assert [ref.value for ref in report.unmatched] == ["WID-101"]


def test_from_models_marks_archived_accounts_and_collects_currencies() -> None:
    reference = Cin7Reference.from_models(
        accounts=[
            Account(Code="630", Name="Inventory"),
            Account(Code="_109_", Name="Legacy", Status="ARCHIVED"),
        ],
        products=[Product(SKU="WID-100", Name="Widget")],
        locations=[Location(Name="Main Warehouse")],
        payment_terms=[PaymentTerm(Name="30 days")],
        tax_rules=[TaxRule(Name="Tax Exempt")],
        suppliers=[
            Supplier(ID="A1B2", Name="Acme", Currency="eur"),
            Supplier(ID="C3D4", Name="Bolt Co", Currency="USD"),
        ],
        currencies=["USD"],
    )
    assert reference.accounts == (Cin7Ref("630", "Inventory"), Cin7Ref("_109_", "Legacy", False))
    assert [ref.value for ref in reference.currencies] == ["USD", "EUR"]
    assert reference.suppliers == (Cin7Ref("a1b2", "Acme"), Cin7Ref("c3d4", "Bolt Co"))
    qad = QadReference(suppliers=[QadRef("ACME01", "ACME")])
    report = suggest_all(reference, qad)["supplier"]
    assert [(s.cin7_value, s.qad_value, s.source) for s in report.suggestions] == [
        ("a1b2", "ACME01", "name")
    ]


def test_rows_and_tables() -> None:
    cin7_side, qad_side = sandbox_sides()
    rows = [row for report in suggest_all(cin7_side, qad_side).values() for row in report.rows()]
    tables = as_tables(rows)
    assert set(tables) == set(KINDS)
    assert tables["item"]["FUSE-5A"] == "FUSE05A"
    assert tables["location"]["East Coast DC"] == "10-200"
    assert tables["supplier"] == {}
    many_to_one = [MappingRow("item", "A", "Q", "manual"), MappingRow("item", "B", "Q", "manual")]
    assert as_tables(many_to_one)["item"] == {"A": "Q", "B": "Q"}
    with pytest.raises(ConfigError, match="mapped to both"):
        as_tables([MappingRow("item", "A", "Q1"), MappingRow("item", "A", "Q2")])
    with pytest.raises(ConfigError, match="unknown mapping kind"):
        as_tables([MappingRow("acount", "A", "Q")])  # type: ignore[arg-type]


def test_csv_round_trip() -> None:
    rows = [
        MappingRow("item", "CBL-050", "CBL050", "code", 0.9),
        MappingRow("account", "425", "4250", "name", 0.8),
        MappingRow("location", 'Yard, "North"', "10-400", "manual", 1.0),
    ]
    text = export_csv(rows)
    assert text.splitlines()[0] == "kind,cin7_value,qad_value,source,confidence"
    back = import_csv(text)
    assert back == [rows[1], rows[0], rows[2]]  # sorted by kind order, then value


def test_csv_import_tolerates_bom_crlf_spaces_and_defaults() -> None:
    text = (
        "\ufeffKind, cin7_value ,qad_value,notes\r\n"
        "\r\n"
        " Item , WID-100 , WID100 ,dash dropped\r\n"
        "payment_term,30 days,N30,\r\n"
    )
    assert import_csv(text) == [
        MappingRow("item", "WID-100", "WID100", "import", 1.0),
        MappingRow("payment_term", "30 days", "N30", "import", 1.0),
    ]
    assert import_csv("") == []


def test_csv_import_names_the_lines_of_every_problem() -> None:
    text = (
        "kind,cin7_value,qad_value,source,confidence\n"
        "item,WID-100,WID100,manual,1\n"
        "acount,630,630,manual,1\n"
        "item,WID-100,WID-100,manual,1\n"
        "item,WID-150,,manual,1\n"
        "item,WID-200,W200,manual,high\n"
    )
    with pytest.raises(ConfigError) as caught:
        import_csv(text)
    message = str(caught.value)
    assert "line 3: unknown kind 'acount'" in message
    assert "line 4: duplicate mapping for item 'WID-100' (first on line 2)" in message
    assert "line 5: qad_value is empty" in message
    assert "line 6: confidence 'high'" in message


def test_csv_import_requires_the_header() -> None:
    with pytest.raises(ConfigError, match="line 1: missing column"):
        import_csv("item,WID-100,WID100\n")


def test_service_and_non_inventory_products_need_no_item() -> None:
    products = [
        Product.model_validate({"SKU": sku, "Name": sku, "Type": kind})
        for sku, kind in (("WID-100", "Stock"), ("CAL", "Service"), ("KIT", "Non Inventory"))
    ]

    reference = Cin7Reference.from_models(products=products)

    assert [ref.value for ref in reference.of("item")] == ["WID-100"]
