"""app.domain.invoice_math: the whole invoice in one call, from plain values (no database)."""

import uuid
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain import gst
from app.domain.errors import ReferenceMissing, RuleBroken
from app.domain.invoice_math import InvoiceIn, check_rule_46, compute_invoice
from app.domain.zero_rated import ExportDetails, ZeroRatingIn

D = Decimal
DAY = date(2026, 5, 10)
RATES = frozenset(D(r) for r in ("0", "5", "12", "18", "28"))
ONE, NIL, EIGHTEEN, THOUSAND, FIFTEEN_HUNDRED = D("1"), D("0"), D("18"), D("1000.00"), D("1500.00")


NONE = object()  # no service types (as opposed to None: the lines are stored, resolved already)


@dataclass(frozen=True)
class Company:
    gstin: str | None = "29AAPFU0939F1ZV"
    state_code: str = "29"


@dataclass(frozen=True)
class Customer:
    gstin: str | None = None
    billing_state_code: str = "29"
    is_sez: bool = False
    payment_terms_days: int | None = None
    billing_address_line1: str | None = None


@dataclass(frozen=True)
class Settings:
    registration_type: str = "regular"
    round_off_enabled: bool = True
    default_due_days: int = 15


@dataclass(frozen=True)
class Line:
    description: str | None = "Consulting"
    quantity: Decimal = ONE
    unit_price: Decimal | None = THOUSAND
    gst_rate: Decimal | None = EIGHTEEN
    discount: Decimal = NIL
    service_type_id: uuid.UUID | None = None
    product_id: uuid.UUID | None = None
    hsn_sac: str | None = None
    unit: str | None = None


@dataclass(frozen=True)
class Service:
    name: str = "Audit"
    sac_hsn_code: str | None = "998222"
    unit: str | None = "hour"
    default_rate: Decimal | None = FIFTEEN_HUNDRED
    default_gst_rate: Decimal | None = EIGHTEEN
    is_active: bool = True


def compute(*lines: Line, company=Company(), customer=Customer(), settings=Settings(), services=NONE, **doc):
    document = InvoiceIn(
        **{
            "invoice_date": DAY,
            "due_date": None,
            "place_of_supply": None,
            "reverse_charge": False,
            "lines": list(lines),
        }
        | doc
    )
    return compute_invoice(
        document,
        supplier=company,
        recipient=customer,
        settings=settings,
        rates_in_force=RATES,
        services={} if services is NONE else services,
    )


def test_an_intra_state_invoice_with_defaults():
    invoice = compute(Line(), Line(unit_price=D("99.99"), gst_rate=D("5")))
    assert (invoice.supply_type, invoice.document_type) == (gst.SupplyType.intra_state, gst.DocumentType.tax_invoice)
    assert invoice.due_date == date(2026, 5, 25) and invoice.place_of_supply == "29"
    assert [ln.amounts.cgst_amount for ln in invoice.lines] == [D("90.00"), D("2.50")]
    assert invoice.totals.tax_total == D("185.00") and invoice.totals.taxable_value == D("1099.99")
    assert (invoice.totals.total, invoice.totals.round_off) == (D("1285.00"), D("0.01"))
    assert invoice.lines[0].unit_price == D("1000.0000") and str(invoice.lines[0].unit_price) == "1000.0000"


def test_a_service_type_gives_what_the_line_leaves_out():
    sid = uuid.uuid4()
    (computed,) = compute(
        Line(description=None, unit_price=None, gst_rate=None, service_type_id=sid), services={sid: Service()}
    ).lines
    assert (computed.description, computed.hsn_sac, computed.unit) == ("Audit", "998222", "hour")
    assert (computed.unit_price, computed.gst_rate, computed.amounts.total) == (D("1500.0000"), D("18"), D("1770.00"))


def test_stored_lines_are_not_resolved_again():
    """services=None: a draft's lines, whose service type may have been archived since."""
    invoice = compute(Line(service_type_id=uuid.uuid4()), services=None)
    assert invoice.lines[0].amounts.taxable_value == D("1000.00")


