"""Month-end figures kept on each purchase record: what finance reconciles AP against.

Per currency (the supplier's), rounded with the connection's one money rule (`MoneyRule`, the
same the planner posts with):

- `invoiced`: Cin7's authorised or paid invoices, each total rounded as it is posted;
- `credited`: Cin7's authorised credit notes, likewise;
- `posted`: what QAD holds, invoices less credit notes, as posted;
- `held`: what Cin7 bills net of credit notes and QAD does not hold yet, while invoices wait
  for goods receipts in QAD;
- `received`: received quantity in QAD x PO unit cost.

When everything is posted, `invoiced - credited == posted` to the cent. The store sums the
measures per supplier and currency.

Two more views read what QAD holds, from the posted invoices and credit notes themselves:
`account_totals` (`reconcile --by account`: per GL account, each line on the account QAD took
or the mapped one, see `account_lines`) and `invoice_rows` (`reconcile --by invoice`: each
document with its QAD status and whether QAD reports its receiver matching finished).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ml_connector.cin7.models import Purchase
from ml_connector.sync.amounts import HALF_UP, ZERO, MoneyRule
from ml_connector.sync.checks import ACTIVE_INVOICE, AUTHORISED, status_of
from ml_connector.sync.inputs import Posted

MEASURES = ("invoiced", "credited", "posted", "held", "received")
ITEM_ACCOUNT = "(item account)"
"""Stands for QAD's item account on a matched line whose account QAD did not report."""
TAX = "(tax)"


def _dec(value: Any) -> Decimal:
    try:
        return Decimal(str(value or 0))
    except ArithmeticError:
        return ZERO


def record_amounts(
    purchase: Purchase, posted: Mapping[str, Posted], status: str, rule: MoneyRule = HALF_UP
) -> dict[str, dict[str, str]]:
    """The measures for one purchase, as decimal strings keyed by currency."""
    currency = (purchase.currency or purchase.base_currency or "?").strip().upper()
    invoiced = sum(
        (
            rule.round(inv.total or ZERO, currency)
            for inv in purchase.invoices
            if status_of(inv.status) in ACTIVE_INVOICE
        ),
        ZERO,
    )
    credited = sum(
        (
            rule.round(note.total or ZERO, currency)
            for note in purchase.credit_notes
            if status_of(note.status) == AUTHORISED
        ),
        ZERO,
    )
    posted_amount = ZERO
    received = ZERO
    order_number = purchase.order_number.strip()
    unit_costs: dict[int, Decimal] = {}
    po = posted.get(f"po:{order_number}")
    if po is not None:
        for line in po.details.get("lines", []):
            unit_costs[int(line.get("line", 0))] = _dec(line.get("unit_cost"))
    for key, entry in posted.items():
        if key.startswith("invoice:"):
            posted_amount += _dec(entry.details.get("amount"))
        elif key.startswith("credit:"):
            posted_amount -= _dec(entry.details.get("amount"))
        elif key.startswith(("receipt:", "unstock:")) and key.split(":")[1] == order_number:
            for line in entry.details.get("lines", []):
                line_no = int(line.get("line", 0))
                received += _dec(line.get("quantity")) * unit_costs.get(line_no, ZERO)
    outstanding = invoiced - credited - posted_amount
    held = max(outstanding, ZERO) if status == "held" else ZERO
    values = {
        "invoiced": invoiced,
        "credited": credited,
        "posted": posted_amount,
        "held": held,
        "received": received,
    }
    return {name: {currency: rule.text(values[name], currency)} for name in MEASURES}


def _rows(details: Mapping[str, Any], name: str) -> list[Mapping[str, Any]]:
    value = details.get(name)
    return [row for row in value if isinstance(row, Mapping)] if isinstance(value, list) else []


