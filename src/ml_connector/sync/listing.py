"""Which purchase list rows are worth a detail call: the row alone tells drafts and voids apart.

A detail call spends one of the 60 calls a minute a Cin7 application key allows, shared by every
connection on the key. The planner acts only on an AUTHORISED order (or a blind receipt with
goods in), and on a void only when something of the purchase reached QAD (the PO is closed, or a
person is told). So a list row that says plainly that it is

- a **draft**: `OrderStatus` is DRAFT or NOT AVAILABLE, and it is not a blind receipt (whose
  goods can arrive before any order), or
- **voided**: `Status` contains VOIDED (contains-match, reference §8) or `OrderStatus` is VOIDED,

cannot lead to a QAD action by itself. The engine skips its detail call unless it holds the
purchase already in a state whose stored snapshot could still act or must be corrected: any
record other than `waiting` or `void` (a held invoice must not post from a snapshot Cin7 has since
voided or set back to draft), or one with anything recorded in QAD (a void of something posted
still matters). An empty or unknown `OrderStatus` is fetched: only what the row says plainly is
skipped.

A skipped row costs no call and leaves nothing in the store: a draft becomes a record when it is
authorised, which changes its `LastUpdatedDate` and lists it again. Its stamp still counts for
the cursor, as every listed row's does (`cin7.incremental`). So an hourly sync costs the changed
actionable purchases plus the two list calls (suppliers, purchases).
"""

from __future__ import annotations

from typing import Literal

from ml_connector.cin7.models import PurchaseListRow
from ml_connector.sync.checks import status_of
from ml_connector.vocab import RecordStatus

__all__ = ["SETTLED", "Inactive", "inactive"]

Inactive = Literal["draft", "void"]

SETTLED: frozenset[RecordStatus] = frozenset({"waiting", "void"})
"""Record statuses whose stored snapshot plans no QAD action either (when nothing is posted)."""

_DRAFT_ORDER = frozenset({"DRAFT", "NOT AVAILABLE"})


def inactive(row: PurchaseListRow) -> Inactive | None:
    """`void` or `draft` when the row alone shows it cannot lead to a QAD action, else None.

    A row with `OrderStatus: DRAFT` gives `draft`, unless `BlindReceipt` is set; one with
    `Status: VOIDED` gives `void` whatever its order says; `AUTHORISED` or an empty
    `OrderStatus` gives None (fetch it).
    """
    if "VOIDED" in status_of(row.status) or status_of(row.order_status) == "VOIDED":
        return "void"
    if status_of(row.order_status) in _DRAFT_ORDER and not row.blind_receipt:
        return "draft"
    return None
