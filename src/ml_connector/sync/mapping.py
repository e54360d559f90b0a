"""Cross-references between Cin7 Core and QAD reference data: suggestion rules and CSV exchange.

Pure functions, no I/O. The CLI reads both sides, calls `suggest_all`, shows the reports and, with
`--apply`, stores `report.rows()`; the store and the planner read mappings back as tables
(`as_tables`).

Matching rules, tried in this order; the first rule that finds a candidate decides:

============  =================================================  ==========  ======
rule          test                                               confidence  source
============  =================================================  ==========  ======
exact code    Cin7 code/SKU == QAD code, ignoring case            1.0         exact
code          `normalise_code` equal (CBL-050 == CBL050)         0.9         code
name          `normalise` of Cin7 name == of QAD description     0.8         name
============  =================================================  ==========  ======

Which rules apply depends on the kind (`RULES`): accounts and items by code then name, currencies
by code only; locations, payment terms, tax rules and suppliers by name only (their Cin7 value
is a name, or a GUID for suppliers, never a QAD code).

Suggestions are one-to-one: a QAD record is suggested for at most one Cin7 value per kind, and a
QAD record already used by an existing mapping is not suggested again. When one Cin7 value finds
several candidates, or several Cin7 values find the same candidate under the same rule, nothing
is suggested for them: they are reported as ambiguous for a person to decide. Many Cin7 values
may still point at one QAD record, but only through mappings set by hand. Inactive QAD records
are never suggested; inactive Cin7 records (archived accounts) are not matched and are reported
in `unmatched` with `active=False`.
"""

from __future__ import annotations

import csv
import io
import math
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, TypeAlias, cast

from ml_connector.cin7.models import Account, Location, PaymentTerm, Product, Supplier, TaxRule
from ml_connector.errors import ConfigError
from ml_connector.store.models import MappingRow
from ml_connector.vocab import MAPPING_KINDS, MAPPING_SOURCES, MappingKind, MappingSource

Kind: TypeAlias = MappingKind
KINDS: tuple[Kind, ...] = MAPPING_KINDS

Rule: TypeAlias = Literal["exact", "code", "name"]
CONFIDENCE: dict[Rule, float] = {"exact": 1.0, "code": 0.9, "name": 0.8}
RULES: dict[Kind, tuple[Rule, ...]] = {
    "account": ("exact", "code", "name"),
    "item": ("exact", "code", "name"),
    "supplier": ("name",),
    "location": ("name",),
    "payment_term": ("name",),
    "tax_rule": ("name",),
    "currency": ("exact", "code"),
}

CSV_HEADER = ("kind", "cin7_value", "qad_value", "source", "confidence")


# --- Normalisation ---------------------------------------------------------------------------

# Whole words only, after case-folding. Kept short on purpose: every entry is an abbreviation
# that means one thing in a chart of accounts or an item master.
ABBREVIATIONS: dict[str, str] = {
    "acct": "account",
    "accts": "accounts",
    "dept": "department",
    "equip": "equipment",
    "exps": "expenses",
    "govt": "government",
    "intl": "international",
    "maint": "maintenance",
    "mfg": "manufacturing",
    "mgmt": "management",
    "pmt": "payment",
    "pymt": "payment",
    "svc": "service",
    "svcs": "services",
    "whse": "warehouse",
}

_SYMBOLS = (
    (re.compile(r"&"), " and "),
    (re.compile(r"%"), " percent "),
    (re.compile(r"\ba/c\b"), " account "),
)
_TOKEN = re.compile(r"\d+(?:\.\d+)?|[^\W\d_]+")
_NOT_ALNUM = re.compile(r"[\W_]+")


