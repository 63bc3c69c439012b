"""app.domain.zero_rated: exports and SEZ supplies (Rule 46 endorsements, the rules of their
details) and what they do to an invoice's and a credit note's tax (no database)."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain import gst
from app.domain.credit_notes import InvoicedLine, Supply, full_credit
from app.domain.errors import RuleBroken
from app.domain.gst import Registration, SupplyType
from app.domain.invoice_math import InvoiceIn, compute_invoice
from app.domain.zero_rated import (
    COUNTRIES,
    ExportDetails,
    SupplyCategory,
    TaxTreatment,
    ZeroRatingIn,
    country_name,
    endorsement,
    resolve,
    shipping_bill_after_issue,
)
from tests.domain.test_invoice_math import RATES, Company, Customer, Line, Settings

D = Decimal
DAY = date(2026, 11, 20)


class TestEndorsement:
    @pytest.mark.parametrize(
        ("category", "treatment", "text"),
        [
            ("export", "with_payment_of_igst", "SUPPLY MEANT FOR EXPORT ON PAYMENT OF INTEGRATED TAX"),
            (
                "export",
                "under_lut",
                "SUPPLY MEANT FOR EXPORT UNDER BOND OR LETTER OF UNDERTAKING WITHOUT PAYMENT OF INTEGRATED TAX",
            ),
            (
                "sez_unit",
                "with_payment_of_igst",
                "SUPPLY TO SEZ UNIT FOR AUTHORISED OPERATIONS ON PAYMENT OF INTEGRATED TAX",
            ),
            (
                "sez_developer",
                "under_lut",
                "SUPPLY TO SEZ DEVELOPER FOR AUTHORISED OPERATIONS UNDER BOND OR LETTER OF UNDERTAKING WITHOUT "
                "PAYMENT OF INTEGRATED TAX",
            ),
            ("regular", None, None),
        ],
    )
    def test_in_the_words_of_rule_46(self, category, treatment, text):
        assert endorsement(category, treatment) == text

    def test_every_category_and_treatment_has_one(self):
        zero_rated = [c for c in SupplyCategory if c is not SupplyCategory.regular]
        texts = {endorsement(c, t) for c in zero_rated for t in TaxTreatment}
        assert len(texts) == len(zero_rated) * len(TaxTreatment) and None not in texts


class TestCountries:
    def test_iso_3166_alpha_2_without_india_and_without_cldr_regions(self):
        assert len(COUNTRIES) == 248  # ISO 3166-1's 249 codes, India left out
        assert (country_name("AE"), country_name("US"), country_name("GB")) == (
            "United Arab Emirates",
            "United States",
            "United Kingdom",
        )
        assert {"IN", "EU", "UN", "ZZ", "XK", "QO", "AC"}.isdisjoint(COUNTRIES)
        assert all(len(code) == 2 and code.isupper() for code in COUNTRIES)


def resolved(
    given=ZeroRatingIn(),
    *,
    registration=Registration.regular,
    place=None,
    state="27",
    sez=False,
    rc=False,
    registered=True,
):
    return resolve(
        given,
        registration=registration,
        place_of_supply=place,
        recipient_state=state,
        recipient_sez=sez,
        reverse_charge=rc,
        invoice_date=DAY,
        recipient_registered=registered,
    )


def refused(*args, **kwargs) -> tuple[str, str]:
    with pytest.raises(RuleBroken) as raised:
        resolved(*args, **kwargs)
    return raised.value.code, raised.value.field


TO_AE = ExportDetails(destination_country="AE")


class TestResolve:
    def test_the_parties_decide_when_the_document_does_not(self):
        assert resolved(ZeroRatingIn(export=TO_AE), state="96")[0].supply_category is SupplyCategory.export
        assert resolved(ZeroRatingIn(export=TO_AE), place="96")[1] == "96"
        sez, place = resolved(sez=True)
        assert (sez.supply_category, sez.tax_treatment, place) == (
            SupplyCategory.sez_unit,
            TaxTreatment.with_payment_of_igst,
            "27",
        )
        assert resolved()[0].supply_category is SupplyCategory.regular
        # A supplier who makes no zero-rated supply stays regular whatever the parties.
        assert resolved(registration=Registration.composition, state="96")[0].supply_category is SupplyCategory.regular

    def test_an_export_is_placed_in_96(self):
        export, place = resolved(ZeroRatingIn("export", "under_lut", TO_AE))
        assert (place, export.without_tax, export.export.destination_country) == ("96", True, "AE")

    @pytest.mark.parametrize(
        ("kwargs", "expected"),
        [
            ({"given": ZeroRatingIn("export")}, ("destination-country-required", "destination_country")),
            ({"given": ZeroRatingIn("export", export=TO_AE), "rc": True}, ("export-reverse-charge", "reverse_charge")),
            (
                {"given": ZeroRatingIn("export", export=TO_AE), "place": "29"},
                ("export-place-of-supply", "place_of_supply"),
            ),
            (
                {"given": ZeroRatingIn(tax_treatment="under_lut")},
                ("tax-treatment-without-zero-rating", "tax_treatment"),
            ),
            ({"given": ZeroRatingIn(export=TO_AE)}, ("export-details-not-export", "destination_country")),
            ({"given": ZeroRatingIn("sez_unit")}, ("customer-not-sez", "supply_category")),
            (
                {"given": ZeroRatingIn("sez_unit"), "sez": True, "registered": False},
                ("sez-recipient-unregistered", "customer_id"),
            ),
            (
                {"given": ZeroRatingIn("sez_unit"), "sez": True, "place": "96"},
                ("sez-place-of-supply", "place_of_supply"),
            ),
            (
                {"given": ZeroRatingIn("sez_developer", export=ExportDetails(port_code="INNSA1")), "sez": True},
                ("export-details-not-export", "port_code"),
            ),
            (
                {"given": ZeroRatingIn("export", export=TO_AE), "registration": Registration.composition},
                ("zero-rated-supply-not-allowed", "supply_category"),
            ),
            (
                {"given": ZeroRatingIn("sez_unit"), "sez": True, "registration": Registration.unregistered},
                ("zero-rated-supply-not-allowed", "supply_category"),
            ),
        ],
    )
    def test_refusals_name_the_field(self, kwargs, expected):
        given_ = kwargs.pop("given")
        assert refused(given_, **kwargs) == expected

    def test_the_shipping_bill(self):
        def bill(number, day):
            return ZeroRatingIn("export", export=ExportDetails("AE", None, number, day))

        assert refused(bill("1234567", None)) == ("shipping-bill-incomplete", "shipping_bill_date")
        assert refused(bill(None, DAY)) == ("shipping-bill-incomplete", "shipping_bill_number")
        assert refused(bill("1234567", DAY - timedelta(days=1))) == (
            "shipping-bill-before-invoice",
            "shipping_bill_date",
        )
        assert resolved(bill("1234567", DAY))[0].export.shipping_bill_date == DAY


lines_st = st.lists(
    st.builds(
        Line,
        quantity=st.decimals(D("0.001"), D("999"), places=3),
        unit_price=st.decimals(D("0"), D("99999"), places=2),
        gst_rate=st.sampled_from(sorted(RATES)),
    ),
    min_size=1,
    max_size=8,
)
# (supplier state, recipient state, recipient SEZ, category): exports and SEZ supplies, in the same state or not.
supplies_st = st.sampled_from(
    [("27", "96", False, "export"), ("27", "27", True, "sez_unit"), ("27", "29", True, "sez_developer")]
)


@given(lines=lines_st, supply=supplies_st, round_off=st.booleans())
def test_zero_rated_totals_add_up_and_under_lut_nothing_is_taxed(lines, supply, round_off):
    supplier_state, recipient_state, sez, category = supply

    def compute(treatment):
        zero = ZeroRatingIn(category, treatment, TO_AE if category == "export" else ExportDetails())
        return compute_invoice(
            InvoiceIn(DAY, None, None, False, lines, zero),
            supplier=Company(gstin=f"{supplier_state}AAPFU0939F1ZV", state_code=supplier_state),
            recipient=Customer(
                gstin=f"{recipient_state}AABCS1429B1ZQ" if sez else None, billing_state_code=recipient_state, is_sez=sez
            ),
            settings=Settings(round_off_enabled=round_off),
            rates_in_force=RATES,
            services=None,
        )

    taxed, free = compute("with_payment_of_igst"), compute("under_lut")
    for invoice in (taxed, free):
        assert invoice.supply_type is SupplyType.inter_state
        t = invoice.totals
        assert (t.cgst_amount, t.sgst_amount, t.utgst_amount) == (0, 0, 0)
        assert t.igst_amount == sum((ln.amounts.igst_amount for ln in invoice.lines), D(0)) == t.tax_total
        assert t.taxable_value == sum((ln.amounts.taxable_value for ln in invoice.lines), D(0))
        assert t.total == t.taxable_value + t.tax_total + t.round_off
        assert invoice.document_type is gst.DocumentType.tax_invoice
    assert free.totals.tax_total == 0
    assert [ln.amounts.taxable_value for ln in free.lines] == [ln.amounts.taxable_value for ln in taxed.lines]
    assert [ln.gst_rate for ln in free.lines] == [ln.gst_rate for ln in taxed.lines]  # rates kept
    for ln in taxed.lines:
        assert ln.amounts.igst_amount == gst.money(ln.amounts.taxable_value * ln.gst_rate / 100)
    # A full credit note of the LUT invoice carries no tax either, line by line.
    supply = Supply(free.supply_type, free.place_of_supply, without_tax=True)
    for ln in free.lines:
        invoiced = InvoicedLine(ln.quantity, ln.unit_price, ln.discount, ln.gst_rate, ln.amounts.taxable_value)
        credit = full_credit(invoiced, supply)
        assert (credit.taxable_value, credit.tax) == (ln.amounts.taxable_value, 0)


def test_only_an_export_takes_a_shipping_bill_after_issue():
    bill = ExportDetails("US", None, "1234567", date(2026, 4, 2))
    assert shipping_bill_after_issue("export", bill, date(2026, 4, 1)) == bill
    with pytest.raises(RuleBroken) as refused:
        shipping_bill_after_issue("regular", bill, date(2026, 4, 1))
    assert refused.value.code == "export-details-not-export"
    with pytest.raises(RuleBroken) as early:
        shipping_bill_after_issue("export", bill, date(2026, 4, 3))
    assert early.value.code == "shipping-bill-before-invoice"
