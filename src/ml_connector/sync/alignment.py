"""Alignment both ways: which reference values have no counterpart on the other side.

`mapping suggest` proposes pairs; this answers the owner's next question before a first sync —
what is still unpaired, on either side. Pure: both sides' reference lists and the pairs known
today go in, two tables come out.

A Cin7 value has a counterpart when a pair maps it to a QAD value QAD holds; a QAD value has one
when some Cin7 value Cin7 holds maps to it. Pairs are the stored mappings plus, for suppliers,
the suppliers the connector already created in QAD (they need no mapping: the connector derives
their codes). Inactive values on either side are left out: an archived account or a closed
site needs no partner. Values are compared as the planner compares them: Cin7 values ignoring
case and surrounding space, QAD codes exactly.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from ml_connector.store.models import MappingRow
from ml_connector.sync.mapping import KINDS, Cin7Reference, Kind, QadReference


def _fold(value: str) -> str:
    return value.strip().casefold()


@dataclass(frozen=True)
class Alignment:
    """Per kind, the values each side holds that the other does not (sorted)."""

    cin7_only: dict[Kind, list[str]] = field(default_factory=dict)
    qad_only: dict[Kind, list[str]] = field(default_factory=dict)

    @property
    def aligned(self) -> bool:
        return not any(self.cin7_only.values()) and not any(self.qad_only.values())

    def to_json(self) -> dict[str, dict[str, list[str]]]:
        return {
            "cin7_only": {k: list(v) for k, v in self.cin7_only.items()},
            "qad_only": {k: list(v) for k, v in self.qad_only.items()},
        }

    def csv_rows(self) -> list[tuple[str, str, str]]:
        """`(side, kind, value)` rows, Cin7's first, kinds in `KINDS` order."""
        return [
            (side, kind, value)
            for side, table in (("cin7_only", self.cin7_only), ("qad_only", self.qad_only))
            for kind in KINDS
            for value in table.get(kind, [])
        ]


def align(
    cin7: Cin7Reference,
    qad: QadReference,
    mappings: Iterable[MappingRow],
    *,
    created_suppliers: Mapping[str, str] | None = None,
) -> Alignment:
    """Compare both sides' values through the known pairs (see module docstring).

    `created_suppliers` maps Cin7 supplier ids to the QAD codes the connector created them as.
    """
    pairs: dict[Kind, dict[str, str]] = {kind: {} for kind in KINDS}
    for cin7_id, code in (created_suppliers or {}).items():
        pairs["supplier"][_fold(cin7_id)] = code
    for row in mappings:
        if row.kind in pairs:
            pairs[row.kind][_fold(row.cin7_value)] = row.qad_value
    cin7_only: dict[Kind, list[str]] = {}
    qad_only: dict[Kind, list[str]] = {}
    for kind in KINDS:
        theirs = [r for r in cin7.of(kind) if r.active and r.value.strip()]
        ours = [r for r in qad.of(kind) if r.active and r.code.strip()]
        qad_codes = {r.code for r in ours}
        table = pairs[kind]
        cin7_only[kind] = sorted(
            {r.value for r in theirs if table.get(_fold(r.value)) not in qad_codes}
        )
        reached = {table[_fold(r.value)] for r in theirs if _fold(r.value) in table}
        qad_only[kind] = sorted(code for code in qad_codes if code not in reached)
    return Alignment(cin7_only=cin7_only, qad_only=qad_only)
