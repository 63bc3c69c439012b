"""Exports and supplies to SEZ units and developers: zero-rated supplies (IGST Act s.16), pure rules.

An invoice has a supply category: `regular`, `export` (place of supply 96, "Other Countries"), or a
supply to an SEZ `sez_unit` / `sez_developer` for its authorised operations (always inter-state,
IGST Act s.7(5)(b), even when the SEZ is in the supplier's state). A zero-rated supply is made
either with payment of IGST (taxed as IGST at each line's rate, whatever the states; the tax is
refunded later) or under bond or letter of undertaking (LUT) without payment of IGST: no tax, the
lines keep their rate for the return (GSTR-1 tables 6A/6B). Rule 46 asks the invoice to carry an
endorsement saying which, and an export to name its country of destination; the port code and the
shipping bill's number and date go with it when known (GSTR-1 table 6A).

Only a regular taxpayer makes zero-rated supplies: a composition taxpayer may make no inter-state
supply (CGST Act s.10(2)(c)), and a supplier without a GSTIN has no LUT and charges no tax (s.32).

`resolve` takes what the document says (or leaves to its parties) and returns the supply as the
invoice stores it, or raises RuleBroken naming the field at fault.
"""

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from babel import Locale

from app.domain.errors import RuleBroken
from app.domain.gst import EXPORT_PLACE_OF_SUPPLY, Registration


class SupplyCategory(StrEnum):
    regular = "regular"
    export = "export"
    sez_unit = "sez_unit"
    sez_developer = "sez_developer"


class TaxTreatment(StrEnum):
    with_payment_of_igst = "with_payment_of_igst"
    under_lut = "under_lut"


SEZ = frozenset({SupplyCategory.sez_unit, SupplyCategory.sez_developer})

# CGST Rule 46, third proviso (as amended by notification 03/2018-CT): "SUPPLY MEANT FOR
# EXPORT/SUPPLY TO SEZ UNIT OR SEZ DEVELOPER FOR AUTHORISED OPERATIONS ON PAYMENT OF INTEGRATED
# TAX" or "... UNDER BOND OR LETTER OF UNDERTAKING WITHOUT PAYMENT OF INTEGRATED TAX", as the case
# may be: the alternative that applies, in the rule's own words.
_SUPPLY = {
    SupplyCategory.export: "SUPPLY MEANT FOR EXPORT",
    SupplyCategory.sez_unit: "SUPPLY TO SEZ UNIT FOR AUTHORISED OPERATIONS",
    SupplyCategory.sez_developer: "SUPPLY TO SEZ DEVELOPER FOR AUTHORISED OPERATIONS",
}
_TREATMENT = {
    TaxTreatment.with_payment_of_igst: "ON PAYMENT OF INTEGRATED TAX",
    TaxTreatment.under_lut: "UNDER BOND OR LETTER OF UNDERTAKING WITHOUT PAYMENT OF INTEGRATED TAX",
}

# ISO 3166-1 alpha-2 country codes, named in English (CLDR through babel). CLDR also lists codes
# ISO reserves for other uses (Ascension, Canary Islands, the EU, the UN, pseudo-locales, Kosovo's
# user-assigned XK, "Unknown"): not countries of destination. India is not one either.
_NOT_COUNTRIES = frozenset({"AC", "CP", "CQ", "DG", "EA", "EU", "EZ", "IC", "QO", "TA", "UN", "XA", "XB", "XK", "ZZ"})
COUNTRIES: dict[str, str] = {
    code: name
    for code, name in sorted(Locale("en").territories.items())
    if len(code) == 2 and code.isalpha() and code not in _NOT_COUNTRIES and code != "IN"
}
# An Indian customs port code (ICEGATE): "IN", three letters or digits of the location, one more
# for the kind of station (1 sea, 4 air, 6 inland container depot ...), e.g. INNSA1, INBOM4.
PORT_CODE_PATTERN = r"^IN[A-Z0-9]{4}$"
# GSTR-1 table 6A takes a shipping bill (or bill of export) number of up to 7 digits.
SHIPPING_BILL_NUMBER_PATTERN = r"^[0-9]{1,7}$"


