"""Reference data shared by the two sandboxes, so that mapping has real but bounded work to do.

The Cin7 Core sandbox serves `cin7_catalog()`; the QAD sandbox serves `qad_catalog()`, which is
derived from it: most QAD item codes, GL codes, sites, credit terms and tax codes match Cin7's
codes or names exactly, and a few deliberately do not (see `DIVERGENCES`), so that
`mapping suggest` finds exact matches, name matches and a short unmatched list.

Everything here is plain data with no randomness: the seed only shapes the purchases and
suppliers each sandbox generates on top of it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal


@dataclass(frozen=True)
class Account:
    code: str
    name: str
    type: str  # Cin7 account Type (EXPENSE, CURRENT, CURRLIAB, ...)
    cls: str  # Cin7 account Class (ASSET, LIABILITY, EXPENSE, EQUITY, REVENUE)
    status: str = "ACTIVE"


@dataclass(frozen=True)
class Product:
    sku: str
    name: str
    category: str
    uom: str
    cost: Decimal
    inventory_account: str
    cogs_account: str = "310"
    type: str = "Stock"  # Stock | Service | Non Inventory
    expense_account: str = ""  # where a Service or Non Inventory product is booked

    @property
    def stocked(self) -> bool:
        """Stock products are received; Service and Non Inventory ones never are."""
        return self.type == "Stock"

    @property
    def purchase_account(self) -> str:
        """The account an invoice line of this product carries by default."""
        return self.inventory_account if self.stocked else self.expense_account


@dataclass(frozen=True)
class Location:
    name: str
    bins: tuple[str, ...] = ()
    is_default: bool = False


@dataclass(frozen=True)
class PaymentTerm:
    name: str
    duration: int
    method: str = "number of days"


@dataclass(frozen=True)
class TaxRule:
    name: str
    percent: Decimal
    account: str = "820"


@dataclass(frozen=True)
class Cin7Catalog:
    accounts: tuple[Account, ...]
    products: tuple[Product, ...]
    locations: tuple[Location, ...]
    payment_terms: tuple[PaymentTerm, ...]
    tax_rules: tuple[TaxRule, ...]
    currencies: dict[str, Decimal]  # code -> base units per 1 unit (base is USD)
    base_currency: str = "USD"


@dataclass(frozen=True)
class QadGlAccount:
    code: str  # GLCode, at most 8 characters
    description: str
    type: str  # QAD GL type: BALANCE | EXPENSE | REVENUE | AP | INVENTORY
    requires_sub_account: bool = False
    requires_cost_centre: bool = False
    active: bool = True


@dataclass(frozen=True)
class QadItem:
    code: str
    description: str
    uom: str
    product_line: str
    gl_account: str
    unit_cost: Decimal
    status: str = "ACTIVE"


@dataclass(frozen=True)
class QadSite:
    code: str
    description: str


@dataclass(frozen=True)
class QadCreditTerm:
    code: str
    description: str
    due_days: int


@dataclass(frozen=True)
class QadTaxClass:
    code: str
    description: str
    percent: Decimal


@dataclass(frozen=True)
class QadCatalog:
    gl_accounts: tuple[QadGlAccount, ...]
    items: tuple[QadItem, ...]
    sites: tuple[QadSite, ...]
    credit_terms: tuple[QadCreditTerm, ...]
    tax_classes: tuple[QadTaxClass, ...]
    currencies: dict[str, Decimal]
    sub_accounts: tuple[str, ...] = ("0000", "1000", "2000")
    cost_centres: tuple[str, ...] = ("CC100", "CC200", "CC300")


@dataclass(frozen=True)
class Divergences:
    """Where QAD's codes differ from Cin7's on purpose (the mapping's real work)."""

    item_codes: dict[str, str] = field(default_factory=dict)  # Cin7 SKU -> QAD item code
    items_missing: tuple[str, ...] = ()  # Cin7 SKUs with no QAD item
    account_codes: dict[str, str] = field(default_factory=dict)  # Cin7 code -> QAD GL code
    accounts_missing: tuple[str, ...] = ()  # Cin7 codes with no QAD account
    sites: dict[str, str] = field(default_factory=dict)  # Cin7 location -> QAD site code


_ACCOUNTS = (
    Account("090", "Business Bank Account", "BANK", "ASSET"),
    Account("200", "Sales", "SALES", "REVENUE"),
    Account("260", "Other Revenue", "OTHERINCOME", "REVENUE"),
    Account("300", "Purchases", "DIRECTCOSTS", "EXPENSE"),
    Account("310", "Cost of Goods Sold", "COSTOFGOODSSOLD", "EXPENSE"),
    Account("404", "Bank Fees", "EXPENSE", "EXPENSE"),
    Account("425", "Freight & Courier", "EXPENSE", "EXPENSE"),
    Account("429", "General Expenses", "EXPENSE", "EXPENSE"),
    Account("433", "Insurance", "EXPENSE", "EXPENSE"),
    Account("445", "Light, Power, Heating", "EXPENSE", "EXPENSE"),
    Account("449", "Motor Vehicle Expenses", "EXPENSE", "EXPENSE"),
    Account("461", "Printing & Stationery", "EXPENSE", "EXPENSE"),
    Account("473", "Repairs and Maintenance", "EXPENSE", "EXPENSE"),
    Account("485", "Subscriptions", "EXPENSE", "EXPENSE"),
    Account("610", "Accounts Receivable", "CURRENT", "ASSET"),
    Account("630", "Inventory", "CURRENT", "ASSET"),
    Account("631", "Inventory - Raw Materials", "CURRENT", "ASSET"),
    Account("632", "Inventory - Packaging", "CURRENT", "ASSET"),
    Account("710", "Office Equipment", "FIXED", "ASSET"),
    Account("720", "Plant & Machinery", "FIXED", "ASSET"),
    Account("800", "Accounts Payable", "CURRLIAB", "LIABILITY"),
    Account("820", "Sales Tax Payable", "CURRLIAB", "LIABILITY"),
    Account("960", "Retained Earnings", "EQUITY", "EQUITY"),
    Account("_109_", "Legacy Clearing", "CURRENT", "ASSET", status="ARCHIVED"),
)


def _p(sku: str, name: str, category: str, uom: str, cost: str, account: str) -> Product:
    return Product(sku, name, category, uom, Decimal(cost), account)


_PRODUCTS = (
    _p("WID-100", "Widget 100mm", "Fasteners", "Item", "12.50", "630"),
    _p("WID-150", "Widget 150mm", "Fasteners", "Item", "14.75", "630"),
    _p("BRK-20", "Bracket 20mm", "Fasteners", "Item", "1.75", "630"),
    _p("BRK-40", "Bracket 40mm", "Fasteners", "Item", "2.30", "630"),
    _p("BLT-M8X40", "Hex Bolt M8 x 40", "Fasteners", "Box", "18.20", "630"),
    _p("BLT-M10X60", "Hex Bolt M10 x 60", "Fasteners", "Box", "24.90", "630"),
    _p("NUT-M8", "Hex Nut M8", "Fasteners", "Box", "6.40", "630"),
    _p("NUT-M10", "Hex Nut M10", "Fasteners", "Box", "7.10", "630"),
    _p("WSH-M8", "Flat Washer M8", "Fasteners", "Box", "3.20", "630"),
    _p("SCR-4X30", "Wood Screw 4 x 30", "Fasteners", "Box", "5.60", "630"),
    _p("RVT-4", "Blind Rivet 4mm", "Fasteners", "Box", "9.80", "630"),
    _p("STL-SHT-2", "Steel Sheet 2mm 1200x2400", "Raw Materials", "Sheet", "86.00", "631"),
    _p("STL-SHT-3", "Steel Sheet 3mm 1200x2400", "Raw Materials", "Sheet", "121.00", "631"),
    _p("ALU-BAR-25", "Aluminium Flat Bar 25mm", "Raw Materials", "Length", "32.40", "631"),
    _p("ALU-TUBE-40", "Aluminium Square Tube 40mm", "Raw Materials", "Length", "47.90", "631"),
    _p("CU-WIRE-2.5", "Copper Wire 2.5mm2 100m", "Raw Materials", "Roll", "138.00", "631"),
    _p("PVC-PIPE-50", "PVC Pipe 50mm x 6m", "Raw Materials", "Length", "22.15", "631"),
    _p("RES-EPX-5", "Epoxy Resin 5L", "Raw Materials", "Tin", "96.50", "631"),
    _p("PNT-GRY-4", "Industrial Paint Grey 4L", "Raw Materials", "Tin", "58.00", "631"),
    _p("GLV-NIT-L", "Nitrile Gloves Large", "Consumables", "Box", "11.90", "630"),
    _p("TAPE-DUCT", "Duct Tape 48mm", "Consumables", "Roll", "4.75", "630"),
    _p("ABR-DSC-115", "Abrasive Disc 115mm", "Consumables", "Pack", "19.40", "630"),
    _p("WLD-ROD-3", "Welding Rod 3.2mm 5kg", "Consumables", "Pack", "41.30", "630"),
    _p("LUB-SPR-400", "Lubricant Spray 400g", "Consumables", "Can", "7.95", "630"),
    _p("BOX-S", "Shipping Carton Small", "Packaging", "Item", "0.85", "632"),
    _p("BOX-M", "Shipping Carton Medium", "Packaging", "Item", "1.20", "632"),
    _p("BOX-L", "Shipping Carton Large", "Packaging", "Item", "1.65", "632"),
    _p("WRAP-500", "Stretch Wrap 500mm", "Packaging", "Roll", "16.80", "632"),
    _p("PLT-STD", "Pallet Standard 1165", "Packaging", "Item", "21.00", "632"),
    _p("LBL-100X150", "Shipping Label 100x150", "Packaging", "Roll", "12.60", "632"),
    _p("CBL-050", "Cable Tie 50 Pack", "Electrical", "Pack", "3.90", "630"),
    _p("CBL-100", "Cable Tie 100 Pack", "Electrical", "Pack", "6.70", "630"),
    _p("SW-TGL-10A", "Toggle Switch 10A", "Electrical", "Item", "4.20", "630"),
    _p("REL-24V", "Relay 24V DPDT", "Electrical", "Item", "13.40", "630"),
    _p("FUSE-5A", "Glass Fuse 5A", "Electrical", "Pack", "2.80", "630"),
    _p("MTR-0.75KW", "Electric Motor 0.75kW", "Electrical", "Item", "289.00", "630"),
    _p("BRG-6204", "Ball Bearing 6204", "Components", "Item", "5.30", "630"),
    _p("BRG-6205", "Ball Bearing 6205", "Components", "Item", "6.10", "630"),
    _p("BLT-V-A42", "V-Belt A42", "Components", "Item", "9.70", "630"),
    _p("GSK-NBR-50", "NBR Gasket 50mm", "Components", "Item", "1.45", "630"),
    _p("SPR-CMP-20", "Compression Spring 20mm", "Components", "Item", "0.95", "630"),
    _p("VLV-BALL-25", "Ball Valve 25mm", "Components", "Item", "17.60", "630"),
    _p("HSE-HYD-12", "Hydraulic Hose 12mm per m", "Components", "Metre", "8.40", "630"),
    _p("FLT-AIR-01", "Air Filter Element", "Components", "Item", "23.50", "630"),
    Product(
        "CST-CAL-1",
        "Calibration Service",
        "Services",
        "Item",
        Decimal("150.00"),
        "",
        type="Service",
        expense_account="429",
    ),
    Product(
        "SAF-KIT-1",
        "Site Safety Kit (non-stock)",
        "Consumables",
        "Item",
        Decimal("64.00"),
        "",
        type="Non Inventory",
        expense_account="429",
    ),
)

_LOCATIONS = (
    Location("Main Warehouse", ("A-01", "A-02", "B-01"), is_default=True),
    Location("East Coast DC", ("E-01",)),
    Location("Production Floor"),
)

_PAYMENT_TERMS = (
    PaymentTerm("30 days", 30),
    PaymentTerm("60 days", 60),
    PaymentTerm("7 days", 7),
    PaymentTerm("2%10 Net30", 10),
    PaymentTerm("20th of next month", 20, "day of next month"),
)

_TAX_RULES = (
    TaxRule("Tax Exempt", Decimal("0")),
    TaxRule("Purchase Tax 8.25%", Decimal("8.25")),
    TaxRule("Imports 5%", Decimal("5")),
)

_CURRENCIES = {
    "USD": Decimal("1"),
    "EUR": Decimal("1.08420"),
    "GBP": Decimal("1.26310"),
    "CAD": Decimal("0.73160"),
    "AUD": Decimal("0.65890"),
}

DIVERGENCES = Divergences(
    # QAD's item master dropped the dash on a few codes: a normalised-name match, not exact.
    item_codes={"CBL-050": "CBL050", "CBL-100": "CBL100", "FUSE-5A": "FUSE05A"},
    # Never set up in QAD: lines on MTR-0.75KW block until an item is mapped or created; the
    # service and the non-inventory product post to a GL account and need no item.
    items_missing=("MTR-0.75KW", "CST-CAL-1", "SAF-KIT-1"),
    # QAD uses four-digit codes for a few accounts; the names still match.
    account_codes={"425": "4250", "632": "6320"},
    # No QAD counterpart at all.
    accounts_missing=("461", "_109_", "090"),
    sites={"Main Warehouse": "10-100", "East Coast DC": "10-200"},
)

_QAD_GL_TYPE = {
    "ASSET": "BALANCE",
    "LIABILITY": "BALANCE",
    "EQUITY": "BALANCE",
    "REVENUE": "REVENUE",
    "EXPENSE": "EXPENSE",
}


def cin7_catalog() -> Cin7Catalog:
    """The Cin7 Core side: chart of accounts, products, locations, terms, tax rules, currencies."""
    return Cin7Catalog(
        accounts=_ACCOUNTS,
        products=_PRODUCTS,
        locations=_LOCATIONS,
        payment_terms=_PAYMENT_TERMS,
        tax_rules=_TAX_RULES,
        currencies=dict(_CURRENCIES),
    )


def qad_catalog() -> QadCatalog:
    """The QAD side, derived from Cin7's with the deliberate `DIVERGENCES`.

    Analysis rules: 473 (repairs) needs a cost centre and 720 (plant) a sub-account, so a line
    posted there without them is refused, as QAD does.
    """
    div = DIVERGENCES
    gl = []
    for acc in _ACCOUNTS:
        if acc.code in div.accounts_missing:
            continue
        code = div.account_codes.get(acc.code, acc.code)
        gl.append(
            QadGlAccount(
                code=code,
                description=acc.name,
                type="AP" if acc.code == "800" else _QAD_GL_TYPE[acc.cls],
                requires_sub_account=acc.code == "720",
                requires_cost_centre=acc.code == "473",
                active=acc.status == "ACTIVE",
            )
        )
    gl.append(QadGlAccount("5100", "Purchase Price Variance", "EXPENSE"))
    gl.append(QadGlAccount("2150", "Receipts Not Vouchered", "BALANCE"))
    items = []
    for prod in _PRODUCTS:
        if prod.sku in div.items_missing or not prod.stocked:
            continue
        account = div.account_codes.get(prod.inventory_account, prod.inventory_account)
        items.append(
            QadItem(
                code=div.item_codes.get(prod.sku, prod.sku),
                description=prod.name,
                uom={"Item": "EA"}.get(prod.uom, prod.uom.upper()[:2]),
                product_line=prod.category[:4].upper(),
                gl_account=account,
                unit_cost=prod.cost,
            )
        )
    sites = (
        *tuple(QadSite(code, name) for name, code in div.sites.items()),
        QadSite("10-300", "Production"),
    )
    terms = (
        QadCreditTerm("N30", "30 days", 30),
        QadCreditTerm("N60", "60 days", 60),
        QadCreditTerm("N7", "7 days", 7),
        QadCreditTerm("2-10N30", "2%10 Net30", 30),
        QadCreditTerm("EOM20", "20th of next month", 50),
    )
    tax = (
        QadTaxClass("EXEMPT", "Tax Exempt", Decimal("0")),
        QadTaxClass("PT825", "Purchase Tax 8.25%", Decimal("8.25")),
        QadTaxClass("IMP5", "Imports 5%", Decimal("5")),
    )
    return QadCatalog(
        gl_accounts=tuple(gl),
        items=tuple(items),
        sites=sites,
        credit_terms=terms,
        tax_classes=tax,
        currencies=dict(_CURRENCIES),
    )