def normalise(text: str) -> str:
    """Reduce a name to a comparison key.

    Steps: accents removed and case folded; `&` becomes `and`, `%` becomes `percent`, `a/c`
    becomes `account`; the text is split into words and numbers (a decimal point between digits
    is kept, so 8.25 and 82.5 stay apart); words in `ABBREVIATIONS` are spelled out; the pieces
    are joined with nothing between them, so spaces, dashes and other punctuation do not count.

    >>> normalise("Freight & Courier") == normalise("freight and courier")
    True
    >>> normalise("Repairs & Maint.")
    'repairsandmaintenance'
    >>> normalise("Purchase Tax 8.25%")
    'purchasetax8.25percent'
    """
    folded = unicodedata.normalize("NFKD", text)
    folded = "".join(ch for ch in folded if not unicodedata.combining(ch)).casefold()
    for symbol, word in _SYMBOLS:
        folded = symbol.sub(word, folded)
    return "".join(ABBREVIATIONS.get(token, token) for token in _TOKEN.findall(folded))


def normalise_code(code: str) -> str:
    """Reduce a code to letters and digits, case folded: `CBL-050`, `cbl 050`, `CBL050` agree.

    No abbreviations and no dropped zeros: `FUSE-5A` and `FUSE05A` are different codes.
    """
    return _NOT_ALNUM.sub("", code.casefold())


# --- Reference values ------------------------------------------------------------------------


@dataclass(frozen=True)
class Cin7Ref:
    """One Cin7 reference value: the code/SKU/name/ID that Cin7 documents carry, and its name."""

    value: str
    name: str = ""
    active: bool = True


@dataclass(frozen=True)
class QadRef:
    """One QAD reference record: its code, description (or name) and whether it is active."""

    code: str
    name: str = ""
    active: bool = True
    extra: Mapping[str, str] = field(default_factory=dict, hash=False)


def account_ref(account: Account) -> Cin7Ref:
    """A Cin7 account by code; archived accounts are inactive."""
    return Cin7Ref(account.code, account.name, account.status.strip().upper() != "ARCHIVED")


def product_ref(product: Product) -> Cin7Ref:
    """A Cin7 product by SKU."""
    return Cin7Ref(product.sku, product.name)


def supplier_ref(supplier: Supplier) -> Cin7Ref:
    """A Cin7 supplier by `SupplierID`, matched on its name."""
    return Cin7Ref(supplier.id or "", supplier.name)


def named_ref(record: Location | PaymentTerm | TaxRule) -> Cin7Ref:
    """Locations, payment terms and tax rules: Cin7 documents carry them by name."""
    return Cin7Ref(record.name, record.name)


@dataclass(frozen=True)
class Cin7Reference:
    """Cin7's side of every cross-reference, as lists of `Cin7Ref`.

    Cin7 has no currency endpoint: `currencies` are the codes seen on suppliers and purchases.
    """

    accounts: Sequence[Cin7Ref] = ()
    products: Sequence[Cin7Ref] = ()
    locations: Sequence[Cin7Ref] = ()
    payment_terms: Sequence[Cin7Ref] = ()
    tax_rules: Sequence[Cin7Ref] = ()
    currencies: Sequence[Cin7Ref] = ()
    suppliers: Sequence[Cin7Ref] = ()

    @classmethod
    def from_models(
        cls,
        *,
        accounts: Iterable[Account] = (),
        products: Iterable[Product] = (),
        locations: Iterable[Location] = (),
        payment_terms: Iterable[PaymentTerm] = (),
        tax_rules: Iterable[TaxRule] = (),
        suppliers: Iterable[Supplier] = (),
        currencies: Iterable[str] = (),
    ) -> Cin7Reference:
        """Build from typed Cin7 models; currencies are `currencies` plus the suppliers' own."""
        supplier_list = list(suppliers)
        codes = [*currencies, *(s.currency for s in supplier_list)]
        unique = dict.fromkeys(code.strip().upper() for code in codes if code.strip())
        return cls(
            accounts=tuple(account_ref(a) for a in accounts),
            # Service and Non Inventory products post to a GL account, never to a QAD item.
            products=tuple(
                product_ref(p) for p in products if p.type.strip().casefold() == "stock"
            ),
            locations=tuple(named_ref(loc) for loc in locations),
            payment_terms=tuple(named_ref(t) for t in payment_terms),
            tax_rules=tuple(named_ref(t) for t in tax_rules),
            currencies=tuple(Cin7Ref(code, code) for code in unique),
            suppliers=tuple(supplier_ref(s) for s in supplier_list),
        )

    def of(self, kind: Kind) -> Sequence[Cin7Ref]:
        """The values of one kind."""
        return {
            "account": self.accounts,
            "item": self.products,
            "supplier": self.suppliers,
            "location": self.locations,
            "payment_term": self.payment_terms,
            "tax_rule": self.tax_rules,
            "currency": self.currencies,
        }[kind]


