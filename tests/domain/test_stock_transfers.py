"""The GST paperwork of a stock transfer and its values (app.domain.stock_transfers), alone."""

import uuid
from decimal import Decimal as D

import pytest

from app.domain.errors import RuleBroken
from app.domain.stock_transfers import LineValue, Paperwork, Place, paperwork, unit_values

KA = Place(uuid.uuid4(), "Sharma Bengaluru", "29AAPFU0939F1ZV", "AAPFU0939F")
MH = Place(uuid.uuid4(), "Sharma Pune", "27AAPFU0939F1ZZ", "AAPFU0939F")
SHOP = Place(uuid.uuid4(), "Sharma Kirana", None, "AAPFU0939F")
GODOWN = Place(uuid.uuid4(), "Sharma Godown", None, None)
OTHER = Place(uuid.uuid4(), "Gupta Stores", None, "AABCT3518Q")


def code_of(call) -> str:
    with pytest.raises(RuleBroken) as raised:
        call()
    return raised.value.code


def test_two_registrations_need_a_tax_invoice_whatever_the_states():
    assert paperwork(KA, MH) == paperwork(MH, KA) == Paperwork.tax_invoice


def test_two_unregistered_places_of_one_person_are_a_challan():
    assert paperwork(SHOP, GODOWN) == paperwork(GODOWN, SHOP) == Paperwork.delivery_challan


def test_what_is_not_handled_is_refused():
    assert code_of(lambda: paperwork(KA, SHOP)) == "transfer-registration-mismatch"
    assert code_of(lambda: paperwork(SHOP, KA)) == "transfer-registration-mismatch"
    assert code_of(lambda: paperwork(SHOP, OTHER)) == "transfer-between-persons"
    assert code_of(lambda: paperwork(KA, KA)) == "transfer-same-company"


def test_a_value_per_unit_from_the_line_else_the_cost_and_required_on_an_invoice():
    lines = [LineValue(D("90.5"), D("80")), LineValue(None, D("380")), LineValue(None, None)]
    assert unit_values(lines, Paperwork.delivery_challan) == [D("90.5"), D("380"), None]
    with pytest.raises(RuleBroken) as raised:
        unit_values(lines, Paperwork.tax_invoice)
    assert raised.value.code == "transfer-value-required" and raised.value.field == "lines.2.unit_value"
    assert "line 3" in raised.value.message
    assert unit_values(lines[:2], Paperwork.tax_invoice) == [D("90.5"), D("380")]
