"""The engine follows QAD's receiver matching of the invoices it posted (issue 8, defect 7), on
the in-package doubles: an invoice QAD has not finished is read again each pass until it has,
and QAD being unavailable for that read never fails the pass."""

from __future__ import annotations

from memory_world import catalog_reference, memory_world

from ml_connector.errors import Unavailable
from ml_connector.qad.models import CreatedInvoice, InvoiceSpec, SupplierInvoice
from ml_connector.testing import FakeQadChannel


class MatchesLater(FakeQadChannel):
    """QAD leaves the matching Ongoing until a person finishes it (`finished`), and can be
    unavailable for invoice reads (`down`)."""

    finished = False
    down = False

    async def find_supplier_invoices(
        self, supplier_code: str, reference: str, invoice_type: str | None = None
    ) -> list[SupplierInvoice]:
        if self.down:
            raise Unavailable("QAD is down", system="qad")
        found = await super().find_supplier_invoices(supplier_code, reference, invoice_type)
        return [self._as_qad_has_it(i) for i in found]

    async def create_supplier_invoice(self, spec: InvoiceSpec) -> CreatedInvoice:
        created = await super().create_supplier_invoice(spec)
        if created.invoice is None:
            return created
        return created.model_copy(update={"invoice": self._as_qad_has_it(created.invoice)})

    def _as_qad_has_it(self, invoice: SupplierInvoice) -> SupplierInvoice:
        status = "Finished" if self.finished else "Ongoing"
        return invoice.model_copy(update={"matching_status": status})


async def test_an_unfinished_invoice_is_followed_until_qad_matches_it() -> None:
    qad = MatchesLater(reference=catalog_reference())
    world = await memory_world(qad)
    doc = world.purchase("STOCK", WID_100=10)
    world.cin7.state.receive(doc["ID"])
    world.cin7.state.invoice(doc["ID"], "MEM-MATCH-1")

    await world.sync()
    record = await world.record(doc["OrderNumber"])
    [invoice] = await world.store.list_postings(world.cid, kind="invoice")
    assert (record.status, invoice.details["matching_status"]) == ("posted", "Ongoing")

    qad.down = True
    report = await world.sync()
    assert report.status == "succeeded", report.error

    qad.down, qad.finished = False, True
    await world.sync()
    await world.sync()  # finished ones are not read again

    [invoice] = await world.store.list_postings(world.cid, kind="invoice")
    assert invoice.details["matching_status"] == "Finished"
    matched = [e for e in await world.trail(doc["OrderNumber"]) if e.event == "matched"]
    assert [e.data["voucher"] for e in matched] == [invoice.qad_id]