@dataclass(frozen=True)
class QadReference:
    """QAD's side of every cross-reference, as lists of `QadRef`.

    Descriptions go in `QadRef.name`: GL account, item, site, credit term and tax class
    descriptions, supplier names; currencies need only their code.
    """

    gl_accounts: Sequence[QadRef] = ()
    items: Sequence[QadRef] = ()
    sites: Sequence[QadRef] = ()
    credit_terms: Sequence[QadRef] = ()
    tax_classes: Sequence[QadRef] = ()
    currencies: Sequence[QadRef] = ()
    suppliers: Sequence[QadRef] = ()

    def of(self, kind: Kind) -> Sequence[QadRef]:
        """The records of one kind."""
        return {
            "account": self.gl_accounts,
            "item": self.items,
            "supplier": self.suppliers,
            "location": self.sites,
            "payment_term": self.credit_terms,
            "tax_rule": self.tax_classes,
            "currency": self.currencies,
        }[kind]


# --- Rows and tables -------------------------------------------------------------------------


def _check_kind(kind: str) -> Kind:
    if kind not in KINDS:
        raise ConfigError(f"unknown mapping kind {kind!r} (expected one of {', '.join(KINDS)})")
    return kind  # narrowed by the membership test


def as_tables(rows: Iterable[MappingRow]) -> dict[Kind, dict[str, str]]:
    """Lookup tables `{kind: {cin7_value: qad_value}}`, with every kind present (maybe empty).

    Raises `ConfigError` when one Cin7 value of a kind is mapped to two different QAD values.
    """
    tables: dict[Kind, dict[str, str]] = {kind: {} for kind in KINDS}
    for row in rows:
        table = tables[_check_kind(row.kind)]
        held = table.setdefault(row.cin7_value, row.qad_value)
        if held != row.qad_value:
            raise ConfigError(
                f"{row.kind} {row.cin7_value!r} is mapped to both {held!r} and {row.qad_value!r}"
            )
    return tables


# --- Suggestions -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Suggestion:
    """A proposed (or kept) cross-reference with the rule that found it."""

    kind: Kind
    cin7_value: str
    cin7_name: str
    qad_value: str
    qad_name: str
    source: str  # exact | code | name | kept
    confidence: float

    def row(self) -> MappingRow:
        source = cast(MappingSource, self.source)  # exact | code | name: suggestions only
        return MappingRow(self.kind, self.cin7_value, self.qad_value, source, self.confidence)


@dataclass(frozen=True)
class SuggestionReport:
    """What `suggest` found for one kind.

    - `suggestions`: new one-to-one matches, in Cin7 order.
    - `unmatched`: Cin7 values with no candidate, and inactive ones (`active=False`).
    - `ambiguous`: Cin7 values with several candidates, or sharing their only candidate with
      another Cin7 value under the same rule; nothing is suggested for them.
    - `kept`: existing mappings, untouched (source `kept`); `stale` lists those whose QAD
      value is missing or inactive in QAD.
    """

    kind: Kind
    suggestions: list[Suggestion] = field(default_factory=list)
    unmatched: list[Cin7Ref] = field(default_factory=list)
    ambiguous: list[tuple[Cin7Ref, list[QadRef]]] = field(default_factory=list)
    kept: list[Suggestion] = field(default_factory=list)
    stale: list[Suggestion] = field(default_factory=list)

    def rows(self) -> list[MappingRow]:
        """The new suggestions as rows to store (what `mapping suggest --apply` writes)."""
        return [suggestion.row() for suggestion in self.suggestions]