def endorsement(supply_category: str, tax_treatment: str | None) -> str | None:
    """The Rule 46 endorsement an invoice of this category and treatment carries; None for a regular supply."""
    category = SupplyCategory(supply_category)
    if category is SupplyCategory.regular or tax_treatment is None:
        return None
    return f"{_SUPPLY[category]} {_TREATMENT[TaxTreatment(tax_treatment)]}"


def country_name(code: str | None) -> str | None:
    """The English name of an ISO 3166-1 alpha-2 code (the code itself if unknown to this list)."""
    return None if code is None else COUNTRIES.get(code, code)


@dataclass(frozen=True)
class ExportDetails:
    destination_country: str | None = None
    port_code: str | None = None
    shipping_bill_number: str | None = None
    shipping_bill_date: date | None = None


@dataclass(frozen=True)
class ZeroRatingIn:
    """What the document says; a category left out follows its parties, a treatment left out of
    a zero-rated supply is with payment of IGST (the tax computed as for any inter-state supply)."""

    supply_category: str | None = None
    tax_treatment: str | None = None
    export: ExportDetails = ExportDetails()


@dataclass(frozen=True)
class ZeroRating:
    supply_category: SupplyCategory
    tax_treatment: TaxTreatment | None
    export: ExportDetails

    @property
    def zero_rated(self) -> bool:
        return self.supply_category is not SupplyCategory.regular

    @property
    def sez(self) -> bool:
        return self.supply_category in SEZ

    @property
    def without_tax(self) -> bool:
        """Under bond or LUT: no tax on any line."""
        return self.tax_treatment is TaxTreatment.under_lut

    def columns(self) -> dict[str, object]:
        return {
            "supply_category": self.supply_category.value,
            "tax_treatment": None if self.tax_treatment is None else self.tax_treatment.value,
            **vars(self.export),
        }


REGULAR = ZeroRating(SupplyCategory.regular, None, ExportDetails())


def resolve(
    given: ZeroRatingIn,
    *,
    registration: Registration,
    place_of_supply: str | None,
    recipient_state: str,
    recipient_sez: bool,
    reverse_charge: bool,
    invoice_date: date,
    recipient_registered: bool = True,
) -> tuple[ZeroRating, str]:
    """(the supply as stored, its place of supply). `place_of_supply` is the one the document
    names (None: the recipient's state, 96 for an export). An SEZ unit or developer is a registered
    person: a supply to it names its GSTIN (GSTR-1 reports it by that GSTIN, b2b SEWP/SEWOP)."""
    category = _category(given.supply_category, registration, place_of_supply, recipient_state, recipient_sez)
    if category is SupplyCategory.regular:
        if given.tax_treatment is not None:
            raise RuleBroken(
                "tax_treatment",
                "Only an export or a supply to an SEZ is zero-rated: a regular supply has no tax treatment.",
                code="tax-treatment-without-zero-rating",
            )
        _no_export_details(given.export, "A regular supply")
        return REGULAR, place_of_supply or recipient_state
    _registered(registration)
    treatment = TaxTreatment(given.tax_treatment or TaxTreatment.with_payment_of_igst)
    if category is SupplyCategory.export:
        return ZeroRating(category, treatment, _export(given.export, reverse_charge, invoice_date)), _export_place(
            place_of_supply
        )
    _no_export_details(given.export, "A supply to an SEZ")
    if not recipient_sez:
        raise RuleBroken(
            "supply_category",
            "The customer is not marked as an SEZ unit or developer (is_sez): mark it first.",
            code="customer-not-sez",
        )
    place = place_of_supply or recipient_state
    if place == EXPORT_PLACE_OF_SUPPLY:
        raise RuleBroken(
            "place_of_supply",
            "An SEZ is in India: a supply to it has the SEZ's state as place of supply, not 96 (Other Countries).",
            code="sez-place-of-supply",
        )
    if not recipient_registered:
        raise RuleBroken(
            "customer_id",
            "A supply to an SEZ unit or developer names its GSTIN (GSTR-1 reports it by that GSTIN): "
            "add the customer's GSTIN first.",
            code="sez-recipient-unregistered",
        )
    return ZeroRating(category, treatment, ExportDetails()), place


