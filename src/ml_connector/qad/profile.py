"""Tenant profiles: which channel each capability takes, and what a tenant calls things.

Public evidence for QAD splits in two (reference §1, §4; issue 9): the REST routes for
suppliers and POs are observed, those for receipts and supplier invoices are our guesses, and
what is evidenced for those is QXtend Inbound, which a cloud tenant may not expose. Tenants also
differ in browse ids and row keys, daybook sets, bill-to, exchange-rate types and date formats.
A profile says all of that in data, so fitting a real tenant never needs a code change.

Three profiles are built in:

| profile | suppliers | purchase orders | receipts | invoices |
|---|---|---|---|---|
| `rest` | rest | rest | rest | rest |
| `qxtend` | rest | qxtend | qxtend | qxtend |
| `mixed` | rest | rest | qxtend | qxtend |

Suppliers always take REST: QAD takes suppliers through its Financials adapter and no public
QDoc for them was found (reference §4.1).

Any other profile is a TOML file (read with `tomllib`); every table and key is optional and
falls back to the `rest` profile's value::

    dates = "datetime"                  # "date": 2026-01-31; "datetime": 2026-01-31T00:00:00.000Z

    [channels]                          # "rest" or "qxtend" each
    suppliers = "rest"
    purchase_orders = "rest"
    receipts = "qxtend"
    invoices = "qxtend"

    [qxtend]
    url = "https://qad.example.com/qxi/services/QdocWebService"  # default {--qad-url}/qxi/...
    receiver = "QADERP"
    [qxtend.versions]                   # QDoc version tags (reference §7.7)
    maintainPurchaseOrder = "ERP3_2"
    receivePurchaseOrder = "ERP3_2"
    bcinvoice = "ERP3_1"

    [browses.sites]                     # a browse id and its row keys, per reference list
    id = "urn:browse:bebrowse:com.qad.erp.base.sites"
    code = "site.siteCode"
    description = "site.description"

    [defaults]
    daybook_set = "DBS-AP"
    bill_to = "10-100"
    exchange_rate_type = "ACCOUNTING"   # blank: post Cin7's rate; set: QAD's rate of this type
    invoice_status = "AP-INITIAL"
    rounding = 2                        # decimal places QDoc amounts are written with, at
                                        # least (never fewer than the amount has: the money
                                        # rule rounds once, to the currency's decimals)
    [defaults.supplier_gl_profiles]
    invoice_control = "AP-CTRL"
    credit_note_control = "AP-CN"
    prepayment_control = "AP-PRE"
    purchase_account = "PURCH"

    [limits]
    in_flight = 8                       # QAD requests out to the tenant at once, all workers

Unknown tables, keys or values, and values of the wrong TOML type (`rounding = "2"`), are errors
(`ProfileError`, a `ConfigError`), each naming the field:
`profile acme.toml: [channels] receipts: 'soap' is not one of rest, qxtend`.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ml_connector.errors import ConfigError
from ml_connector.qad.inflight import DEFAULT_IN_FLIGHT

ChannelName = Literal["rest", "qxtend"]
Capability = Literal["suppliers", "purchase_orders", "receipts", "invoices"]
CAPABILITIES: tuple[Capability, ...] = ("suppliers", "purchase_orders", "receipts", "invoices")
QDOC_NAMES = ("maintainPurchaseOrder", "receivePurchaseOrder", "bcinvoice")


class ProfileError(ConfigError):
    """A profile that cannot be used; the message names the field."""


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Channels(_Strict):
    """The channel each capability takes."""

    suppliers: Literal["rest"] = "rest"
    purchase_orders: ChannelName = "rest"
    receipts: ChannelName = "rest"
    invoices: ChannelName = "rest"

    def of(self, capability: Capability) -> ChannelName:
        value: ChannelName = getattr(self, capability)
        return value

    @property
    def uses_qxtend(self) -> bool:
        return any(self.of(c) == "qxtend" for c in CAPABILITIES)


class QdocVersions(_Strict):
    """QDoc version tags ([CODE] S6-S8 use `ERP3_1`/`ERP3_2`; `eB2_3` on older tenants)."""

    maintainPurchaseOrder: str = Field(default="ERP3_2", min_length=1)
    receivePurchaseOrder: str = Field(default="ERP3_2", min_length=1)
    bcinvoice: str = Field(default="ERP3_1", min_length=1)


class QxtendSettings(_Strict):
    """Where QXtend is and which receiver runs our QDocs. A blank `url` means
    `{QAD base URL}/qxi/services/QdocWebService`."""

    url: str = ""
    receiver: str = Field(default="QADERP", min_length=1)
    versions: QdocVersions = QdocVersions()


# ---- browses ------------------------------------------------------------------------------------


class _Browse(_Strict):
    """A browse id and its row keys: none may be blank (a blank key reads nothing, silently)."""

    @field_validator("*")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value


# Browse defaults. Ids: the source on each; row keys of business-entity browses follow the
# observed `<entity>.<field>` camelCase convention ([CODE] S1 `priceListV2.priceListCode`, S4),
# but the entity and field names per browse are our reading of it: [INF] unless marked.


class GlAccountsBrowse(_Browse):
    id: str = "urn:browse:bebrowse:com.qad.erp.financials.glAccounts"  # [INF] §4.5; keys [INF]
    code: str = "gl.glCode"
    description: str = "gl.description"
    type: str = "gl.glType"
    requires_sub_account: str = "gl.requiresSubAccount"
    requires_cost_centre: str = "gl.requiresCostCentre"
    active: str = "gl.isActive"


class ItemsBrowse(_Browse):
    id: str = "mfg:gp340"  # QAD's own item browse ([CODE] §4.6, QAD's perf-test scripts)
    # classic browse: pt_mstr table keys (reference §4.6, §5.3 `abs_mstr.abs_order` style)
    code: str = "pt_mstr.pt_part"
    description: str = "pt_mstr.pt_desc1"
    uom: str = "pt_mstr.pt_um"
    product_line: str = "pt_mstr.pt_prod_line"
    status: str = "pt_mstr.pt_status"


class SitesBrowse(_Browse):
    id: str = "urn:browse:bebrowse:com.qad.erp.base.sites"  # [DOC] D7; keys [INF]
    code: str = "site.siteCode"
    description: str = "site.description"


class CreditTermsBrowse(_Browse):
    id: str = "urn:browse:bebrowse:com.qad.erp.base.creditTerms"  # [DOC] D7; keys [INF]
    code: str = "creditTerm.creditTermsCode"
    description: str = "creditTerm.description"
    due_days: str = "creditTerm.dueDays"


class CurrenciesBrowse(_Browse):
    id: str = "urn:browse:bebrowse:com.qad.erp.base.currencies"  # [DOC] D7; keys [INF]
    code: str = "currency.currencyCode"
    description: str = "currency.description"


class TaxClassesBrowse(_Browse):
    id: str = "urn:browse:bebrowse:com.qad.erp.financials.taxClasses"  # [INF]; keys [INF]
    code: str = "tx.taxClass"
    description: str = "tx.description"
    percent: str = "tx.percent"


class SuppliersBrowse(_Browse):
    id: str = "urn:browse:bebrowse:com.qad.erp.base.supplierV2s"  # S1's supplierV2s, D7 pattern
    # keys [INF]; `supplierV2` is the entity S1's REST resource names
    code: str = "supplierV2.supplierCode"
    name: str = "supplierV2.name"
    currency: str = "supplierV2.currencyCode"
    active: str = "supplierV2.isActive"


class ReceiptsBrowse(_Browse):
    """Receipt history (prh_hist), read back by PO and packing slip: id and keys [INF] §4.3."""

    id: str = "urn:browse:mfg:receiptHistory"
    receiver: str = "prh_hist.prh_receiver"
    po_number: str = "prh_hist.prh_nbr"
    line: str = "prh_hist.prh_line"
    item: str = "prh_hist.prh_part"
    packing_slip: str = "prh_hist.prh_ps_nbr"
    quantity: str = "prh_hist.prh_rcvd"
    date: str = "prh_hist.prh_rcp_date"


class SupplierInvoicesBrowse(_Browse):
    """Supplier invoices, searched by supplier and reference: id and keys [INF] (D7 pattern)."""

    id: str = "urn:browse:bebrowse:com.qad.erp.financials.supplierInvoices"
    voucher: str = "supplierInvoice.voucher"
    posting_year: str = "supplierInvoice.postingYear"
    daybook: str = "supplierInvoice.daybookCode"
    supplier: str = "supplierInvoice.supplierCode"
    reference: str = "supplierInvoice.invoiceReference"
    type: str = "supplierInvoice.invoiceType"
    currency: str = "supplierInvoice.currencyCode"
    amount: str = "supplierInvoice.amountTC"
    tax_amount: str = "supplierInvoice.taxAmountTC"
    invoice_date: str = "supplierInvoice.invoiceDate"
    due_date: str = "supplierInvoice.dueDate"
    matching_status: str = "supplierInvoice.matchingStatus"
    description: str = "supplierInvoice.description"
    status_code: str = "supplierInvoice.invoiceStatusCode"
    # One row per matched line (APMatchingLn, D6 bapmatching) or linked PO: [INF].
    po_number: str = "supplierInvoice.purchaseOrderNumber"
    match_line: str = "supplierInvoice.matchLine"
    match_quantity: str = "supplierInvoice.matchQuantity"
    match_unit_price: str = "supplierInvoice.matchUnitPrice"
    match_gl_account: str = "supplierInvoice.matchGlAccount"


class Browses(_Strict):
    """Browse ids and row keys per reference list (business-entity browses: `<entity>.<field>`)."""

    gl_accounts: GlAccountsBrowse = GlAccountsBrowse()
    items: ItemsBrowse = ItemsBrowse()
    sites: SitesBrowse = SitesBrowse()
    credit_terms: CreditTermsBrowse = CreditTermsBrowse()
    currencies: CurrenciesBrowse = CurrenciesBrowse()
    tax_classes: TaxClassesBrowse = TaxClassesBrowse()
    suppliers: SuppliersBrowse = SuppliersBrowse()
    receipts: ReceiptsBrowse = ReceiptsBrowse()
    supplier_invoices: SupplierInvoicesBrowse = SupplierInvoicesBrowse()


# ---- defaults -----------------------------------------------------------------------------------


class SupplierGlProfiles(_Strict):
    """GL profile codes a new supplier gets (S1 sends them on `supplierV2s`); blank: none sent."""

    invoice_control: str = ""
    credit_note_control: str = ""
    prepayment_control: str = ""
    purchase_account: str = ""


class Defaults(_Strict):
    """Values a tenant expects on documents that Cin7 does not carry."""

    daybook_set: str = ""
    bill_to: str = ""
    exchange_rate_type: str = ""
    invoice_status: str = ""
    # Decimal places QDoc amounts are written with, at least; never a second rounding.
    rounding: int = Field(default=2, ge=0, le=6)
    supplier_gl_profiles: SupplierGlProfiles = SupplierGlProfiles()


class Limits(_Strict):
    """How hard ml-connector may press the tenant (see `qad/inflight.py`)."""

    in_flight: int = Field(default=DEFAULT_IN_FLIGHT, ge=1, le=64)


class QadProfile(_Strict):
    """One tenant profile (see module docstring). `name` is the built-in name or the file."""

    name: str = "rest"
    dates: Literal["date", "datetime"] = "date"
    channels: Channels = Channels()
    qxtend: QxtendSettings = QxtendSettings()
    browses: Browses = Browses()
    defaults: Defaults = Defaults()
    limits: Limits = Limits()

    @field_validator("name")
    @classmethod
    def _named(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("a profile needs a name")
        return value

    def qxtend_url(self, base_url: str) -> str:
        """The QdocWebService URL: `[qxtend] url`, else `{base_url}/qxi/services/QdocWebService`."""
        return self.qxtend.url or f"{base_url.rstrip('/')}/qxi/services/QdocWebService"

    def stored(self) -> dict[str, Any]:
        """The profile as stored with a connection (JSON-safe)."""
        return self.model_dump(mode="json")


BUILT_IN: dict[str, QadProfile] = {
    "rest": QadProfile(name="rest"),
    "qxtend": QadProfile(
        name="qxtend",
        channels=Channels(purchase_orders="qxtend", receipts="qxtend", invoices="qxtend"),
    ),
    "mixed": QadProfile(name="mixed", channels=Channels(receipts="qxtend", invoices="qxtend")),
}


def _field(loc: tuple[int | str, ...], *, table: bool = False) -> str:
    """`("channels", "receipts")` → `[channels] receipts`; a table → `[browses.projects]`."""
    parts = [str(p) for p in loc]
    if table:
        return f"[{'.'.join(parts)}]"
    if len(parts) == 1:
        return parts[0]
    return f"[{'.'.join(parts[:-1])}] {parts[-1]}"


def _reason(error: Any) -> str:
    kind, value = error["type"], error.get("input")
    if kind == "extra_forbidden":
        return "unknown key" if not isinstance(value, dict) else "unknown table"
    if kind == "literal_error":
        expected = error.get("ctx", {}).get("expected", "")
        return f"{value!r} is not one of {expected.replace(chr(39), '').replace(' or ', ', ')}"
    if kind in ("model_type", "dict_type"):
        return "must be a table"
    if kind == "value_error":
        return f"{value!r}: {error['msg'].removeprefix('Value error, ')}"
    return f"{value!r}: {error['msg']}"


def parse_profile(data: dict[str, Any], *, name: str) -> QadProfile:
    """A profile from parsed TOML; `ProfileError` naming the first bad field."""
    if "name" in data:
        raise ProfileError(f"profile {name}: name: unknown key (the file name names the profile)")
    try:
        # Strict: TOML values carry their type, so '2' for a number is refused, not coerced.
        return QadProfile.model_validate({**data, "name": name}, strict=True)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = tuple(first["loc"])
        if first["type"] == "literal_error" and loc == ("channels", "suppliers"):
            raise ProfileError(
                f"profile {name}: [channels] suppliers: {first.get('input')!r} is not supported; "
                "suppliers take rest (no public supplier QDoc, reference §4.1)"
            ) from None
        table = first["type"] == "extra_forbidden" and isinstance(first.get("input"), dict)
        raise ProfileError(
            f"profile {name}: {_field(loc, table=table)}: {_reason(first)}"
        ) from None


def load_profile(spec: str) -> QadProfile:
    """A built-in profile by name (`rest`, `qxtend`, `mixed`) or a TOML file by path.

    Raises `ProfileError` for an unknown name, an unreadable file, bad TOML or a bad field.
    """
    if spec in BUILT_IN:
        return BUILT_IN[spec]
    path = Path(spec)
    if not path.suffix and not path.exists():
        raise ProfileError(f"unknown QAD profile {spec!r}: use rest, qxtend, mixed or a TOML file")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ProfileError(f"profile {spec}: cannot read it ({exc.strerror})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(f"profile {spec}: not valid TOML ({exc})") from None
    return parse_profile(data, name=path.name)


def stored_profile(data: dict[str, Any] | None) -> QadProfile:
    """The profile a connection stored (`QadProfile.stored()`); `rest` when none was."""
    if not data:
        return BUILT_IN["rest"]
    try:
        return QadProfile.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise ProfileError(
            f"stored profile: {_field(tuple(first['loc']))}: {_reason(first)}"
        ) from None
