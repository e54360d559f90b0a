"""Reference data resources: items, GL accounts, and the analysis-code rules of an account."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
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
from ml_connector.sandbox.qad.records import Item
from ml_connector.sandbox.qad.tenant import QadTenant


def domain_of(tenant: QadTenant, reader: RecordReader) -> str:
    """The record's `domainCode` (blank means the tenant's domain); refuses an unknown one."""
    domain = reader.text("domainCode") or tenant.domain
    if domain != tenant.domain:
        reader.fail("domainCode", f"Domain {domain} does not exist", domain, Codes.NOT_FOUND)
    return domain


def rate_of(tenant: QadTenant, reader: RecordReader, currency: str) -> Decimal:
    """The rate a document gets when it names a rate type instead of a rate: the tenant's own
    (S1 sends `exchangeRateType` "ACCOUNTING"); 1 when it names neither."""
    rate_type = reader.text("exchangeRateType")
    if not rate_type:
        return Decimal(1)
    if rate_type.upper() not in tenant.rate_types:
        reader.fail("exchangeRateType", f"Exchange rate type {rate_type} does not exist", rate_type)
    return tenant.currencies.get(currency, Decimal(1))


def check_analysis(
    tenant: QadTenant,
    gl_code: str,
    sub_account: str,
    cost_centre: str,
    *,
    field: str = "glAccount",
    where: str = "",
) -> list[Msg]:
    """Why these analysis codes do not fit the account (empty when they do).

    An account that requires a sub-account or cost centre refuses a line without one, and an
    account that takes none refuses a line that carries one, as QAD's analysis rules do.
    """
    account = tenant.gl_accounts.get(gl_code)
    if account is None:
        return [Msg(f"{where}GL account {gl_code} does not exist", field, gl_code, Codes.NOT_FOUND)]
    if not account.active:
        return [Msg(f"{where}GL account {gl_code} is not active", field, gl_code, Codes.INACTIVE)]
    found: list[Msg] = []
    for code, required, known, name in (
        (sub_account, account.requires_sub_account, tenant.sub_accounts, "sub-account"),
        (cost_centre, account.requires_cost_centre, tenant.cost_centres, "cost centre"),
    ):
        if required and not code:
            found.append(
                Msg(
                    f"{where}GL account {gl_code} requires a {name}", field, gl_code, Codes.ANALYSIS
                )
            )
        elif code and not required:
            found.append(
                Msg(
                    f"{where}GL account {gl_code} does not accept a {name} ({code})",
                    field,
                    code,
                    Codes.ANALYSIS,
                )
            )
        elif code and code not in known:
            found.append(
                Msg(f"{where}The {name} {code} does not exist", field, code, Codes.ANALYSIS)
            )
    return found


def read_items(tenant: QadTenant, params: Mapping[str, str]) -> dict[str, Any]:
    domain = params.get("domainCode") or tenant.domain
    code = params.get("itemCode", "")
    rows = []
    if domain == tenant.domain:
        items = (
            [tenant.items[code]] if code in tenant.items else [] if code else tenant.items.values()
        )
        rows = [i.to_json(domain) for i in sorted(items, key=lambda i: i.code)]
    return read_envelope("items", rows)


def save_item(tenant: QadTenant, record: Mapping[str, Any], params: Mapping[str, str]) -> Outcome:
    record = with_keys(record, params, ("domainCode", "itemCode"))
    reader = RecordReader(record)
    op = reader.operation()
    domain = domain_of(tenant, reader)
    code = reader.text("itemCode", required=True, max_len=18, label="Item code")
    existing = tenant.items.get(code)
    if reader.errors:
        return refused(record, *reader.errors)
    if op == "C" and existing is not None:
        return refused(
            record, Msg(f"Item {code} already exists", "itemCode", code, Codes.ALREADY_EXISTS)
        )
    if op == "U":
        if existing is None:
            return refused(
                record, Msg(f"Item {code} does not exist", "itemCode", code, Codes.NOT_FOUND)
            )
        if is_stale(record, existing.to_json(domain)["concurrencyHash"]):
            return refused(
                record, Msg(CHANGED_BY_ANOTHER_USER, "concurrencyHash", "", Codes.CHANGED)
            )
        reader = RecordReader({**existing.to_json(domain), **record})
    description = reader.text("description", required=True, label="Description")
    uom = reader.text("unitOfMeasure", required=True, label="Unit of measure")
    product_line = reader.text("productLine")
    gl_code = reader.text("glAccount", required=True, label="GL account")
    sub_account = reader.text("subAccount")
    cost_centre = reader.text("costCentre")
    cost = reader.number("unitCost", minimum=Decimal(0), label="Unit cost")
    status = reader.text("itemStatus").upper() or "ACTIVE"
    messages = list(reader.errors)
    if gl_code:
        messages += check_analysis(tenant, gl_code, sub_account, cost_centre)
    if messages:
        return refused(record, *messages)
    item = Item(
        code, description, uom, product_line, gl_code, cost, status, sub_account, cost_centre
    )
    item.revision = existing.revision + 1 if existing else 0
    tenant.items[code] = item
    return Outcome(item.to_json(domain))


def read_gl_accounts(tenant: QadTenant, params: Mapping[str, str]) -> dict[str, Any]:
    code = params.get("glCode", "")
    if code:
        accounts = [tenant.gl_accounts[code]] if code in tenant.gl_accounts else []
    else:
        accounts = sorted(tenant.gl_accounts.values(), key=lambda a: a.code)
    return read_envelope("glAccounts", [a.to_json() for a in accounts])
