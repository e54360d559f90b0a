"""The shared catalogue (`sandbox.catalog.cin7_catalog()`) as Cin7 Core serves it.

Catalogue rows get stable IDs that depend only on their names, so fixtures can name them.
GUIDs are lower-case except where the reference says Cin7 sends upper-case: tax rule
components and location bins (§5.8, §7).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from ml_connector.sandbox.catalog import Account, Cin7Catalog, PaymentTerm, Product, TaxRule
from ml_connector.sandbox.cin7.formats import num, stable_guid, stamp_z

Row = dict[str, Any]

# Street addresses for the catalogue's locations (the catalogue holds only names and bins).
_LOCATION_ADDRESSES: dict[str, tuple[str, str, str, str, str, str]] = {
    "Main Warehouse": ("1200 Industrial Parkway", "Dock 4", "Columbus", "OH", "43228", "USA"),
    "East Coast DC": ("85 Harbor Logistics Drive", "", "Edison", "NJ", "08837", "USA"),
    "Production Floor": ("1200 Industrial Parkway", "Building B", "Columbus", "OH", "43228", "USA"),
}
_NO_ADDRESS = ("", "", "", "", "", "")


@dataclass(frozen=True, slots=True)
class BinRef:
    id: str  # upper-case, as Cin7 sends bin GUIDs
    name: str
    parent_id: str
    parent_name: str

    @property
    def display(self) -> str:
        """How a put-away line names its bin."""
        return f"{self.parent_name}: {self.name}"


@dataclass(frozen=True, slots=True)
class LocationRef:
    id: str
    name: str
    is_default: bool
    bins: tuple[BinRef, ...]
    address: tuple[str, str, str, str, str, str]  # line1, line2, city, state, zip, country


@dataclass(frozen=True, slots=True)
class ProductRef:
    id: str
    product: Product
    modified: datetime
    barcode: str

    @property
    def sku(self) -> str:
        return self.product.sku


@dataclass(frozen=True, slots=True)
class TaxRef:
    id: str
    component_id: str  # upper-case
    rule: TaxRule


@dataclass(frozen=True, slots=True)
class TermRef:
    id: str
    term: PaymentTerm


class Reference:
    """The catalogue with IDs and lookups; `epoch` dates the products' `LastModifiedOn`."""

    def __init__(self, catalog: Cin7Catalog, epoch: datetime) -> None:
        self.catalog = catalog
        self.base_currency = catalog.base_currency
        self.currencies: dict[str, Decimal] = dict(catalog.currencies)
        self.accounts: tuple[Account, ...] = catalog.accounts
        self.products: tuple[ProductRef, ...] = tuple(
            ProductRef(
                id=stable_guid("product", product.sku),
                product=product,
                modified=epoch - timedelta(days=420 - 3 * index, minutes=17 * index),
                barcode=f"{740000000000 + 7919 * (index + 1):013d}",
            )
            for index, product in enumerate(catalog.products)
        )
        self.product_by_sku = {ref.sku.upper(): ref for ref in self.products}
        self.product_by_id = {ref.id: ref for ref in self.products}
        locations = []
        for location in catalog.locations:
            loc_id = stable_guid("location", location.name)
            bins = tuple(
                BinRef(stable_guid("bin", location.name, name).upper(), name, loc_id, location.name)
                for name in location.bins
            )
            address = _LOCATION_ADDRESSES.get(location.name, _NO_ADDRESS)
            locations.append(LocationRef(loc_id, location.name, location.is_default, bins, address))
        self.locations: tuple[LocationRef, ...] = tuple(locations)
        self.location_by_name = {loc.name.lower(): loc for loc in self.locations}
        self.default_location = next(
            (loc for loc in self.locations if loc.is_default), self.locations[0]
        )
        self.tax_rules: tuple[TaxRef, ...] = tuple(
            TaxRef(
                stable_guid("tax", rule.name), stable_guid("tax-component", rule.name).upper(), rule
            )
            for rule in catalog.tax_rules
        )
        self.tax_by_name = {ref.rule.name.lower(): ref for ref in self.tax_rules}
        self.terms: tuple[TermRef, ...] = tuple(
            TermRef(stable_guid("paymentterm", term.name), term) for term in catalog.payment_terms
        )
        self.term_by_name = {ref.term.name.lower(): ref for ref in self.terms}

    def product(self, sku: str) -> ProductRef | None:
        return self.product_by_sku.get(sku.strip().upper())

    def location(self, name: str) -> LocationRef | None:
        return self.location_by_name.get(name.strip().lower())

    def tax_percent(self, rule_name: str) -> Decimal:
        ref = self.tax_by_name.get(rule_name.lower())
        return ref.rule.percent if ref else Decimal(0)

    def rate(self, currency: str) -> Decimal:
        """Base units per one unit of `currency`."""
        return self.currencies.get(currency, Decimal(1))


def account_row(account: Account) -> Row:
    system = {"800": ("Accounts payable", "CREDITORS"), "610": ("Accounts receivable", "DEBTORS")}
    system_name, system_code = system.get(account.code, (None, None))
    is_bank = account.type == "BANK"
    return {
        "Code": account.code,
        "Name": account.name,
        "Type": account.type,
        "Class": account.cls,
        "Status": account.status,
        "Description": "",
        "SystemAccount": system_name,
        "SystemAccountCode": system_code,
        "ForPayments": is_bank,
        "DisplayName": f"{account.code}: {account.name}",
        "OldCode": None,
        "BankAccountId": None,
        "BankAccountNumber": "12-3456-7890123-00" if is_bank else None,
        "Currency": "USD" if is_bank else None,
    }


