"""`mapping report` as a use case: what each side holds that the other does not, read-only."""

from __future__ import annotations

from usecase_world import Setup

from ml_connector.usecases.mappings import remove_mapping, report_alignment, set_mapping
from ml_connector.usecases.passes import sync_connection


async def test_the_report_follows_the_mappings_both_ways(setup: Setup) -> None:
    tenant = setup.qad.tenant()
    before = tenant.stats()["writes"]
    report = (await report_alignment(setup.first, "acme", remotes=setup.remotes)).alignment
    mappings = await setup.first.list_mappings((await setup.config()).id or 0)
    mapped = {m.cin7_value for m in mappings if m.kind == "account"}
    assert not set(report.cin7_only["account"]) & mapped
    assert report.qad_only["currency"]  # QAD knows currencies no Cin7 supplier uses
    assert tenant.stats()["writes"] == before

    item = next(m for m in mappings if m.kind == "item")
    await remove_mapping(setup.first, "acme", "item", item.cin7_value)
    after = (await report_alignment(setup.first, "acme", remotes=setup.remotes)).alignment
    assert item.cin7_value in after.cin7_only["item"]
    assert item.qad_value in after.qad_only["item"]
    await set_mapping(setup.first, "acme", "item", item.cin7_value, item.qad_value)
    again = (await report_alignment(setup.first, "acme", remotes=setup.remotes)).alignment
    assert again.to_json() == report.to_json()


async def test_suppliers_the_connector_created_have_their_counterpart(setup: Setup) -> None:
    before = (await report_alignment(setup.first, "acme", remotes=setup.remotes)).alignment
    await sync_connection(setup.first, "acme", remotes=setup.remotes)
    after = (await report_alignment(setup.first, "acme", remotes=setup.remotes)).alignment
    created = setup.qad.tenant().state()["suppliers"]
    assert created
    assert not {s["supplierCode"] for s in created} & set(after.qad_only["supplier"])
    assert len(after.cin7_only["supplier"]) < len(before.cin7_only["supplier"])