def _category(
    given: str | None, registration: Registration, place: str | None, recipient_state: str, recipient_sez: bool
) -> SupplyCategory:
    if given is not None:
        return SupplyCategory(given)
    if registration is not Registration.regular:  # it makes no zero-rated supply: a bill of supply, as ever
        return SupplyCategory.regular
    if (place or recipient_state) == EXPORT_PLACE_OF_SUPPLY:
        return SupplyCategory.export
    return SupplyCategory.sez_unit if recipient_sez else SupplyCategory.regular


def _registered(registration: Registration) -> None:
    if registration is Registration.composition:
        raise RuleBroken(
            "supply_category",
            "A composition taxpayer cannot export or supply to an SEZ (no inter-state supplies, CGST Act "
            "s.10(2)(c)): its documents are bills of supply.",
            code="zero-rated-supply-not-allowed",
        )
    if registration is Registration.unregistered:
        raise RuleBroken(
            "supply_category",
            "A company without a GSTIN makes no zero-rated supply (no LUT, no IGST to pay): register the "
            "GSTIN first, or bill it as a regular supply.",
            code="zero-rated-supply-not-allowed",
        )


def _export(details: ExportDetails, reverse_charge: bool, invoice_date: date) -> ExportDetails:
    if reverse_charge:
        raise RuleBroken(
            "reverse_charge",
            "An export is not under reverse charge: the foreign recipient pays no Indian tax.",
            code="export-reverse-charge",
        )
    if details.destination_country is None:
        raise RuleBroken(
            "destination_country",
            "Rule 46: an export invoice names the country of destination.",
            code="destination-country-required",
        )
    return check_shipping_bill(details, invoice_date)


def shipping_bill_after_issue(category: str, details: ExportDetails, invoice_date: date) -> ExportDetails:
    """An issued invoice's shipping bill, recorded later: only an export has one."""
    if category != SupplyCategory.export:
        raise RuleBroken(
            "shipping_bill_number", "Only an export has a shipping bill.", code="export-details-not-export"
        )
    return check_shipping_bill(details, invoice_date)


def check_shipping_bill(details: ExportDetails, invoice_date: date) -> ExportDetails:
    """A shipping bill is its number and its date, both, dated on or after the invoice. Also after
    issue: the bill often comes after the invoice, and it changes no tax (GSTR-1 table 6A)."""
    if (details.shipping_bill_number is None) != (details.shipping_bill_date is None):
        missing = "shipping_bill_date" if details.shipping_bill_date is None else "shipping_bill_number"
        raise RuleBroken(
            missing, "A shipping bill is given by its number and its date, both.", code="shipping-bill-incomplete"
        )
    if details.shipping_bill_date is not None and details.shipping_bill_date < invoice_date:
        raise RuleBroken(
            "shipping_bill_date",
            f"The shipping bill is dated before the invoice ({invoice_date}).",
            code="shipping-bill-before-invoice",
        )
    return details


def _export_place(place: str | None) -> str:
    if place is not None and place != EXPORT_PLACE_OF_SUPPLY:
        raise RuleBroken(
            "place_of_supply",
            "An export's place of supply is 96 (Other Countries).",
            code="export-place-of-supply",
        )
    return EXPORT_PLACE_OF_SUPPLY


def _no_export_details(details: ExportDetails, what: str) -> None:
    for name, value in vars(details).items():
        if value is not None:
            raise RuleBroken(
                name, f"{what} has no {name.replace('_', ' ')}: only an export does.", code="export-details-not-export"
            )