def product_row(ref: ProductRef, suppliers: Sequence[Row] | None) -> Row:
    product = ref.product
    tiers = [product.cost * Decimal(mark) for mark in ("1.6", "1.5", "1.4", "1.3", "1.2")]
    tier_values: list[int | float] = [num(tier.quantize(Decimal("0.01"))) for tier in tiers]
    tier_values += [0] * (10 - len(tier_values))
    row: Row = {
        "ID": ref.id,
        "SKU": product.sku,
        "Name": product.name,
        "Category": product.category,
        "Brand": "",
        "Type": product.type,
        "CostingMethod": "FIFO",
        "DropShipMode": "No Drop Ship",
        "DefaultLocation": "Main Warehouse",
        "Length": 0,
        "Width": 0,
        "Height": 0,
        "Weight": 0,
        "UOM": product.uom,
        "WeightUnits": "kg",
        "DimensionsUnits": "cm",
        "Barcode": ref.barcode,
        "MinimumBeforeReorder": 0,
        "ReorderQuantity": 0,
        "AverageCost": num(product.cost),
    }
    for index, value in enumerate(tier_values, start=1):
        row[f"PriceTier{index}"] = value
    row["PriceTiers"] = {f"Tier {i}": value for i, value in enumerate(tier_values, start=1)}
    row.update(
        {
            "ShortDescription": None,
            "Description": product.name,
            "InternalNote": None,
            "AttributeSet": None,
            "Tags": product.category,
            "Status": "Active",
            "COGSAccount": product.cogs_account,
            "RevenueAccount": "200",
            "ExpenseAccount": product.expense_account or None,
            "InventoryAccount": product.inventory_account or None,
            "PurchaseTaxRule": "Purchase Tax 8.25%",
            "SaleTaxRule": "Tax Exempt",
            "LastModifiedOn": stamp_z(ref.modified),
            "Sellable": True,
        }
    )
    for index in range(1, 11):
        row[f"AdditionalAttribute{index}"] = None
    row.update(
        {
            "Suppliers": list(suppliers or []),
            "ReorderLevels": [],
            "BillOfMaterialsProducts": [],
            "BillOfMaterialsServices": [],
            "Movements": [],
            "Attachments": [],
            "CustomPrices": [],
        }
    )
    return row


def location_rows(location: LocationRef) -> list[Row]:
    """The location's own row, then one row per bin (bins appear in both places, §5.9)."""
    line1, line2, city, state, postcode, country = location.address
    parent: Row = {
        "ID": location.id,
        "Name": location.name,
        "IsDefault": location.is_default,
        "IsDeprecated": False,
        "Bins": [
            {"ID": b.id, "Name": b.name, "IsDeprecated": False, "IsStaging": False}
            for b in location.bins
        ]
        or None,
        "FixedAssetsLocation": False,
        "ParentID": None,
        "ParentName": None,
        "ReferenceCount": len(location.bins),
        "AddressLine1": line1,
        "AddressLine2": line2,
        "AddressCitySuburb": city,
        "AddressStateProvince": state,
        "AddressZipPostCode": postcode,
        "AddressCountry": country,
        "PickZones": "",
        "IsShopFloor": location.name == "Production Floor",
        "IsCoMan": False,
        "IsStaging": False,
    }
    rows = [parent]
    for b in location.bins:
        rows.append(
            {
                **parent,
                "ID": b.id,
                "Name": b.name,
                "IsDefault": False,
                "Bins": None,
                "ParentID": location.id,
                "ParentName": location.name,
                "ReferenceCount": 0,
                "AddressLine1": "",
                "AddressLine2": "",
                "AddressCitySuburb": "",
                "AddressStateProvince": "",
                "AddressZipPostCode": "",
                "AddressCountry": "",
                "IsShopFloor": False,
            }
        )
    return rows


def tax_row(ref: TaxRef) -> Row:
    rule = ref.rule
    return {
        "ID": ref.id,
        "Name": rule.name,
        "Account": rule.account,
        "IsActive": True,
        "TaxInclusive": False,
        "TaxPercent": num(rule.percent),
        "IsTaxForSale": rule.name == "Tax Exempt",
        "IsTaxForPurchase": True,
        # Strings here, as in the APIB example (§5.8).
        "Components": [
            {
                "ID": ref.component_id,
                "Name": rule.name,
                "Percent": f"{rule.percent:.10f}",
                "AccountCode": rule.account,
                "Compound": False,
                "ComponentOrder": "1",
            }
        ],
    }


def term_row(ref: TermRef, default_name: str) -> Row:
    return {
        "ID": ref.id,
        "Name": ref.term.name,
        "Duration": ref.term.duration,
        "Method": ref.term.method,
        "IsActive": True,
        "IsDefault": ref.term.name == default_name,
    }


def me_row(reference: Reference) -> Row:
    return {
        "Company": "Sandbox Manufacturing Inc.",
        "Currency": reference.base_currency,
        "TimeZone": "America/New_York",
        "DefaultWeightUnits": "kg",
        "DefaultDimensionsUnits": "cm",
        "LockDate": None,
        "OpeningBalanceDate": "2024-01-01T00:00:00",
        "TaxCalculationMethod": "Exclusive",
        "DefaultSaleTaxRuleId": reference.tax_rules[0].id,
        "DefaultSaleTaxRuleName": reference.tax_rules[0].rule.name,
        "MaximumDecimalPlacesInQuantity": 4,
        "ApplyCustomerDiscountsAfterOtherDiscounts": False,
        "DiscountRule": "Apply a discount to a sale line",
        "AutomaticallyApplyDiscounts": False,
        "RoundingTable": [],
    }