def _key(rule: Rule, text: str) -> str:
    if rule == "exact":
        return text.strip().casefold()
    if rule == "code":
        return normalise_code(text)
    return normalise(text)


def suggest(
    kind: Kind,
    cin7: Sequence[Cin7Ref],
    qad: Sequence[QadRef],
    existing: Mapping[str, str] | None = None,
) -> SuggestionReport:
    """Suggest cross-references for one kind (rules and tie-breaking in the module docstring).

    `existing` maps Cin7 values already cross-referenced to their QAD values; they are kept as
    they are and their QAD records are not offered to anyone else.
    """
    _check_kind(kind)
    existing = existing or {}
    report = SuggestionReport(kind)
    by_code = {ref.code.strip().casefold(): ref for ref in qad}
    for cin7_value, qad_value in existing.items():
        known = by_code.get(qad_value.strip().casefold())
        cin7_name = next((ref.name for ref in cin7 if ref.value == cin7_value), "")
        kept = Suggestion(
            kind, cin7_value, cin7_name, qad_value, known.name if known else "", "kept", 1.0
        )
        report.kept.append(kept)
        if known is None or not known.active:
            report.stale.append(kept)

    taken = {qad_value.strip().casefold() for qad_value in existing.values()}
    available = [ref for ref in qad if ref.active and ref.code.strip().casefold() not in taken]
    pending: list[Cin7Ref] = []
    seen: set[str] = set()
    for ref in cin7:
        if ref.value in existing or ref.value in seen:
            continue
        seen.add(ref.value)
        if ref.active:
            pending.append(ref)
        else:
            report.unmatched.append(ref)

    found: dict[str, Suggestion] = {}
    for rule in RULES[kind]:
        pending, available = _apply_rule(kind, rule, pending, available, found, report)
    report.unmatched.extend(pending)
    order = {ref.value: index for index, ref in enumerate(cin7)}
    report.suggestions.extend(sorted(found.values(), key=lambda s: order[s.cin7_value]))
    report.unmatched.sort(key=lambda ref: order[ref.value])
    report.ambiguous.sort(key=lambda pair: order[pair[0].value])
    return report


def _apply_rule(
    kind: Kind,
    rule: Rule,
    pending: list[Cin7Ref],
    available: list[QadRef],
    found: dict[str, Suggestion],
    report: SuggestionReport,
) -> tuple[list[Cin7Ref], list[QadRef]]:
    """One rule over every pending value; returns what is still pending and still available."""
    index: dict[str, list[QadRef]] = {}
    for qad_ref in available:
        key = _key(rule, qad_ref.code if rule != "name" else qad_ref.name)
        if key:
            index.setdefault(key, []).append(qad_ref)

    candidates: dict[str, list[QadRef]] = {}
    still: list[Cin7Ref] = []
    for ref in pending:
        key = _key(rule, ref.value if rule != "name" else ref.name)
        hits = index.get(key, []) if key else []
        if hits:
            candidates[ref.value] = hits
        else:
            still.append(ref)

    claims: dict[str, int] = {}
    for options in candidates.values():
        if len(options) == 1:
            claims[options[0].code] = claims.get(options[0].code, 0) + 1

    claimed: set[str] = set()
    for ref in pending:
        found_here = candidates.get(ref.value)
        if found_here is None:
            continue
        if len(found_here) > 1 or claims[found_here[0].code] > 1:
            report.ambiguous.append((ref, list(found_here)))
            continue
        qad_ref = found_here[0]
        claimed.add(qad_ref.code)
        found[ref.value] = Suggestion(
            kind, ref.value, ref.name, qad_ref.code, qad_ref.name, rule, CONFIDENCE[rule]
        )
    return still, [ref for ref in available if ref.code not in claimed]


