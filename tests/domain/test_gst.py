"""GST arithmetic: the cases of ../shared/GST.md, then properties over random lines."""

from decimal import Decimal as D

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.gst import (
    InvalidGstin,
    SupplyType,
    document_totals,
    line_tax,
    money,
    normalize_gstin,
    supply_type,
    taxable_value,
)
from app.domain.words import amount_in_words

MAHARASHTRA, KARNATAKA, CHANDIGARH, LADAKH = "27", "29", "04", "38"


class TestSupplyType:
    def test_same_state_is_intra_state(self):
        assert supply_type(MAHARASHTRA, MAHARASHTRA) is SupplyType.intra_state

    def test_other_state_is_inter_state(self):
        assert supply_type(MAHARASHTRA, KARNATAKA) is SupplyType.inter_state

    def test_export_and_sez_are_inter_state_even_from_the_same_state(self):
        assert supply_type(MAHARASHTRA, "96") is SupplyType.inter_state
        assert supply_type(MAHARASHTRA, MAHARASHTRA, sez=True) is SupplyType.inter_state


class TestLineTax:
    def test_intra_state_splits_cgst_and_sgst(self):
        amounts = line_tax(D("1000.00"), D("18"), SupplyType.intra_state, MAHARASHTRA)
        assert (amounts.cgst_amount, amounts.sgst_amount, amounts.utgst_amount, amounts.igst_amount) == (
            D("90.00"),
            D("90.00"),
            D("0.00"),
            D("0.00"),
        )
        assert amounts.total == D("1180.00")

    def test_inter_state_is_igst(self):
        amounts = line_tax(D("1000.00"), D("18"), SupplyType.inter_state, KARNATAKA)
        assert (amounts.cgst_amount, amounts.sgst_amount, amounts.igst_amount) == (D("0.00"), D("0.00"), D("180.00"))

    @pytest.mark.parametrize("ut", [CHANDIGARH, LADAKH, "26", "31", "35", "97"])
    def test_union_territory_without_legislature_uses_utgst(self, ut):
        amounts = line_tax(D("200.00"), D("5"), SupplyType.intra_state, ut)
        assert (amounts.cgst_amount, amounts.sgst_amount, amounts.utgst_amount) == (D("5.00"), D("0.00"), D("5.00"))

    def test_delhi_and_puducherry_have_legislatures_so_sgst(self):
        for state in ("07", "34"):
            assert line_tax(D("200.00"), D("5"), SupplyType.intra_state, state).sgst_amount == D("5.00")

    def test_half_paise_round_up_per_component(self):
        # 100.50 x 9% = 9.045 -> 9.05 on each half; the line is 18.10, not round(18.09).
        amounts = line_tax(D("100.50"), D("18"), SupplyType.intra_state, MAHARASHTRA)
        assert amounts.cgst_amount == amounts.sgst_amount == D("9.05")
        assert amounts.tax == D("18.10")

    def test_zero_and_fractional_rates(self):
        assert line_tax(D("999.99"), D("0"), SupplyType.inter_state, KARNATAKA).tax == D("0.00")
        assert line_tax(D("1000.00"), D("0.25"), SupplyType.intra_state, MAHARASHTRA).cgst_amount == D("1.25")
        assert line_tax(D("333.33"), D("0.1"), SupplyType.inter_state, KARNATAKA).igst_amount == D("0.33")


class TestTaxableValue:
    def test_quantity_times_price_minus_discount(self):
        assert taxable_value(D("3"), D("333.335"), D("10")) == D("990.01")

    def test_rounding_is_half_up_and_symmetric(self):
        assert money(D("2.675")) == D("2.68")
        assert money(D("-2.675")) == D("-2.68")
        assert money(D("0.005")) == D("0.01")


class TestDocumentTotals:
    def test_mixed_rates_sum_the_rounded_lines(self):
        lines = [
            line_tax(D("100.50"), D("18"), SupplyType.intra_state, MAHARASHTRA),
            line_tax(D("250.00"), D("5"), SupplyType.intra_state, MAHARASHTRA),
            line_tax(D("99.99"), D("28"), SupplyType.intra_state, MAHARASHTRA),
        ]
        totals = document_totals(lines, round_to_rupee=False)
        assert totals.taxable_value == D("450.49")
        assert totals.cgst_amount == D("9.05") + D("6.25") + D("14.00")
        assert totals.tax_total == totals.cgst_amount + totals.sgst_amount
        assert totals.round_off == D("0.00")
        assert totals.total == totals.taxable_value + totals.tax_total

    def test_round_off_to_the_rupee_is_its_own_field(self):
        totals = document_totals([line_tax(D("100.50"), D("18"), SupplyType.intra_state, "27")], round_to_rupee=True)
        assert totals.total == D("119.00")
        assert totals.round_off == D("0.40")
        down = document_totals([line_tax(D("100.40"), D("0"), SupplyType.intra_state, "27")], round_to_rupee=True)
        assert (down.total, down.round_off) == (D("100.00"), D("-0.40"))