@pytest.mark.parametrize(
    ("kwargs", "line", "error", "code"),
    [
        ({"due_date": date(2026, 5, 9)}, Line(), RuleBroken, "due-before-invoice-date"),
        ({}, Line(gst_rate=D("7")), RuleBroken, "gst-rate-not-in-force"),
        ({"settings": Settings(registration_type="composition")}, Line(), RuleBroken, "composition-no-tax"),
        ({"company": Company(gstin=None)}, Line(), RuleBroken, "unregistered-no-tax"),
        ({}, Line(service_type_id=uuid.uuid4()), ReferenceMissing, "service-type-not-found"),
        ({}, Line(description=None), RuleBroken, "description-required"),
        ({}, Line(unit_price=None), RuleBroken, "unit-price-required"),
        ({}, Line(gst_rate=None), RuleBroken, "gst-rate-required"),
        ({}, Line(discount=D("1000.01")), RuleBroken, "discount-too-large"),
    ],
)
def test_each_rule_names_its_field_and_code(kwargs, line, error, code):
    with pytest.raises(error) as raised:
        compute(Line(), line, **kwargs)
    assert raised.value.code == code
    # the first line met that breaks the rule: the second (the first is valid), or the first when
    # the supplier can charge no tax at all
    first = "lines.0" if code in {"composition-no-tax", "unregistered-no-tax"} else "lines.1"
    assert raised.value.field == "due_date" if code.startswith("due") else raised.value.field.startswith(first)


def test_an_inactive_service_type_is_refused():
    sid = uuid.uuid4()
    with pytest.raises(RuleBroken) as raised:
        compute(Line(service_type_id=sid), services={sid: Service(is_active=False)})
    assert (raised.value.field, raised.value.code) == ("lines.0.service_type_id", "service-type-inactive")


def test_exports_sez_and_utgst():
    assert compute(Line(), customer=Customer(billing_state_code="27")).supply_type is gst.SupplyType.inter_state
    to_us = ZeroRatingIn(export=ExportDetails(destination_country="US"))
    export = compute(Line(gst_rate=D("0")), place_of_supply="96", zero_rating=to_us)
    assert (export.supply_type, export.document_type) == (gst.SupplyType.inter_state, gst.DocumentType.tax_invoice)
    sez = compute(Line(), customer=Customer(gstin="29AABCS1429B1ZQ", is_sez=True))
    assert sez.lines[0].amounts.igst_amount == D("180.00")
    ut = compute(Line(), company=Company(state_code="04"), customer=Customer(billing_state_code="04"))
    assert (ut.lines[0].amounts.utgst_amount, ut.lines[0].amounts.sgst_amount) == (D("90.00"), D("0.00"))


def test_mixed_lines_to_an_unregistered_recipient_make_an_invoice_cum_bill_of_supply():
    mixed = compute(Line(), Line(gst_rate=D("0")))
    assert mixed.document_type is gst.DocumentType.invoice_cum_bill_of_supply
    registered = compute(Line(), Line(gst_rate=D("0")), customer=Customer(gstin="29AAGCB1286Q1Z4"))
    assert registered.document_type is gst.DocumentType.tax_invoice


def test_rule_46_needs_an_address_from_fifty_thousand():
    check_rule_46(Customer(), D("49999.99"))
    check_rule_46(Customer(billing_address_line1="MG Road"), D("50000"))
    check_rule_46(Customer(gstin="29AAGCB1286Q1Z4"), D("50000"))
    with pytest.raises(RuleBroken) as raised:
        check_rule_46(Customer(), D("50000"))
    assert raised.value.code == "recipient-address-required"


amounts = st.decimals(min_value=D("0.01"), max_value=D("99999.99"), places=2)
quantities = st.decimals(min_value=D("0.001"), max_value=D("999.999"), places=3)
lines = st.builds(Line, quantity=quantities, unit_price=amounts, gst_rate=st.sampled_from(sorted(RATES)))


@given(st.lists(lines, min_size=1, max_size=12), st.booleans(), st.sampled_from(["29", "27", "04"]), st.booleans())
def test_totals_are_the_sums_of_the_rounded_lines(items, round_off, place, reverse_charge):
    invoice = compute(
        *items, settings=Settings(round_off_enabled=round_off), place_of_supply=place, reverse_charge=reverse_charge
    )
    totals, figures = invoice.totals, [ln.amounts for ln in invoice.lines]
    assert [ln.position for ln in invoice.lines] == list(range(1, len(items) + 1))
    assert totals.taxable_value == sum((a.taxable_value for a in figures), D(0))
    assert totals.tax_total == sum((a.tax for a in figures), D(0))
    owed = totals.taxable_value + (D(0) if reverse_charge else totals.tax_total)
    assert totals.total == owed + totals.round_off
    assert abs(totals.round_off) <= D("0.50") if round_off else totals.round_off == 0
    for item, figure in zip(items, figures, strict=True):
        assert figure.taxable_value == gst.taxable_value(item.quantity, item.unit_price)
        if invoice.supply_type is gst.SupplyType.intra_state:
            assert figure.igst_amount == 0 and figure.cgst_amount == figure.sgst_amount + figure.utgst_amount


@given(st.lists(lines, min_size=1, max_size=6))
def test_the_same_document_computes_the_same(items):
    assert compute(*items) == compute(*items)
    assert compute(*items, due_date=DAY) == replace(compute(*items), due_date=DAY)
