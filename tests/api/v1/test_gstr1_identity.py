"""GSTR-1's identity, on random data (hypothesis): for any mix of invoices (B2B, SEZ, exports with and
without IGST, B2CL, B2CS, nil-rated lines), voids and full or partial credit notes made through the
API, the sections of the month's return add up to the invoices' totals less the credit notes',
component by component (taxable value, IGST, CGST, SGST/UTGST), read both from the GSTN JSON
itself and from the summary endpoint; and the JSON stays valid against the schema."""

import itertools
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.api.v1.invoicing import gstin, line, make_company
from tests.api.v1.test_gstr1 import EXPORT, KARNATAKA, MAHARASHTRA, URL, Seller, period_of, validate

CENTS = Decimal("0.01")
COMPONENTS = ("taxable", "igst", "cgst", "sgst")
SUMMARY_FIELDS = dict(zip(COMPONENTS, ("taxable_value", "igst", "cgst", "sgst"), strict=True))
CUSTOMERS = ("registered_far", "registered_local", "far", "local", "sez", "abroad")
_pans = itertools.count(1)

lines = st.lists(
    st.tuples(
        st.integers(min_value=100, max_value=12_000_000).map(lambda paise: f"{Decimal(paise) / 100:.2f}"),
        st.sampled_from(["1", "2", "3"]),
        st.sampled_from(["0", "5", "12", "18", "28"]),
    ),
    min_size=1,
    max_size=3,
)
invoices = st.lists(
    st.tuples(
        st.sampled_from(CUSTOMERS),
        lines,
        st.sampled_from(["with_payment_of_igst", "under_lut"]),
        st.sampled_from(["keep", "keep", "void", "credit_full", "credit_part"]),
    ),
    min_size=1,
    max_size=5,
)


def zero() -> dict[str, Decimal]:
    return dict.fromkeys(COMPONENTS, Decimal("0"))


def add(total: dict[str, Decimal], document: dict, sign: int) -> None:
    total["taxable"] += sign * Decimal(document["taxable_value"])
    total["igst"] += sign * Decimal(document["igst_amount"])
    total["cgst"] += sign * Decimal(document["cgst_amount"])
    total["sgst"] += sign * (Decimal(document["sgst_amount"]) + Decimal(document["utgst_amount"]))


def add_items(total: dict[str, Decimal], details: list[dict], sign: int) -> None:
    for det in details:
        total["taxable"] += sign * det["txval"]
        total["igst"] += sign * det.get("iamt", 0)
        total["cgst"] += sign * det.get("camt", 0)
        total["sgst"] += sign * det.get("samt", 0)


def sections_net(data: dict) -> dict[str, Decimal]:
    """Straight from the GSTN JSON: what each section reports, credit notes subtracted."""
    total = zero()
    for party in data.get("b2b", []):
        for invoice in party["inv"]:
            add_items(total, [item["itm_det"] for item in invoice["itms"]], 1)
    for place in data.get("b2cl", []):
        for invoice in place["inv"]:
            add_items(total, [item["itm_det"] for item in invoice["itms"]], 1)
    add_items(total, data.get("b2cs", []), 1)
    for kind in data.get("exp", []):
        for invoice in kind["inv"]:
            add_items(total, invoice["itms"], 1)
    for party in data.get("cdnr", []):
        for note in party["nt"]:
            add_items(total, [item["itm_det"] for item in note["itms"]], -1)
    for note in data.get("cdnur", []):
        add_items(total, [item["itm_det"] for item in note["itms"]], -1)
    for row in data.get("nil", {}).get("inv", []):
        total["taxable"] += row["nil_amt"] + row["expt_amt"] + row["ngsup_amt"]
    return total


@pytest.fixture
async def shop(client) -> tuple[Seller, dict[str, dict]]:
    """One tenant and its customers for every example of the test (a function-scoped fixture is
    made once per test, not per example); each example invoices from a company of its own."""
    seller = await Seller.make(client)
    customers = {
        "registered_far": await seller.customer(client, KARNATAKA, registered=True),
        "registered_local": await seller.customer(client, MAHARASHTRA, gstin=gstin(MAHARASHTRA, pan="AAPFU0939F")),
        "far": await seller.customer(client, KARNATAKA),
        "local": await seller.customer(client, MAHARASHTRA),
        "sez": await seller.customer(client, MAHARASHTRA, gstin=gstin(MAHARASHTRA, pan="AABCS1429B"), is_sez=True),
        "abroad": await seller.customer(client, EXPORT, name="Gulf Traders LLC"),
    }
    return seller, customers


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(plan=invoices)
async def test_sections_add_up_to_the_invoices_less_the_credit_notes(client, today, shop, plan):
    seller, customers = shop
    seller.company = await make_company(
        client, seller.owner, state=MAHARASHTRA, gstin=gstin(MAHARASHTRA, pan=f"AABCT{next(_pans) % 10000:04d}Q")
    )
    expected = zero()
    for who, body_lines, treatment, action in plan:
        fields: dict = {}
        if who == "sez":
            fields = {"supply_category": "sez_unit", "tax_treatment": treatment}
        elif who == "abroad":
            fields = {"supply_category": "export", "tax_treatment": treatment, "destination_country": "US"}
        invoice = await seller.invoice(
            client,
            customers[who],
            *(line(price, quantity=quantity, gst_rate=rate) for price, quantity, rate in body_lines),
            **fields,
        )
        if action == "void":
            await seller.void(client, invoice)
            continue
        add(expected, invoice, 1)
        if action == "credit_full":
            add(expected, await seller.credit(client, invoice, full=True), -1)
        elif action == "credit_part":
            first = invoice["lines"][0]
            half = (Decimal(first["taxable_value"]) / 2).quantize(CENTS)
            part = [{"invoice_line_id": first["id"], "taxable_value": str(half)}]
            add(expected, await seller.credit(client, invoice, lines=part), -1)

    params = {"company_id": seller.company["id"], "period": period_of(today)}
    response = await client.get(URL, params=params, headers=seller.owner.headers)
    assert response.status_code == 200, response.text
    assert sections_net(validate(response.content)) == expected

    summary = await client.get(f"{URL}/summary", params=params, headers=seller.owner.headers)
    assert summary.status_code == 200, summary.text
    body = summary.json()
    for totals in (body["net_of_sections"], body["sales_register"]["net"]):
        got = {name: Decimal(totals[field]) for name, field in SUMMARY_FIELDS.items()}
        assert got == expected
    assert body["balanced"] is True and body["excluded"]["documents"] == 0