class TestAmountInWords:
    @pytest.mark.parametrize(
        ("amount", "words"),
        [
            ("123456.50", "Rupees One Lakh Twenty-Three Thousand Four Hundred Fifty-Six and Fifty Paise Only"),
            ("10000000", "Rupees One Crore Only"),
            ("25000000.99", "Rupees Two Crore Fifty Lakh and Ninety-Nine Paise Only"),
            ("1180", "Rupees One Thousand One Hundred Eighty Only"),
            ("0.05", "Rupees Zero and Five Paise Only"),
            ("-500", "Rupees Five Hundred Only"),
            # num2words stops below 1,000 crore; above a crore the crores are counted in words
            ("10000000000", "Rupees One Thousand Crore Only"),
            ("1000000000000.01", "Rupees One Lakh Crore and One Paise Only"),
            (
                "10009999001000.10",
                "Rupees Ten Lakh Nine Hundred Ninety-Nine Crore Ninety Lakh One Thousand and Ten Paise Only",
            ),
            (
                "9999999999999999.99",  # the largest NUMERIC(18,2)
                "Rupees Ninety-Nine Crore Ninety-Nine Lakh Ninety-Nine Thousand Nine Hundred Ninety-Nine Crore"
                " Ninety-Nine Lakh Ninety-Nine Thousand Nine Hundred Ninety-Nine and Ninety-Nine Paise Only",
            ),
        ],
    )
    def test_indian_system(self, amount, words):
        assert amount_in_words(D(amount)) == words


class TestGstin:
    def test_valid_gstin_is_normalised(self):
        assert normalize_gstin("27aapfu0939f1zv") == "27AAPFU0939F1ZV"

    @pytest.mark.parametrize("valid", ["38AAPFU0939F1ZS", "97AAPFU0939F1ZO"])
    def test_ladakh_and_other_territory_are_valid_states(self, valid):
        # python-stdnum 2.2 lists state codes up to 37 only; Ladakh (38) GSTINs exist since 2020.
        assert normalize_gstin(valid.lower()) == valid

    @pytest.mark.parametrize(
        "bad",
        ["38AAPFU0939F1ZT", "38AAPFU0939F0ZS", "38AAPFU0939F1YS", "38AAPXU0939F1ZS", "39AAPFU0939F1ZS"],
    )
    def test_newer_state_codes_still_get_every_other_check(self, bad):
        with pytest.raises(InvalidGstin):
            normalize_gstin(bad)

    @pytest.mark.parametrize("bad", ["27AAPFU0939F1ZX", "27AAPFU0939F1Z", "99AAPFU0939F1ZV", "", "hello"])
    def test_invalid_gstin_is_refused(self, bad):
        with pytest.raises(InvalidGstin):
            normalize_gstin(bad)


money_st = st.decimals(min_value=D("0"), max_value=D("10000000"), places=2)
quantity_st = st.decimals(min_value=D("0.001"), max_value=D("10000"), places=3)
rate_st = st.sampled_from([D(r) for r in ("0", "0.1", "0.25", "1.5", "3", "5", "6", "12", "18", "28")])
state_st = st.sampled_from(["27", "29", "04", "38", "07", "96"])
line_st = st.tuples(quantity_st, money_st, rate_st)


@given(lines=st.lists(line_st, min_size=1, max_size=12), supplier=state_st, pos=state_st, round_off=st.booleans())
def test_document_totals_are_the_sums_of_the_lines(lines, supplier, pos, round_off):
    supply = supply_type(supplier, pos)
    amounts = [line_tax(taxable_value(q, p), rate, supply, pos) for q, p, rate in lines]
    totals = document_totals(amounts, round_to_rupee=round_off)
    assert totals.taxable_value == sum(a.taxable_value for a in amounts)
    for component in ("cgst_amount", "sgst_amount", "utgst_amount", "igst_amount"):
        assert getattr(totals, component) == sum(getattr(a, component) for a in amounts)
    assert totals.total == totals.taxable_value + totals.tax_total + totals.round_off
    assert abs(totals.round_off) <= D("0.50")
    for a in amounts:
        assert a.cgst_amount == a.sgst_amount + a.utgst_amount or supply is SupplyType.inter_state


@given(lines=st.lists(line_st, min_size=1, max_size=12), supplier=state_st, pos=state_st, round_off=st.booleans())
def test_a_full_credit_note_is_the_exact_negation(lines, supplier, pos, round_off):
    supply = supply_type(supplier, pos)
    invoice = [line_tax(taxable_value(q, p), rate, supply, pos) for q, p, rate in lines]
    credit = [line_tax(taxable_value(-q, p), rate, supply, pos) for q, p, rate in lines]
    assert credit == [a.negated() for a in invoice]
    inv, cn = document_totals(invoice, round_to_rupee=round_off), document_totals(credit, round_to_rupee=round_off)
    assert [getattr(cn, f) for f in inv.__dataclass_fields__] == [-getattr(inv, f) for f in inv.__dataclass_fields__]