def account_lines(details: Mapping[str, Any]) -> list[dict[str, str]]:
    """Every line of a posted invoice or credit note with the GL account it went to.

    Matched (stock) lines are on the account QAD took for the PO line, the item's, as QAD
    reported it when it saved the invoice (`accounts`); service, non-inventory and charge
    lines on their mapped account; tax on its own row. Amounts as posted, unrounded, positive
    for invoices and credit notes alike.
    """
    accounts = {
        int(_dec(row.get("line"))): str(row.get("gl_code") or "")
        for row in _rows(details, "accounts")
    }
    lines = [
        {
            "line": str(row.get("sku") or ""),
            "account": accounts.get(int(_dec(row.get("line")))) or ITEM_ACCOUNT,
            "amount": format(_dec(row.get("quantity")) * _dec(row.get("unit_price")), "f"),
        }
        for row in _rows(details, "lines")
    ]
    lines += [
        {
            "line": str(row.get("description") or row.get("gl_code") or ""),
            "account": str(row.get("gl_code") or ""),
            "amount": format(_dec(row.get("amount")), "f"),
        }
        for row in _rows(details, "gl")
    ]
    tax = _dec(details.get("tax_amount"))
    if tax:
        lines.append({"line": "tax", "account": TAX, "amount": format(tax, "f")})
    return lines


# --- what QAD holds, per GL account and per invoice -------------------------------------------


@dataclass(frozen=True)
class PostedDocument:
    """A supplier invoice or credit note QAD holds, as the engine recorded it for a purchase."""

    kind: str  # "invoice" | "credit_note"
    order_number: str
    qad_id: str
    details: Mapping[str, Any]
    currency: str = ""

    @property
    def sign(self) -> int:
        return -1 if self.kind == "credit_note" else 1

    @property
    def currency_code(self) -> str:
        return str(self.details.get("currency") or self.currency or "?")


@dataclass(frozen=True)
class AccountTotal:
    """`reconcile --by account`: what went to one GL account in one currency."""

    account: str
    currency: str
    invoiced: Decimal
    credited: Decimal

    @property
    def net(self) -> Decimal:
        return self.invoiced - self.credited


def account_totals(
    documents: Iterable[PostedDocument], rule: MoneyRule = HALF_UP
) -> list[AccountTotal]:
    """Per GL account and currency: invoices and credit notes as posted (`account_lines`),
    summed and then rounded with the money rule; tax on its own row."""
    sums: dict[tuple[str, str], list[Decimal]] = {}
    for document in documents:
        for line in account_lines(document.details):
            totals = sums.setdefault((line["account"], document.currency_code), [ZERO, ZERO])
            totals[0 if document.sign > 0 else 1] += _dec(line["amount"])
    return [
        AccountTotal(account, currency, rule.round(inv, currency), rule.round(cred, currency))
        for (account, currency), (inv, cred) in sorted(sums.items(), key=_account_order)
    ]


def _account_order(item: tuple[tuple[str, str], list[Decimal]]) -> tuple[bool, str, str]:
    (account, currency), _ = item
    return (account.startswith("("), currency, account)


@dataclass(frozen=True)
class InvoiceRow:
    """`reconcile --by invoice`: one document QAD holds, and whether QAD reports it matched."""

    order_number: str
    kind: str
    reference: str
    supplier_code: str
    po_number: str
    voucher: str
    currency: str
    amount: Decimal
    status_code: str
    matching_status: str

    @property
    def matched(self) -> bool:
        return self.matching_status.strip().casefold() == "finished"


def invoice_rows(documents: Iterable[PostedDocument]) -> list[InvoiceRow]:
    """Every posted invoice and credit note, by purchase then reference."""
    rows = [
        InvoiceRow(
            order_number=d.order_number,
            kind=d.kind,
            reference=str(d.details.get("reference") or ""),
            supplier_code=str(d.details.get("supplier_code") or ""),
            po_number=str(d.details.get("po_number") or ""),
            voucher=d.qad_id,
            currency=d.currency_code,
            amount=_dec(d.details.get("amount")),
            status_code=str(d.details.get("status_code") or ""),
            matching_status=str(d.details.get("matching_status") or ""),
        )
        for d in documents
    ]
    return sorted(rows, key=lambda r: (r.order_number, r.kind != "invoice", r.reference))
