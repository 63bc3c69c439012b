"""app.domain.product_lines: a line's defaults from its product, and tax-inclusive prices (no database)."""

import uuid
from dataclasses import dataclass
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.errors import RuleBroken
from app.domain.product_lines import resolve, tax_exclusive
from tests.domain.test_invoice_math import Customer, Line, Settings, compute

D = Decimal
PRODUCT_ID = uuid.UUID("0194f0a2-5c1e-7b1a-9d7e-2f9c3e1a0b55")
TAX_RATES = ["5", "12", "18", "28"]
HUNDRED, FIVE = D("100.00"), D("5")


@dataclass(frozen=True)
class Product:
    id: uuid.UUID = PRODUCT_ID
    name: str = "Tata Salt 1 kg"
    hsn_code: str = "25010020"
    unit: str = "NOS"
    sale_price: Decimal = HUNDRED
    price_includes_tax: bool = True
    gst_rate: Decimal = FIVE


def product_line(quantity: str = "1", **fields) -> Line:
    return Line(
        **{"description": None, "unit_price": None, "gst_rate": None, "product_id": PRODUCT_ID} | fields,
        quantity=D(quantity),
    )


class TestDefaults:
    def test_a_line_takes_the_products_name_hsn_unit_price_and_rate(self):
        line = resolve(product_line("3"), Product(price_includes_tax=False, sale_price=D("28.5")), "lines.0")
        assert (line.product_id, line.description, line.hsn_sac, line.unit) == (
            PRODUCT_ID,
            "Tata Salt 1 kg",
            "25010020",
            "NOS",
        )
        assert (line.quantity, line.unit_price, line.gst_rate, line.service_type_id) == (D(3), D("28.5"), D(5), None)

    def test_description_price_and_rate_may_be_overridden(self):
        sent = product_line(description="Salt, festival pack", unit_price=D("90"), gst_rate=D("12"), discount=D("5"))
        line = resolve(sent, Product(), "lines.0")
        # a line's own price is tax-exclusive, as on any line: no conversion
        assert (line.description, line.unit_price, line.gst_rate, line.discount) == (
            "Salt, festival pack",
            D("90"),
            D("12"),
            D("5"),
        )

    def test_the_products_own_hsn_and_unit_may_be_repeated(self):
        line = resolve(product_line(hsn_sac="25010020", unit="NOS"), Product(), "lines.0")
        assert (line.hsn_sac, line.unit) == ("25010020", "NOS")

    @pytest.mark.parametrize(("field", "value"), [("hsn_sac", "25010090"), ("unit", "KGS")])
    def test_hsn_and_unit_are_the_products(self, field, value):
        with pytest.raises(RuleBroken) as caught:
            resolve(product_line(**{field: value}), Product(), "lines.2")
        assert (caught.value.code, caught.value.field) == ("product-line-fixed", f"lines.2.{field}")

    def test_a_line_names_a_service_type_or_a_product_not_both(self):
        with pytest.raises(RuleBroken) as caught:
            resolve(product_line(service_type_id=uuid.uuid4()), Product(), "lines.1")
        assert (caught.value.code, caught.value.field) == ("line-service-and-product", "lines.1.product_id")


class TestPrecision:
    @pytest.mark.parametrize(("unit", "quantity"), [("NOS", "1.5"), ("PCS", "0.001"), ("KGS", "0.0005")])
    def test_a_quantity_finer_than_the_unit_is_refused(self, unit, quantity):
        with pytest.raises(RuleBroken) as caught:
            resolve(product_line(quantity), Product(unit=unit), "lines.0")
        assert (caught.value.code, caught.value.field) == ("quantity-too-precise", "lines.0.quantity")

    @pytest.mark.parametrize(("unit", "quantity"), [("NOS", "2"), ("NOS", "2.000"), ("KGS", "1.255"), ("LTR", "0.5")])
    def test_a_quantity_the_unit_allows(self, unit, quantity):
        assert resolve(product_line(quantity), Product(unit=unit), "lines.0").quantity == D(quantity)


class TestTaxInclusivePrices:
    @pytest.mark.parametrize(
        ("rate", "exclusive"), [("5", "95.2381"), ("12", "89.2857"), ("18", "84.7458"), ("28", "78.1250")]
    )
    def test_the_unit_price_before_tax(self, rate, exclusive):
        assert str(tax_exclusive(D("100.00"), D(rate))) == exclusive

    def test_converted_at_the_lines_rate_when_it_overrides_the_products(self):
        line = resolve(product_line(gst_rate=D("18")), Product(gst_rate=D("5")), "lines.0")
        assert line.unit_price == D("84.7458")

    @pytest.mark.parametrize("rate", TAX_RATES)
    @pytest.mark.parametrize("customer_state", ["29", "27"])  # intra-state (CGST + SGST) and inter-state (IGST)
    def test_a_100_rupee_item_sells_at_100_with_round_off(self, rate, customer_state):
        line = resolve(product_line(), Product(gst_rate=D(rate)), "lines.0")
        invoice = compute(line, customer=Customer(billing_state_code=customer_state))
        assert invoice.totals.total == D("100.00")
        assert abs(invoice.totals.round_off) <= D("0.02")

    def test_without_round_off_the_total_can_be_paise_off(self):
        """12% intra-state: 89.29 taxable + 5.36 + 5.36 = 100.01 (the documented exception)."""
        line = resolve(product_line(), Product(gst_rate=D("12")), "lines.0")
        invoice = compute(line, settings=Settings(round_off_enabled=False))
        assert (invoice.totals.total, invoice.totals.round_off) == (D("100.01"), D("0.00"))

    @given(
        items=st.lists(
            st.tuples(st.integers(1, 100_000), st.integers(1, 99), st.sampled_from(TAX_RATES)), min_size=1, max_size=15
        ),
        customer_state=st.sampled_from(["29", "27", "04"]),
    )
    def test_whole_rupee_sticker_prices_sell_at_exactly_their_sum(self, items, customer_state):
        """Up to 15 lines of quantities below 100 (the bound the module's docstring proves)."""
        lines = [
            resolve(product_line(str(quantity)), Product(sale_price=D(price), gst_rate=D(rate)), f"lines.{n}")
            for n, (price, quantity, rate) in enumerate(items)
        ]
        invoice = compute(*lines, customer=Customer(billing_state_code=customer_state))
        assert invoice.totals.total == sum(D(price) * quantity for price, quantity, _ in items)
