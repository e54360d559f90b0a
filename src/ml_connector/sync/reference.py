"""Read both systems' reference data and suggest (or apply) cross-references.

This is the on-demand reference read (`mapping suggest`): about seven Cin7 calls and a handful
of QAD browses. The sync itself never re-reads reference data, so an idle sync costs two Cin7
calls. Nothing is ever written to Cin7's chart of accounts: QAD's is the system of record.
"""

from __future__ import annotations

from typing import cast

from ml_connector.cin7.source import Cin7ReferenceSource
from ml_connector.qad.channel import ReferenceChannel
from ml_connector.store.protocols import ConfigStore
from ml_connector.sync.mapping import (
    Cin7Reference,
    Kind,
    QadRef,
    QadReference,
    SuggestionReport,
    suggest_all,
)


async def read_cin7_reference(cin7: Cin7ReferenceSource) -> Cin7Reference:
    return Cin7Reference.from_models(
        accounts=await cin7.accounts(),
        products=[product async for product in cin7.products()],
        locations=[loc for loc in await cin7.locations() if not loc.parent_id],
        payment_terms=await cin7.payment_terms(),
        tax_rules=await cin7.tax_rules(),
        suppliers=[supplier async for supplier in cin7.suppliers()],
    )


async def read_qad_reference(qad: ReferenceChannel) -> QadReference:
    return QadReference(
        gl_accounts=tuple(QadRef(a.code, a.description, a.active) for a in await qad.gl_accounts()),
        items=tuple(
            QadRef(i.code, i.description, i.status.upper() in ("", "ACTIVE"))
            for i in await qad.items()
        ),
        sites=tuple(QadRef(s.code, s.description) for s in await qad.sites()),
        credit_terms=tuple(QadRef(t.code, t.description) for t in await qad.credit_terms()),
        tax_classes=tuple(QadRef(t.code, t.description) for t in await qad.tax_classes()),
        currencies=tuple(QadRef(c.code, c.description) for c in await qad.currencies()),
        suppliers=tuple(QadRef(s.code, s.name, s.active) for s in await qad.suppliers()),
    )


async def suggest_mappings(
    store: ConfigStore,
    connection_id: int,
    cin7: Cin7ReferenceSource,
    qad: ReferenceChannel,
    *,
    apply: bool,
) -> dict[Kind, SuggestionReport]:
    """Match both sides; with `apply`, store the new suggestions (manual rows are kept)."""
    tables = cast(dict[Kind, dict[str, str]], await store.mapping_table(connection_id))
    reports = suggest_all(
        await read_cin7_reference(cin7), await read_qad_reference(qad), existing=tables
    )
    if apply:
        rows = [row for report in reports.values() for row in report.rows()]
        await store.import_mappings(connection_id, rows, overwrite=False)
    return reports
