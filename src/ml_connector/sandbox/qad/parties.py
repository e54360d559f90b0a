"""Business relations and suppliers (`businessRelationV2s`, `supplierV2s`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ml_connector.sandbox.qad.envelope import (
    CHANGED_BY_ANOTHER_USER,
    Codes,
    Msg,
    Outcome,
    RecordReader,
    is_stale,
    read_envelope,
    refused,
    with_keys,
)
from ml_connector.sandbox.qad.records import BusinessRelation, Supplier
from ml_connector.sandbox.qad.tenant import QadTenant


def read_business_relations(tenant: QadTenant, params: Mapping[str, str]) -> dict[str, Any]:
    code = params.get("businessRelationCode", "")
    if code:
        found = [tenant.business_relations[code]] if code in tenant.business_relations else []
    else:
        found = sorted(tenant.business_relations.values(), key=lambda b: b.code)
    return read_envelope("businessRelationV2s", [b.to_json() for b in found])


def save_business_relation(
    tenant: QadTenant, record: Mapping[str, Any], params: Mapping[str, str]
) -> Outcome:
    record = with_keys(record, params, ("businessRelationCode",))
    reader = RecordReader(record)
    op = reader.operation()
    code = reader.text(
        "businessRelationCode", required=True, max_len=20, label="Business relation code"
    )
    if reader.errors:
        return refused(record, *reader.errors)
    existing = tenant.business_relations.get(code)
    if op == "C" and existing is not None:
        return refused(
            record,
            _exists(f"Business relation {code} already exists", "businessRelationCode", code),
        )
    if op == "U":
        if existing is None:
            return refused(
                record,
                _missing(f"Business relation {code} does not exist", "businessRelationCode", code),
            )
        if is_stale(record, existing.hash):
            return refused(record, _changed())
        reader = RecordReader({**existing.content(), **record})
    relation = BusinessRelation(
        code=code,
        name=reader.text("name", required=True, max_len=60, label="Name"),
        street1=reader.text("addressStreet1", max_len=60),
        city=reader.text("city", max_len=40),
        state=reader.text("state", max_len=20),
        zip=reader.text("zip", max_len=20),
        country=reader.text("country", max_len=40),
        email=reader.text("email", max_len=80),
        phone=reader.text("phone", max_len=40),
        is_active=reader.flag("isActive", default=True),
    )
    if reader.errors:
        return refused(record, *reader.errors)
    relation.revision = existing.revision + 1 if existing else 0
    tenant.business_relations[code] = relation
    return Outcome(relation.to_json())


def read_suppliers(tenant: QadTenant, params: Mapping[str, str]) -> dict[str, Any]:
    shared_set = params.get("sharedSetCode") or tenant.shared_set
    code = params.get("supplierCode", "")
    found = [
        s
        for (set_code, s_code), s in sorted(tenant.suppliers.items())
        if set_code == shared_set and (not code or s_code == code)
    ]
    return read_envelope("supplierV2s", [s.to_json() for s in found])


def save_supplier(
    tenant: QadTenant, record: Mapping[str, Any], params: Mapping[str, str]
) -> Outcome:
    record = with_keys(record, params, ("sharedSetCode", "supplierCode"))
    reader = RecordReader(record)
    op = reader.operation()
    shared_set = reader.text("sharedSetCode") or tenant.shared_set
    if shared_set != tenant.shared_set:
        reader.fail(
            "sharedSetCode",
            f"Supplier shared set {shared_set} does not exist",
            shared_set,
            Codes.NOT_FOUND,
        )
    code = reader.text("supplierCode", required=True, max_len=8, label="Supplier code")
    if reader.errors:
        return refused(record, *reader.errors)
    existing = tenant.suppliers.get((shared_set, code))
    if op == "C" and existing is not None:
        return refused(
            record,
            _exists(
                f"Supplier {code} already exists in shared set {shared_set}", "supplierCode", code
            ),
        )
    if op == "U":
        if existing is None:
            return refused(
                record, _missing(f"Supplier {code} does not exist", "supplierCode", code)
            )
        if is_stale(record, existing.hash):
            return refused(record, _changed())
        reader = RecordReader({**existing.content(), **record})

    relation_code = reader.text("businessRelationCode", required=True, label="Business relation")
    relation = tenant.business_relations.get(relation_code)
    if relation_code and relation is None:
        reader.fail(
            "businessRelationCode",
            f"Business relation {relation_code} does not exist",
            relation_code,
            Codes.NOT_FOUND,
        )
    currency = reader.text("currencyCode", required=True, label="Currency")
    if currency and currency not in tenant.currencies:
        reader.fail(
            "currencyCode", f"Currency {currency} does not exist", currency, Codes.NOT_FOUND
        )
    terms = reader.text("creditTermsCode", required=True, label="Credit terms")
    if terms and terms not in tenant.credit_terms:
        reader.fail("creditTermsCode", f"Credit terms {terms} do not exist", terms, Codes.NOT_FOUND)
    status = reader.text("invoiceStatusCode", required=True, label="Invoice status code")
    if status and status not in tenant.invoice_statuses:
        reader.fail(
            "invoiceStatusCode",
            f"Invoice status code {status} does not exist",
            status,
            Codes.NOT_FOUND,
        )
    tax_class = reader.text("taxClass")
    if tax_class and tax_class not in tenant.tax_classes:
        reader.fail("taxClass", f"Tax class {tax_class} does not exist", tax_class, Codes.NOT_FOUND)
    name = reader.text("name", max_len=60) or (relation.name if relation else "")
    remarks = reader.text("remarks", max_len=255)
    is_active = reader.flag("isActive", default=True)
    if reader.errors:
        return refused(record, *reader.errors)

    supplier = Supplier(
        shared_set=shared_set,
        code=code,
        business_relation=relation_code,
        name=name,
        currency=currency,
        credit_terms=terms,
        invoice_status=status,
        supplier_id=existing.supplier_id if existing else tenant.next_number("supplier_id"),
        tax_class=tax_class,
        remarks=remarks,
        is_active=is_active,
        revision=existing.revision + 1 if existing else 0,
    )
    tenant.suppliers[(shared_set, code)] = supplier
    return Outcome(supplier.to_json())


def _exists(message: str, field: str, value: str) -> Msg:
    return Msg(message, field, value, Codes.ALREADY_EXISTS)


def _missing(message: str, field: str, value: str) -> Msg:
    return Msg(message, field, value, Codes.NOT_FOUND)


def _changed() -> Msg:
    return Msg(CHANGED_BY_ANOTHER_USER, "concurrencyHash", "", Codes.CHANGED)
