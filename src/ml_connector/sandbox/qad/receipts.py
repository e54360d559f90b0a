"""PO receipts (gap route `purchaseOrderReceipts`): one receiver per post, never idempotent."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from ml_connector.sandbox.qad.envelope import (
    Codes,
    Msg,
    Outcome,
    RecordReader,
    qty_text,
    read_envelope,
    refused,
    today,
    with_keys,
)
from ml_connector.sandbox.qad.faults import roll
from ml_connector.sandbox.qad.records import PoLine, Receiver, ReceiverLine
from ml_connector.sandbox.qad.reference import domain_of
from ml_connector.sandbox.qad.tenant import QadTenant


def read_receipts(tenant: QadTenant, params: Mapping[str, str]) -> dict[str, Any]:
    domain = params.get("domainCode") or tenant.domain
    filters = {
        "po_number": params.get("purchaseOrderNumber", ""),
        "packing_slip": params.get("packingSlip", ""),
        "number": params.get("receiverNumber", ""),
    }
    candidates = (
        tenant.receivers_by_po.get((domain, filters["po_number"]), [])
        if filters["po_number"]
        else tenant.receivers.values()
    )
    rows = [
        rc.to_json()
        for rc in candidates
        if rc.domain == domain and all(not v or getattr(rc, k) == v for k, v in filters.items())
    ]
    return read_envelope("purchaseOrderReceipts", rows)


def post_receipt(
    tenant: QadTenant, record: Mapping[str, Any], params: Mapping[str, str]
) -> Outcome:
    """Receive against a PO: a new receiver `RC` + 6 digits that adds to `quantityReceived`.

    Over-receipt beyond the tenant's tolerance, a reversal below the invoiced quantity and
    closed lines are refused, and then nothing is posted.
    """
    record = with_keys(record, params, ("domainCode", "purchaseOrderNumber"))
    reader = RecordReader(record)
    domain = domain_of(tenant, reader)
    number = reader.text("purchaseOrderNumber", required=True, label="Purchase order number")
    packing_slip = reader.text("packingSlip", max_len=20, label="Packing slip")
    effective = reader.date("effectiveDate", default=today(), label="Effective date")
    if reader.errors:
        return refused(record, *reader.errors)
    po = tenant.purchase_order(domain, number)
    if po is None:
        return refused(
            record,
            Msg(
                f"Purchase order {number} does not exist",
                "purchaseOrderNumber",
                number,
                Codes.NOT_FOUND,
            ),
        )
    if po.status != "O":
        return refused(
            record,
            Msg(f"Purchase order {number} is closed", "purchaseOrderNumber", number, Codes.CLOSED),
        )
    raw_lines = record.get("lines")
    if (
        not isinstance(raw_lines, list)
        or not raw_lines
        or not all(isinstance(x, dict) for x in raw_lines)
    ):
        return refused(
            record, Msg("A receipt needs at least one line", "lines", "", Codes.REQUIRED)
        )

    lines: list[ReceiverLine] = []
    totals: dict[int, Decimal] = {}
    for raw in raw_lines:
        line_reader = RecordReader(raw, where=f"PO {number}: ")
        line_no = line_reader.integer("purchaseOrderLine", label="Line")
        quantity = line_reader.number("quantityReceived", label="Quantity received")
        reader.errors += line_reader.errors
        if line_reader.errors:
            continue
        line = po.lines.get(line_no)
        if line is None:
            reader.fail(
                "purchaseOrderLine",
                f"PO {number} line {line_no} does not exist",
                line_no,
                Codes.NOT_FOUND,
            )
            continue
        where = RecordReader(raw, where=f"{line.label()}: ")
        if quantity == 0:
            where.fail(
                "quantityReceived",
                "the quantity received must not be zero",
                raw.get("quantityReceived"),
            )
        if line.status != "O":
            where.fail("purchaseOrderLine", "the line is closed", line_no, Codes.CLOSED)
        site = where.text("siteCode") or line.site
        if site not in tenant.sites:
            where.fail("siteCode", f"site {site} does not exist", site, Codes.NOT_FOUND)
        location = where.text("location", max_len=20)
        lot_serial = where.text("lotSerial", max_len=18)
        reader.errors += where.errors
        totals[line_no] = totals.get(line_no, Decimal(0)) + quantity
        lines.append(ReceiverLine(line_no, line.item, quantity, site, location, lot_serial))
    for line_no, total in totals.items():
        problem = _quantity_problem(tenant, po.lines[line_no], total)
        if problem:
            reader.fail("quantityReceived", problem, qty_text(total), Codes.OVER_RECEIPT)
    if reader.errors:
        return refused(record, *reader.errors)

    receiver = Receiver(
        tenant.next_receiver_number(), domain, number, packing_slip, effective, lines
    )
    if roll(tenant.rng, tenant.faults.silent_receipt_rate):
        tenant.traffic.faults["silent_receipt"] += 1
        return Outcome(receiver.to_json())
    tenant.add_receiver(receiver)
    for line_no, total in totals.items():
        po.lines[line_no].qty_received += total
        po.lines[line_no].revision += 1
    return Outcome(receiver.to_json())


def _quantity_problem(tenant: QadTenant, line: PoLine, change: Decimal) -> str:
    after = line.qty_received + change
    limit = line.qty_ordered * (1 + tenant.over_receipt_tolerance_pct / 100)
    if change > 0 and after > limit:
        return (
            f"{line.label()}: receiving {qty_text(change)} brings the received quantity to "
            f"{qty_text(after)}, over the {qty_text(line.qty_ordered)} ordered plus the "
            f"{qty_text(tenant.over_receipt_tolerance_pct)} % tolerance"
        )
    if change < 0 and after < line.qty_invoiced:
        return (
            f"{line.label()}: reversing {qty_text(-change)} brings the received quantity to "
            f"{qty_text(after)}, below the {qty_text(line.qty_invoiced)} already invoiced"
        )
    return ""