def suggest_all(
    cin7: Cin7Reference,
    qad: QadReference,
    existing: Mapping[Kind, Mapping[str, str]] | None = None,
) -> dict[Kind, SuggestionReport]:
    """`suggest` for every kind in `KINDS`; `existing` is `as_tables` of the stored mappings."""
    existing = existing or {}
    return {kind: suggest(kind, cin7.of(kind), qad.of(kind), existing.get(kind)) for kind in KINDS}


# --- CSV -------------------------------------------------------------------------------------


def export_csv(rows: Iterable[MappingRow]) -> str:
    """Rows as CSV with the header `kind,cin7_value,qad_value,source,confidence`.

    Sorted by kind (in `KINDS` order) then Cin7 value, so exports diff cleanly.
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for row in sorted(rows, key=lambda r: (KINDS.index(r.kind), r.cin7_value, r.qad_value)):
        writer.writerow((row.kind, row.cin7_value, row.qad_value, row.source, row.confidence))
    return out.getvalue()


def import_csv(text: str) -> list[MappingRow]:
    """Read mapping rows from CSV text (as written by `export_csv`, or by hand).

    The header must name `kind`, `cin7_value` and `qad_value`; `source` (default `import`) and
    `confidence` (default 1.0, between 0 and 1) are optional; other columns are ignored. A
    byte-order mark, CRLF line ends, blank lines and spaces around cells are tolerated; `kind`
    is case-insensitive. Every problem is collected and raised as one `ConfigError` naming the
    lines: unknown kinds, empty values, bad confidences, and a second row for the same kind
    and Cin7 value.
    """
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""))
    header: list[str] | None = None
    problems: list[str] = []
    rows: list[MappingRow] = []
    first_line: dict[tuple[str, str], int] = {}
    for cells in reader:
        line = reader.line_num
        cells = [cell.strip() for cell in cells]
        if not any(cells):
            continue
        if header is None:
            header = [cell.casefold() for cell in cells]
            missing = [name for name in CSV_HEADER[:3] if name not in header]
            if missing:
                raise ConfigError(
                    f"mapping CSV line {line}: missing column(s) {', '.join(missing)} "
                    f"(expected header {','.join(CSV_HEADER)})"
                )
            continue
        record = dict(zip(header, cells, strict=False))
        row = _read_row(record, line, problems)
        if row is None:
            continue
        key = (row.kind, row.cin7_value)
        if key in first_line:
            problems.append(
                f"line {line}: duplicate mapping for {row.kind} {row.cin7_value!r} "
                f"(first on line {first_line[key]})"
            )
            continue
        first_line[key] = line
        rows.append(row)
    if problems:
        raise ConfigError("mapping CSV: " + "; ".join(problems))
    return rows


def _read_row(record: Mapping[str, str], line: int, problems: list[str]) -> MappingRow | None:
    before = len(problems)
    given_kind = record.get("kind", "")
    kind = given_kind.casefold()
    cin7_value = record.get("cin7_value", "")
    qad_value = record.get("qad_value", "")
    source = record.get("source", "") or "import"
    if source not in MAPPING_SOURCES:
        problems.append(
            f"line {line}: unknown source {source!r} (expected one of {', '.join(MAPPING_SOURCES)})"
        )
    if kind not in KINDS:
        problems.append(
            f"line {line}: unknown kind {given_kind!r} (expected one of {', '.join(KINDS)})"
        )
    if not cin7_value:
        problems.append(f"line {line}: cin7_value is empty")
    if not qad_value:
        problems.append(f"line {line}: qad_value is empty")
    confidence = _confidence(record.get("confidence", ""))
    if confidence is None:
        problems.append(
            f"line {line}: confidence {record.get('confidence')!r} is not a number from 0 to 1"
        )
    if len(problems) > before or confidence is None:
        return None
    return MappingRow(
        cast(Kind, kind), cin7_value, qad_value, cast(MappingSource, source), confidence
    )


def _confidence(text: str) -> float | None:
    if not text:
        return 1.0
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) and 0.0 <= value <= 1.0 else None
