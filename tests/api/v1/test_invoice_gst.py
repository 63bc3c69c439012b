"""GST on invoices, end to end through HTTP (../shared/GST.md).

Every expected amount is worked out by hand in the comment next to it and written as a literal:
nothing is recomputed with the app's own arithmetic. Tenants have round-off of the grand total
switched off unless a test is about round-off (it is on by default), so totals are exact sums.
"""

from decimal import Decimal

import pytest

from tests.api.v1.http_checks import assert_problem
from tests.api.v1.invoicing import gstin, line, make_company, make_customer, make_invoice
from tests.factories import API, Account, make_tenant

MAHARASHTRA, KARNATAKA, TAMIL_NADU, DELHI, CHANDIGARH, LADAKH = "27", "29", "33", "07", "04", "38"
OTHER_TERRITORY = "97"
EXPORT = "96"
# (taxable_value, cgst, sgst, utgst, igst) of a line or an invoice.
SPLIT = ("taxable_value", "cgst_amount", "sgst_amount", "utgst_amount", "igst_amount")
COMPONENTS = ("cgst_amount", "sgst_amount", "utgst_amount", "igst_amount")


def split(document: dict) -> tuple[str, ...]:
    return tuple(document[name] for name in SPLIT)


def totals(document: dict) -> tuple[str, str, str]:
    return document["tax_total"], document["round_off"], document["total"]


async def put_settings(client, owner: Account, **changes) -> dict:
    response = await client.put(f"{API}/gst-settings", json=changes, headers=owner.headers)
    assert response.status_code == 200, response.text
    return response.json()


async def tenant(client, *, round_off: bool = False) -> Account:
    owner = await make_tenant(client)
    await put_settings(client, owner, round_off_enabled=round_off)
    return owner


async def unregistered(client, owner: Account, state: str, **fields) -> dict:
    """A customer without GSTIN, with a full billing address (Rule 46 needs it from ₹50,000)."""
    address = {"line1": "14 Station Road", "city": "Somewhere", "state_code": state}
    return await make_customer(client, owner, billing_address=address, **fields)


async def registered(client, owner: Account, state: str, **fields) -> dict:
    """A customer with a GSTIN of `state` and no billing state of its own (it follows the GSTIN)."""
    body = {"gstin": gstin(state, pan="AABCT3518Q"), "billing_address": {"line1": "2 Ring Road", "city": "Hub"}}
    return await make_customer(client, owner, **(body | fields))


async def parties(client, company_state: str, customer_state: str, *, round_off: bool = False):
    owner = await tenant(client, round_off=round_off)
    company = await make_company(client, owner, state=company_state)
    customer = await unregistered(client, owner, customer_state)
    return owner, company, customer


async def post_invoice(client, owner: Account, company: dict, customer: dict, *lines: dict, **fields):
    body = {"company_id": company["id"], "customer_id": customer["id"], "lines": list(lines), **fields}
    return await client.post(f"{API}/invoices", json=body, headers=owner.headers)


async def reread(client, owner: Account, invoice: dict) -> dict:
    response = await client.get(f"{API}/invoices/{invoice['id']}", headers=owner.headers)
    assert response.status_code == 200, response.text
    return response.json()


def assert_lines_add_up(invoice: dict) -> None:
    """e-invoice validators check total CGST = Σ line CGST (and so on): the document holds sums of
    the rounded line values, not amounts rounded once at the end."""
    for name in ("taxable_value", *COMPONENTS):
        assert sum(Decimal(ln[name]) for ln in invoice["lines"]) == Decimal(invoice[name]), name


class TestSupplyTypeAndPlaceOfSupply:
    async def test_intra_state_splits_the_rate_equally_between_cgst_and_sgst(self, client):
        owner, company, customer = await parties(client, MAHARASHTRA, MAHARASHTRA)
        # 2 x 1234.50 = 2469.00; 12% -> 6% + 6%: 2469.00 x 0.06 = 148.14 each.
        invoice = await make_invoice(client, owner, company, customer, line("1234.50", "2", "12"))
        assert (invoice["supply_type"], invoice["place_of_supply"]) == ("intra_state", MAHARASHTRA)
        assert split(invoice) == ("2469.00", "148.14", "148.14", "0.00", "0.00")
        assert totals(invoice) == ("296.28", "0.00", "2765.28")
        assert split(invoice["lines"][0]) == ("2469.00", "148.14", "148.14", "0.00", "0.00")
        assert invoice["lines"][0]["total"] == "2765.28"
        assert invoice["balance_due"] == "2765.28"
        stored = await reread(client, owner, invoice)
        assert (split(stored), totals(stored)) == (split(invoice), totals(invoice))

    async def test_inter_state_charges_the_whole_rate_as_igst(self, client):
        owner, company, customer = await parties(client, MAHARASHTRA, KARNATAKA)
        # 2469.00 x 12% = 296.28, all IGST.
        invoice = await make_invoice(client, owner, company, customer, line("1234.50", "2", "12"))
        assert (invoice["supply_type"], invoice["place_of_supply"]) == ("inter_state", KARNATAKA)
        assert split(invoice) == ("2469.00", "0.00", "0.00", "0.00", "296.28")
        assert totals(invoice) == ("296.28", "0.00", "2765.28")
        assert split(invoice["lines"][0]) == ("2469.00", "0.00", "0.00", "0.00", "296.28")

    @pytest.mark.parametrize("ut", [CHANDIGARH, LADAKH, OTHER_TERRITORY])
    async def test_union_territory_without_legislature_charges_utgst_instead_of_sgst(self, client, ut):
        owner, company, customer = await parties(client, ut, ut)
        # 1234.50 x 9% = 111.105 -> 111.11 CGST and 111.11 UTGST; SGST nothing.
        invoice = await make_invoice(client, owner, company, customer, line("1234.50", "1", "18"))
        assert invoice["supply_type"] == "intra_state"
        assert split(invoice) == ("1234.50", "111.11", "0.00", "111.11", "0.00")
        assert totals(invoice) == ("222.22", "0.00", "1456.72")
        assert split(invoice["lines"][0]) == ("1234.50", "111.11", "0.00", "111.11", "0.00")

    async def test_delhi_has_a_legislature_so_it_is_sgst(self, client):
        owner, company, customer = await parties(client, DELHI, DELHI)
        invoice = await make_invoice(client, owner, company, customer, line("1234.50", "1", "18"))
        assert split(invoice) == ("1234.50", "111.11", "111.11", "0.00", "0.00")

    async def test_between_two_union_territories_it_is_igst(self, client):
        owner, company, customer = await parties(client, CHANDIGARH, LADAKH)
        # 1234.50 x 18% = 222.21
        invoice = await make_invoice(client, owner, company, customer, line("1234.50", "1", "18"))
        assert invoice["supply_type"] == "inter_state"
        assert split(invoice) == ("1234.50", "0.00", "0.00", "0.00", "222.21")

    async def test_sez_customer_in_the_same_state_is_inter_state(self, client):
        owner = await tenant(client)
        company = await make_company(client, owner, state=MAHARASHTRA)
        sez = await registered(client, owner, MAHARASHTRA, is_sez=True)
        invoice = await make_invoice(client, owner, company, sez, line("1000.00", "1", "18"))
        assert (invoice["supply_type"], invoice["place_of_supply"]) == ("inter_state", MAHARASHTRA)
        assert split(invoice) == ("1000.00", "0.00", "0.00", "0.00", "180.00")
        assert totals(invoice) == ("180.00", "0.00", "1180.00")

    async def test_export_to_a_foreign_customer_is_igst(self, client):
        owner, company, foreign = await parties(client, MAHARASHTRA, EXPORT)
        invoice = await make_invoice(
            client, owner, company, foreign, line("1000.00", "1", "18"), destination_country="US"
        )
        assert (invoice["supply_type"], invoice["place_of_supply"]) == ("inter_state", EXPORT)
        assert (invoice["supply_category"], invoice["tax_treatment"]) == ("export", "with_payment_of_igst")
        assert split(invoice) == ("1000.00", "0.00", "0.00", "0.00", "180.00")
        assert invoice["recipient"]["state"] == "Other Countries"

    async def test_export_place_of_supply_given_for_a_customer_in_the_suppliers_state(self, client):
        owner, company, customer = await parties(client, MAHARASHTRA, MAHARASHTRA)
        # 100.50 x 5% = 5.025 -> 5.03 IGST (as CGST + SGST it would have been 2.51 + 2.51).
        invoice = await make_invoice(
            client, owner, company, customer, line("100.50", "1", "5"), place_of_supply=EXPORT, destination_country="GB"
        )
        assert (invoice["supply_type"], invoice["place_of_supply"]) == ("inter_state", EXPORT)
        assert split(invoice) == ("100.50", "0.00", "0.00", "0.00", "5.03")
        assert invoice["total"] == "105.53"

    async def test_unregistered_customer_is_taxed_by_its_billing_state(self, client):
        owner = await tenant(client)
        company = await make_company(client, owner, state=KARNATAKA)
        local, outside = await unregistered(client, owner, KARNATAKA), await unregistered(client, owner, TAMIL_NADU)
        here = await make_invoice(client, owner, company, local, line("1000.00", "1", "5"))
        there = await make_invoice(client, owner, company, outside, line("1000.00", "1", "5"))
        assert (here["place_of_supply"], split(here)) == (KARNATAKA, ("1000.00", "25.00", "25.00", "0.00", "0.00"))
        assert (there["place_of_supply"], split(there)) == (TAMIL_NADU, ("1000.00", "0.00", "0.00", "0.00", "50.00"))
        assert there["recipient"]["gstin"] is None
        assert (there["recipient"]["billing_state_code"], there["recipient"]["state"]) == (TAMIL_NADU, "Tamil Nadu")

    async def test_registered_customer_is_taxed_by_the_state_of_its_gstin(self, client):
        owner = await tenant(client)
        company = await make_company(client, owner, state=MAHARASHTRA)
        in_karnataka, in_maharashtra = (
            await registered(client, owner, KARNATAKA),
            await registered(client, owner, MAHARASHTRA),
        )
        assert in_karnataka["gstin"].startswith(KARNATAKA)
        away = await make_invoice(client, owner, company, in_karnataka, line("1000.00", "1", "28"))
        home = await make_invoice(client, owner, company, in_maharashtra, line("1000.00", "1", "28"))
        assert (away["place_of_supply"], split(away)) == (KARNATAKA, ("1000.00", "0.00", "0.00", "0.00", "280.00"))
        assert (home["place_of_supply"], split(home)) == (MAHARASHTRA, ("1000.00", "140.00", "140.00", "0.00", "0.00"))
        assert away["recipient"]["gstin"] == in_karnataka["gstin"]

    async def test_explicit_place_of_supply_overrides_the_customers_state(self, client):
        owner = await tenant(client)
        company = await make_company(client, owner, state=MAHARASHTRA)
        in_karnataka = await unregistered(client, owner, KARNATAKA)
        in_maharashtra = await registered(client, owner, MAHARASHTRA)
        made_local = await make_invoice(
            client, owner, company, in_karnataka, line("1000.00", "1", "18"), place_of_supply=MAHARASHTRA
        )
        made_away = await make_invoice(
            client, owner, company, in_maharashtra, line("1000.00", "1", "18"), place_of_supply=TAMIL_NADU
        )
        assert (made_local["place_of_supply"], made_local["supply_type"]) == (MAHARASHTRA, "intra_state")
        assert split(made_local) == ("1000.00", "90.00", "90.00", "0.00", "0.00")
        assert (made_away["place_of_supply"], made_away["supply_type"]) == (TAMIL_NADU, "inter_state")
        assert split(made_away) == ("1000.00", "0.00", "0.00", "0.00", "180.00")
        assert (await reread(client, owner, made_away))["place_of_supply"] == TAMIL_NADU


class TestReverseCharge:
    async def test_the_flag_is_stored_and_the_tax_is_still_computed_and_shown(self, client):
        owner, company, customer = await parties(client, MAHARASHTRA, MAHARASHTRA)
        # 2500.00 x 9% = 225.00 CGST and 225.00 SGST, shown though the recipient pays it.
        invoice = await make_invoice(client, owner, company, customer, line("2500.00", "1", "18"), reverse_charge=True)
        assert invoice["reverse_charge"] is True
        assert split(invoice) == ("2500.00", "225.00", "225.00", "0.00", "0.00")
        assert invoice["tax_total"] == "450.00"
        assert split(invoice["lines"][0]) == ("2500.00", "225.00", "225.00", "0.00", "0.00")
        stored = await reread(client, owner, invoice)
        assert (stored["reverse_charge"], stored["tax_total"]) == (True, "450.00")

    async def test_the_customer_owes_the_taxable_value_only(self, client):
        """The recipient pays the tax to the government, not to the supplier."""
        owner, company, customer = await parties(client, MAHARASHTRA, KARNATAKA)
        invoice = await make_invoice(client, owner, company, customer, line("1000.40", "1", "18"), reverse_charge=True)
        # IGST 1000.40 x 18% = 180.072 -> 180.07 is shown; the total is the taxable value alone.
        assert (invoice["igst_amount"], invoice["tax_total"], invoice["total"]) == ("180.07", "180.07", "1000.40")
        assert invoice["balance_due"] == "1000.40"
        read = await client.get(f"{API}/customers/{customer['id']}", headers=owner.headers)
        assert read.json()["balance"] == "1000.40"
        credit = {"invoice_id": invoice["id"], "reason": "Returned", "full": True}
        note = await client.post(f"{API}/credit-notes", json=credit, headers=owner.headers)
        assert note.status_code == 201, note.text
        assert (note.json()["igst_amount"], note.json()["total"]) == ("180.07", "1000.40")

    async def test_it_is_off_unless_asked_for(self, client):
        owner, company, customer = await parties(client, MAHARASHTRA, KARNATAKA)
        assert (await make_invoice(client, owner, company, customer))["reverse_charge"] is False


class TestDiscounts:
    async def test_taxable_value_is_quantity_times_price_less_discount(self, client):
        owner, company, customer = await parties(client, MAHARASHTRA, MAHARASHTRA)
        # 3 x 1500.00 - 250.00 = 4250.00; 9% = 382.50 each; 4250.00 + 765.00 = 5015.00.
        discounted = line("1500.00", "3", "18", discount="250.00")
        invoice = await make_invoice(client, owner, company, customer, discounted)
        assert invoice["lines"][0]["discount"] == "250.00"
        assert split(invoice) == ("4250.00", "382.50", "382.50", "0.00", "0.00")
        assert totals(invoice) == ("765.00", "0.00", "5015.00")

    async def test_a_discount_of_the_whole_value_leaves_nothing_to_tax(self, client):
        owner, company, customer = await parties(client, MAHARASHTRA, KARNATAKA)
        free = line("99.99", "2", "18", discount="199.98")
        invoice = await make_invoice(client, owner, company, customer, free, line("100.00", "1", "18"))
        assert split(invoice["lines"][0]) == ("0.00", "0.00", "0.00", "0.00", "0.00")
        assert (invoice["taxable_value"], invoice["igst_amount"], invoice["total"]) == ("100.00", "18.00", "118.00")

    async def test_a_discount_over_the_lines_value_is_refused(self, client):
        owner, company, customer = await parties(client, MAHARASHTRA, KARNATAKA)
        response = await post_invoice(client, owner, company, customer, line("99.99", "2", "18", discount="199.99"))
        body = assert_problem(response, 400, "discount-too-large")
        assert body["errors"][0]["loc"] == ["body", "lines.0.discount"]


class TestMixedRatesAndRounding:
    async def test_totals_are_sums_of_the_rounded_line_values(self, client):
        owner, company, customer = await parties(client, MAHARASHTRA, MAHARASHTRA)
        lines = [
            line("100.50", "1", "18"),  # 9% = 9.045 -> 9.05 each
            line("100.50", "1", "18"),  # 9.05 each again
            line("250.10", "1", "5"),  # 2.5% = 6.2525 -> 6.25 each
            line("99.99", "1", "28"),  # 14% = 13.9986 -> 14.00 each
            line("333.33", "1", "12"),  # 6% = 19.9998 -> 20.00 each
            line("45.50", "1", "3"),  # 1.5% = 0.6825 -> 0.68 each
            line("500.00", "1", "0"),  # 0.00
        ]
        invoice = await make_invoice(client, owner, company, customer, *lines, invoice_date="2025-10-15")
        assert [ln["cgst_amount"] for ln in invoice["lines"]] == [
            "9.05",
            "9.05",
            "6.25",
            "14.00",
            "20.00",
            "0.68",
            "0.00",
        ]
        assert [ln["sgst_amount"] for ln in invoice["lines"]] == [
            "9.05",
            "9.05",
            "6.25",
            "14.00",
            "20.00",
            "0.68",
            "0.00",
        ]
        assert [ln["total"] for ln in invoice["lines"]] == [
            "118.60",
            "118.60",
            "262.60",
            "127.99",
            "373.33",
            "46.86",
            "500.00",
        ]
        # Taxable 100.50 + 100.50 + 250.10 + 99.99 + 333.33 + 45.50 + 500.00 = 1429.92.
        # CGST 9.05 + 9.05 + 6.25 + 14.00 + 20.00 + 0.68 = 59.03; the unrounded halves add up to
        # 59.0234, which rounded once would be 59.02: the document must hold 59.03.
        assert split(invoice) == ("1429.92", "59.03", "59.03", "0.00", "0.00")
        assert totals(invoice) == ("118.06", "0.00", "1547.98")
        assert_lines_add_up(invoice)
        assert_lines_add_up(await reread(client, owner, invoice))

    async def test_mixed_rates_inter_state(self, client):
        owner, company, customer = await parties(client, MAHARASHTRA, KARNATAKA)
        lines = [
            line("100.50", "1", "18"),  # 18.09
            line("250.10", "1", "5"),  # 12.505 -> 12.51
            line("45.50", "1", "3"),  # 1.365 -> 1.37
            line("1000.00", "1", "40"),  # 400.00 (in force from 2025-09-22)
        ]
        invoice = await make_invoice(client, owner, company, customer, *lines, invoice_date="2025-10-15")
        assert [ln["igst_amount"] for ln in invoice["lines"]] == ["18.09", "12.51", "1.37", "400.00"]
        # 100.50 + 250.10 + 45.50 + 1000.00 = 1396.10; 18.09 + 12.51 + 1.37 + 400.00 = 431.97.
        assert split(invoice) == ("1396.10", "0.00", "0.00", "0.00", "431.97")
        assert totals(invoice) == ("431.97", "0.00", "1828.07")
        assert_lines_add_up(invoice)

    async def test_a_half_paisa_of_each_half_rounds_up(self, client):
        owner = await tenant(client)
        company = await make_company(client, owner, state=MAHARASHTRA)
        local, away = await unregistered(client, owner, MAHARASHTRA), await unregistered(client, owner, KARNATAKA)
        # 100.50 x 9% = 9.045 exactly -> 9.05 (half-up; half-even would give 9.04) on CGST and SGST,
        # so the line's tax is 18.10 while the same line as IGST is 100.50 x 18% = 18.09.
        intra = await make_invoice(client, owner, company, local, line("100.50", "1", "18"))
        inter = await make_invoice(client, owner, company, away, line("100.50", "1", "18"))
        assert split(intra) == ("100.50", "9.05", "9.05", "0.00", "0.00")
        assert totals(intra) == ("18.10", "0.00", "118.60")
        assert split(inter) == ("100.50", "0.00", "0.00", "0.00", "18.09")
        assert totals(inter) == ("18.09", "0.00", "118.59")

    async def test_a_half_paisa_of_taxable_value_rounds_up(self, client):
        owner, company, customer = await parties(client, MAHARASHTRA, MAHARASHTRA)
        # 1.250 x 8.0040 = 10.005 -> 10.01 (half-even would give 10.00); 10.01 x 9% = 0.9009 -> 0.90.
        invoice = await make_invoice(client, owner, company, customer, line("8.0040", "1.250", "18"))
        first = invoice["lines"][0]
        assert (first["quantity"], first["unit_price"]) == ("1.250", "8.0040")
        assert split(invoice) == ("10.01", "0.90", "0.90", "0.00", "0.00")
        assert invoice["total"] == "11.81"

    async def test_three_decimal_quantity_and_four_decimal_price(self, client):
        owner, company, customer = await parties(client, MAHARASHTRA, MAHARASHTRA)
        # 3.333 x 1234.5678 = 4114.8144774 -> 4114.81; 4114.81 x 9% = 370.3329 -> 370.33 each;
        # 4114.81 + 740.66 = 4855.47.
        invoice = await make_invoice(client, owner, company, customer, line("1234.5678", "3.333", "18"))
        assert split(invoice) == ("4114.81", "370.33", "370.33", "0.00", "0.00")
        assert totals(invoice) == ("740.66", "0.00", "4855.47")
        stored = (await reread(client, owner, invoice))["lines"][0]
        assert (stored["quantity"], stored["unit_price"], stored["taxable_value"]) == ("3.333", "1234.5678", "4114.81")

    async def test_a_fractional_rate_added_by_the_tenant(self, client):
        owner, company, customer = await parties(client, MAHARASHTRA, MAHARASHTRA)
        added = await client.post(
            f"{API}/tax-rates", json={"rate": "7.5", "effective_from": "2025-04-01"}, headers=owner.headers
        )
        assert added.status_code == 201, added.text
        # 1000.10 x 3.75% = 37.50375 -> 37.50 each; 1000.10 + 75.00 = 1075.10.
        invoice = await make_invoice(
            client, owner, company, customer, line("1000.10", "1", "7.5"), invoice_date="2025-06-30"
        )
        assert invoice["lines"][0]["gst_rate"] == "7.50"
        assert split(invoice) == ("1000.10", "37.50", "37.50", "0.00", "0.00")
        assert invoice["total"] == "1075.10"


class TestRoundOff:
    async def test_on_the_grand_total_goes_to_the_nearest_rupee_in_its_own_field(self, client):
        owner, company, customer = await parties(client, MAHARASHTRA, MAHARASHTRA, round_off=True)
        # 100.50 + 9.05 + 9.05 = 118.60 -> 119.00, round_off +0.40; the tax itself is untouched.
        up = await make_invoice(client, owner, company, customer, line("100.50", "1", "18"))
        assert split(up) == ("100.50", "9.05", "9.05", "0.00", "0.00")
        assert totals(up) == ("18.10", "0.40", "119.00")
        assert up["balance_due"] == "119.00"
        assert up["amount_in_words"] == "Rupees One Hundred Nineteen Only"
        # 1000.40 at 0% -> 1000.00, round_off -0.40.
        down = await make_invoice(client, owner, company, customer, line("1000.40", "1", "0"))
        assert totals(down) == ("0.00", "-0.40", "1000.00")
        # 100.50 exactly half a rupee -> 101.00, round_off +0.50 (half-up).
        half = await make_invoice(client, owner, company, customer, line("100.50", "1", "0"))
        assert totals(half) == ("0.00", "0.50", "101.00")
        # 100.49 -> 100.00, round_off -0.49.
        under_half = await make_invoice(client, owner, company, customer, line("100.49", "1", "0"))
        assert totals(under_half) == ("0.00", "-0.49", "100.00")
        # Already whole: nothing to round.
        whole = await make_invoice(client, owner, company, customer, line("1000.00", "1", "18"))
        assert totals(whole) == ("180.00", "0.00", "1180.00")
        stored = await reread(client, owner, up)
        assert totals(stored) == ("18.10", "0.40", "119.00")

    async def test_off_keeps_the_paise_and_round_off_is_zero(self, client):
        owner, company, customer = await parties(client, MAHARASHTRA, MAHARASHTRA, round_off=True)
        await put_settings(client, owner, round_off_enabled=False)
        invoice = await make_invoice(client, owner, company, customer, line("100.50", "1", "18"))
        assert totals(invoice) == ("18.10", "0.00", "118.60")
        assert invoice["balance_due"] == "118.60"

    async def test_it_is_on_by_default(self, client):
        owner = await make_tenant(client)
        company = await make_company(client, owner, state=MAHARASHTRA)
        customer = await unregistered(client, owner, KARNATAKA)
        # 100.50 + 18.09 = 118.59 -> 119.00, round_off +0.41.
        invoice = await make_invoice(client, owner, company, customer, line("100.50", "1", "18"))
        assert totals(invoice) == ("18.09", "0.41", "119.00")


class TestAmountInWords:
    @pytest.mark.parametrize(
        ("unit_price", "quantity", "total", "words"),
        [  # a unit price is below 1 crore: the crore totals take 10 units
            (
                "123456.50",
                "1",
                "123456.50",
                "Rupees One Lakh Twenty-Three Thousand Four Hundred Fifty-Six and Fifty Paise Only",
            ),
            (
                "1234567.89",
                "10",
                "12345678.90",
                "Rupees One Crore Twenty-Three Lakh Forty-Five Thousand Six Hundred Seventy-Eight"
                " and Ninety Paise Only",
            ),
            ("250000.00", "1", "250000.00", "Rupees Two Lakh Fifty Thousand Only"),
            ("1000000.00", "10", "10000000.00", "Rupees One Crore Only"),
            ("101.01", "1", "101.01", "Rupees One Hundred One and One Paise Only"),
            ("0.75", "1", "0.75", "Rupees Zero and Seventy-Five Paise Only"),
        ],
    )
    async def test_indian_numbering(self, client, unit_price, quantity, total, words):
        owner, company, customer = await parties(client, MAHARASHTRA, MAHARASHTRA)
        invoice = await make_invoice(client, owner, company, customer, line(unit_price, quantity, "0"))
        assert (invoice["total"], invoice["amount_in_words"]) == (total, words)
        assert (await reread(client, owner, invoice))["amount_in_words"] == words

    async def test_words_follow_the_taxed_and_rounded_total(self, client):
        owner, company, customer = await parties(client, MAHARASHTRA, MAHARASHTRA)
        # 8474576.27 x 9% = 762711.8643 -> 762711.86 each; 8474576.27 + 1525423.72 = 9999999.99.
        taxed = line("8474576.27", "1", "18")
        invoice = await make_invoice(client, owner, company, customer, taxed)
        assert invoice["total"] == "9999999.99"
        assert invoice["amount_in_words"] == (
            "Rupees Ninety-Nine Lakh Ninety-Nine Thousand Nine Hundred Ninety-Nine and Ninety-Nine Paise Only"
        )
        await put_settings(client, owner, round_off_enabled=True)
        rounded = await make_invoice(client, owner, company, customer, taxed)
        assert totals(rounded) == ("1525423.72", "0.01", "10000000.00")
        assert rounded["amount_in_words"] == "Rupees One Crore Only"


class TestRatesAllowed:
    async def test_composition_taxpayer_cannot_charge_gst(self, client):
        owner, company, customer = await parties(client, MAHARASHTRA, MAHARASHTRA)
        await put_settings(client, owner, registration_type="composition")
        refused = await post_invoice(client, owner, company, customer, line("1000.00", "1", "5"))
        body = assert_problem(refused, 400, "composition-no-tax")
        assert body["errors"][0]["loc"] == ["body", "lines.0.gst_rate"]
        # The second line is the bad one: the error points at it.
        refused = await post_invoice(
            client, owner, company, customer, line("10.00", "1", "0"), line("10.00", "1", "0.1")
        )
        assert assert_problem(refused, 400, "composition-no-tax")["errors"][0]["loc"] == ["body", "lines.1.gst_rate"]
        invoice = await make_invoice(client, owner, company, customer, line("1000.00", "1", "0"))
        assert split(invoice) == ("1000.00", "0.00", "0.00", "0.00", "0.00")
        assert totals(invoice) == ("0.00", "0.00", "1000.00")

    async def test_composition_refuses_a_service_types_default_rate_too(self, client):
        owner, company, customer = await parties(client, MAHARASHTRA, MAHARASHTRA)
        service = await service_type(client, owner, default_rate="500.00", default_gst_rate="18")
        await put_settings(client, owner, registration_type="composition")
        refused = await post_invoice(
            client, owner, company, customer, {"service_type_id": service["id"], "quantity": "1"}
        )
        assert_problem(refused, 400, "composition-no-tax")

    async def test_a_rate_not_in_force_on_the_invoice_date_is_refused(self, client):
        owner, company, customer = await parties(client, MAHARASHTRA, KARNATAKA)
        early = await post_invoice(
            client, owner, company, customer, line("1000.00", "1", "40"), invoice_date="2025-09-01"
        )
        body = assert_problem(early, 400, "gst-rate-not-in-force")
        assert body["errors"][0]["loc"] == ["body", "lines.0.gst_rate"]
        eve = await post_invoice(
            client, owner, company, customer, line("1000.00", "1", "40"), invoice_date="2025-09-21"
        )
        assert_problem(eve, 400, "gst-rate-not-in-force")
        # From 22 September 2025 it is in force: 1000.00 x 40% = 400.00 IGST.
        first_day = await make_invoice(
            client, owner, company, customer, line("1000.00", "1", "40"), invoice_date="2025-09-22"
        )
        assert split(first_day) == ("1000.00", "0.00", "0.00", "0.00", "400.00")
        assert first_day["total"] == "1400.00"

    async def test_a_rate_that_is_not_one_of_the_tenants_is_refused(self, client):
        owner, company, customer = await parties(client, MAHARASHTRA, KARNATAKA)
        refused = await post_invoice(client, owner, company, customer, line("1000.00", "1", "7"))
        assert_problem(refused, 400, "gst-rate-not-in-force")
        # Nothing was written.
        listed = await client.get(f"{API}/invoices", headers=owner.headers)
        assert listed.json()["items"] == []


async def service_type(client, owner: Account, **fields) -> dict:
    body = {
        "name": "Annual maintenance",
        "sac_hsn_code": "998314",
        "unit": "year",
        "default_rate": "1500.00",
        "default_gst_rate": "12",
    } | fields
    response = await client.post(f"{API}/service-types", json=body, headers=owner.headers)
    assert response.status_code == 201, response.text
    return response.json()


class TestServiceTypeDefaults:
    async def test_a_line_with_only_a_service_type_and_quantity(self, client):
        owner, company, customer = await parties(client, MAHARASHTRA, MAHARASHTRA)
        service = await service_type(client, owner)
        invoice = await make_invoice(
            client, owner, company, customer, {"service_type_id": service["id"], "quantity": "2"}
        )
        first = invoice["lines"][0]
        assert (first["service_type_id"], first["description"], first["hsn_sac"], first["unit"]) == (
            service["id"],
            "Annual maintenance",
            "998314",
            "year",
        )
        assert first["gst_rate"] == "12.00"
        # 2 x 1500.00 = 3000.00; 6% = 180.00 each; 3360.00.
        assert split(first) == ("3000.00", "180.00", "180.00", "0.00", "0.00")
        assert (first["total"], invoice["total"]) == ("3360.00", "3360.00")
        stored = (await reread(client, owner, invoice))["lines"][0]
        assert (stored["description"], stored["hsn_sac"], stored["unit"]) == ("Annual maintenance", "998314", "year")
        assert (first["unit_price"], stored["unit_price"]) == ("1500.0000", "1500.0000")
        assert (stored["gst_rate"], stored["total"]) == ("12.00", "3360.00")

    async def test_what_the_line_says_wins_over_the_service_type(self, client):
        owner, company, customer = await parties(client, MAHARASHTRA, KARNATAKA)
        service = await service_type(client, owner)
        own = {
            "service_type_id": service["id"],
            "quantity": "1",
            "description": "AMC, pro-rata",
            "hsn_sac": "9983",
            "unit": "month",
            "unit_price": "1000.00",
            "gst_rate": "5",
        }
        first = (await make_invoice(client, owner, company, customer, own))["lines"][0]
        assert (first["description"], first["hsn_sac"], first["unit"], first["gst_rate"]) == (
            "AMC, pro-rata",
            "9983",
            "month",
            "5.00",
        )
        # 1000.00 x 5% = 50.00 IGST.
        assert split(first) == ("1000.00", "0.00", "0.00", "0.00", "50.00")

    async def test_an_unknown_service_type_is_404(self, client):
        owner, company, customer = await parties(client, MAHARASHTRA, KARNATAKA)
        other = await tenant(client)
        theirs = await service_type(client, other)
        response = await post_invoice(
            client, owner, company, customer, {"service_type_id": theirs["id"], "quantity": "1"}
        )
        assert_problem(response, 404, "service-type-not-found")

    async def test_without_a_service_type_price_and_rate_are_required(self, client):
        owner, company, customer = await parties(client, MAHARASHTRA, KARNATAKA)
        no_price = {"description": "Consulting", "quantity": "1", "gst_rate": "18"}
        assert_problem(await post_invoice(client, owner, company, customer, no_price), 400, "unit-price-required")
        no_rate = {"description": "Consulting", "quantity": "1", "unit_price": "10.00"}
        assert_problem(await post_invoice(client, owner, company, customer, no_rate), 400, "gst-rate-required")


class TestDueDate:
    async def test_the_customers_payment_terms(self, client):
        owner = await tenant(client)
        company = await make_company(client, owner, state=MAHARASHTRA)
        net_30 = await unregistered(client, owner, MAHARASHTRA, payment_terms_days=30)
        on_receipt = await unregistered(client, owner, MAHARASHTRA, payment_terms_days=0)
        # 15 October 2025 + 30 days = 14 November 2025.
        invoice = await make_invoice(client, owner, company, net_30, invoice_date="2025-10-15")
        assert (invoice["invoice_date"], invoice["due_date"]) == ("2025-10-15", "2025-11-14")
        # Zero days is a term of its own (due on the invoice date), not "no terms".
        invoice = await make_invoice(client, owner, company, on_receipt, invoice_date="2025-10-15")
        assert invoice["due_date"] == "2025-10-15"

    async def test_else_the_tenants_default_due_days(self, client):
        owner = await tenant(client)
        company = await make_company(client, owner, state=MAHARASHTRA)
        customer = await unregistered(client, owner, MAHARASHTRA)
        assert (await client.get(f"{API}/gst-settings", headers=owner.headers)).json()["default_due_days"] == 15
        # 15 October 2025 + 15 days = 30 October 2025.
        invoice = await make_invoice(client, owner, company, customer, invoice_date="2025-10-15")
        assert invoice["due_date"] == "2025-10-30"
        await put_settings(client, owner, default_due_days=45)
        # 15 October 2025 + 45 days = 29 November 2025; across a year end: 20 Dec 2025 + 45 = 3 Feb 2026.
        assert (await make_invoice(client, owner, company, customer, invoice_date="2025-10-15"))["due_date"] == (
            "2025-11-29"
        )
        assert (await make_invoice(client, owner, company, customer, invoice_date="2025-12-20"))["due_date"] == (
            "2026-02-03"
        )

    async def test_an_explicit_due_date_wins_but_not_before_the_invoice_date(self, client):
        owner = await tenant(client)
        company = await make_company(client, owner, state=MAHARASHTRA)
        customer = await unregistered(client, owner, MAHARASHTRA, payment_terms_days=30)
        invoice = await make_invoice(client, owner, company, customer, invoice_date="2025-10-15", due_date="2025-10-20")
        assert invoice["due_date"] == "2025-10-20"
        refused = await post_invoice(
            client, owner, company, customer, line(), invoice_date="2025-10-15", due_date="2025-10-14"
        )
        assert_problem(refused, 400, "due-before-invoice-date")


class TestSnapshots:
    async def test_supplier_and_recipient_as_the_invoice_shows_them(self, client):
        owner = await tenant(client)
        company = await make_company(
            client,
            owner,
            state=MAHARASHTRA,
            legal_name="Sharma Traders Pvt Ltd",
            trade_name="Sharma Traders",
            address_line1="5 Marine Drive",
            city="Mumbai",
            pincode="400002",
            upi_vpa="sharma@okhdfc",
        )
        customer = await registered(client, owner, KARNATAKA, name="Iyer Textiles")
        invoice = await make_invoice(client, owner, company, customer)
        supplier, recipient = invoice["supplier"], invoice["recipient"]
        assert (supplier["legal_name"], supplier["trade_name"], supplier["gstin"]) == (
            "Sharma Traders Pvt Ltd",
            "Sharma Traders",
            company["gstin"],
        )
        assert (supplier["address_line1"], supplier["city"], supplier["pincode"]) == (
            "5 Marine Drive",
            "Mumbai",
            "400002",
        )
        assert (supplier["state_code"], supplier["state"], supplier["upi_vpa"]) == (
            MAHARASHTRA,
            "Maharashtra",
            "sharma@okhdfc",
        )
        assert (recipient["name"], recipient["gstin"], recipient["billing_address_line1"]) == (
            "Iyer Textiles",
            customer["gstin"],
            "2 Ring Road",
        )
        assert (recipient["billing_state_code"], recipient["state"]) == (KARNATAKA, "Karnataka")

    async def test_later_edits_of_the_customer_or_company_do_not_change_an_issued_invoice(self, client):
        owner = await tenant(client)
        company = await make_company(client, owner, state=MAHARASHTRA, legal_name="Sharma Traders Pvt Ltd")
        customer = await registered(client, owner, KARNATAKA, name="Iyer Textiles")
        invoice = await make_invoice(client, owner, company, customer)
        renamed = await client.patch(
            f"{API}/customers/{customer['id']}", json={"name": "Iyer Silks"}, headers=owner.headers
        )
        assert renamed.status_code == 200, renamed.text
        moved = await client.patch(
            f"{API}/companies/{company['id']}", json={"legal_name": "Sharma Holdings Ltd"}, headers=owner.headers
        )
        assert moved.status_code == 200, moved.text
        stored = await reread(client, owner, invoice)
        assert (stored["recipient"]["name"], stored["supplier"]["legal_name"]) == (
            "Iyer Textiles",
            "Sharma Traders Pvt Ltd",
        )

    async def test_a_draft_takes_the_parties_as_they_are_when_it_is_issued(self, client):
        owner = await tenant(client)
        company = await make_company(client, owner, state=MAHARASHTRA)
        customer = await registered(client, owner, KARNATAKA, name="Iyer Textiles")
        draft = await make_invoice(client, owner, company, customer, issue=False)
        assert (draft["status"], draft["number"], draft["recipient"]["name"]) == ("draft", None, "Iyer Textiles")
        await client.patch(f"{API}/customers/{customer['id']}", json={"name": "Iyer Silks"}, headers=owner.headers)
        issued = await client.post(f"{API}/invoices/{draft['id']}/issue", headers=owner.headers)
        assert issued.status_code == 200, issued.text
        assert issued.json()["recipient"]["name"] == "Iyer Silks"


class TestUnregisteredRecipientAddress:
    """Rule 46: an unregistered recipient billed a taxable value of ₹50,000 or more must be shown
    with name, address and state."""

    async def test_from_50000_an_unregistered_customer_needs_an_address_to_issue(self, client):
        owner = await tenant(client)
        company = await make_company(client, owner, state=MAHARASHTRA)
        bare = await make_customer(client, owner, billing_address={"state_code": MAHARASHTRA})
        big = line("50000.00", "1", "18")
        refused = await post_invoice(client, owner, company, bare, big, issue=True)
        assert_problem(refused, 400, "recipient-address-required")
        assert (await client.get(f"{API}/invoices", headers=owner.headers)).json()["items"] == []
        # Just under the threshold, or as a draft, it is fine.
        under = await make_invoice(client, owner, company, bare, line("49999.99", "1", "18"))
        assert under["status"] == "issued"
        assert (await make_invoice(client, owner, company, bare, big, issue=False))["status"] == "draft"
        # With an address, or with a GSTIN, the big one issues.
        addressed = await unregistered(client, owner, MAHARASHTRA)
        assert (await make_invoice(client, owner, company, addressed, big))["status"] == "issued"
        with_gstin = await make_customer(
            client, owner, gstin=gstin(MAHARASHTRA, pan="AABCT3518Q"), billing_address=None
        )
        assert (await make_invoice(client, owner, company, with_gstin, big))["status"] == "issued"


async def issue(client, owner: Account, invoice: dict):
    return await client.post(f"{API}/invoices/{invoice['id']}/issue", headers=owner.headers)


async def all_invoices(client, owner: Account) -> list[dict]:
    response = await client.get(f"{API}/invoices", headers=owner.headers)
    assert response.status_code == 200, response.text
    return response.json()["items"]


class TestUnregisteredSupplier:
    """s.31-32: a company without a GSTIN is not registered; it may not collect tax or issue a tax
    invoice. Its documents are bills of supply, at 0 % only."""

    async def test_a_company_without_gstin_cannot_charge_gst(self, client):
        owner = await tenant(client)
        created = await client.post(
            f"{API}/companies",
            json={"legal_name": "Sharma Home Tutors", "state_code": MAHARASHTRA},
            headers=owner.headers,
        )
        assert created.status_code == 201, created.text
        company = created.json()
        customer = await unregistered(client, owner, MAHARASHTRA)
        refused = await post_invoice(client, owner, company, customer, line("1000.00", "1", "0"), line("10", "1", "18"))
        body = assert_problem(refused, 400, "unregistered-no-tax")
        assert body["errors"][0]["loc"] == ["body", "lines.1.gst_rate"]
        assert await all_invoices(client, owner) == []
        # At 0 %: a bill of supply of 1000.00, no tax.
        bill = await make_invoice(client, owner, company, customer, line("1000.00", "1", "0"))
        assert split(bill) == ("1000.00", "0.00", "0.00", "0.00", "0.00")
        assert totals(bill) == ("0.00", "0.00", "1000.00")
        assert (bill["document_type"], bill["supplier_registration_type"]) == ("bill_of_supply", "unregistered")
        assert (bill["title"], bill["declaration"]) == (
            "Bill of Supply",
            "Supplier not registered under GST: no tax charged",
        )

    async def test_a_draft_whose_company_lost_its_gstin_is_refused_at_issue(self, client):
        owner = await tenant(client)
        company = await make_company(client, owner, state=MAHARASHTRA)
        customer = await unregistered(client, owner, MAHARASHTRA)
        draft = await make_invoice(client, owner, company, customer, issue=False)
        dropped = await client.patch(f"{API}/companies/{company['id']}", json={"gstin": None}, headers=owner.headers)
        assert dropped.status_code == 200, dropped.text
        assert_problem(await issue(client, owner, draft), 400, "unregistered-no-tax")
        stored = await reread(client, owner, draft)
        assert (stored["status"], stored["number"], stored["tax_total"]) == ("draft", None, "180.00")


class TestRulesCheckedAgainAtIssue:
    async def test_a_draft_made_while_regular_is_refused_at_issue_under_composition(self, client):
        owner, company, customer = await parties(client, MAHARASHTRA, MAHARASHTRA)
        draft = await make_invoice(client, owner, company, customer, line("1000.00", "1", "18"), issue=False)
        assert (draft["tax_total"], draft["document_type"]) == ("180.00", "tax_invoice")
        await put_settings(client, owner, registration_type="composition")
        body = assert_problem(await issue(client, owner, draft), 400, "composition-no-tax")
        assert body["errors"][0]["loc"] == ["body", "lines.0.gst_rate"]
        stored = await reread(client, owner, draft)
        assert (stored["status"], stored["number"], stored["tax_total"]) == ("draft", None, "180.00")
        # Back to regular, it issues with its tax.
        await put_settings(client, owner, registration_type="regular")
        issued = (await issue(client, owner, draft)).json()
        assert (issued["status"], issued["tax_total"], issued["total"]) == ("issued", "180.00", "1180.00")

    async def test_round_off_follows_the_setting_at_issue(self, client):
        owner, company, customer = await parties(client, MAHARASHTRA, MAHARASHTRA)
        # 1234.50 x 9% = 111.105 -> 111.11 each: 1456.72 exact; rounded to the rupee 1457.00 (+0.28).
        draft = await make_invoice(client, owner, company, customer, line("1234.50", "1", "18"), issue=False)
        assert totals(draft) == ("222.22", "0.00", "1456.72")
        await put_settings(client, owner, round_off_enabled=True)
        issued = (await issue(client, owner, draft)).json()
        assert totals(issued) == ("222.22", "0.28", "1457.00")
        assert (await reread(client, owner, issued))["total"] == "1457.00"

    async def test_a_company_moved_to_another_state_changes_the_split_at_issue(self, client):
        owner, company, customer = await parties(client, MAHARASHTRA, KARNATAKA)
        draft = await make_invoice(client, owner, company, customer, line("1000.00", "1", "18"), issue=False)
        assert split(draft) == ("1000.00", "0.00", "0.00", "0.00", "180.00")
        moved = await client.patch(
            f"{API}/companies/{company['id']}",
            json={"gstin": gstin(KARNATAKA, pan="AAPFU0939F")},
            headers=owner.headers,
        )
        assert moved.status_code == 200, moved.text
        # Karnataka to Karnataka: 1000.00 x 9% = 90.00 CGST + 90.00 SGST.
        issued = (await issue(client, owner, draft)).json()
        assert (issued["supply_type"], issued["supplier"]["state_code"]) == ("intra_state", KARNATAKA)
        assert split(issued) == ("1000.00", "90.00", "90.00", "0.00", "0.00")
        assert split(issued["lines"][0]) == ("1000.00", "90.00", "90.00", "0.00", "0.00")
        assert totals(issued) == ("180.00", "0.00", "1180.00")


TITLES = {
    "tax_invoice": "Tax Invoice",
    "bill_of_supply": "Bill of Supply",
    "invoice_cum_bill_of_supply": "Invoice-cum-Bill of Supply",
}


class TestDocumentType:
    """Rule 46 tax invoice, Rule 49 bill of supply, Rule 46A invoice-cum-bill of supply."""

    @pytest.mark.parametrize(
        ("rates", "customer_state", "registered_customer", "expected"),
        [
            (["18"], MAHARASHTRA, False, "tax_invoice"),
            (["0"], MAHARASHTRA, False, "bill_of_supply"),  # every line exempt / nil-rated
            (["0", "0"], KARNATAKA, True, "bill_of_supply"),
            (["18", "0"], MAHARASHTRA, False, "invoice_cum_bill_of_supply"),  # Rule 46A
            (["18", "0"], MAHARASHTRA, True, "tax_invoice"),
            (["0"], EXPORT, False, "tax_invoice"),  # zero-rated export (LUT): still a tax invoice
        ],
    )
    async def test_of_a_regular_taxpayer(self, client, rates, customer_state, registered_customer, expected):
        owner = await tenant(client)
        company = await make_company(client, owner, state=MAHARASHTRA)
        make = registered if registered_customer else unregistered
        customer = await make(client, owner, customer_state)
        export = {"destination_country": "AE", "tax_treatment": "under_lut"} if customer_state == EXPORT else {}
        invoice = await make_invoice(
            client, owner, company, customer, *[line("100.00", "1", r) for r in rates], **export
        )
        assert (invoice["document_type"], invoice["supplier_registration_type"]) == (expected, "regular")
        assert (invoice["title"], invoice["declaration"]) == (TITLES[expected], None)
        stored = await reread(client, owner, invoice)
        assert (stored["document_type"], stored["supplier_registration_type"]) == (expected, "regular")

    async def test_is_frozen_at_issue(self, client):
        owner, company, customer = await parties(client, MAHARASHTRA, MAHARASHTRA)
        await put_settings(client, owner, registration_type="composition")
        bill = await make_invoice(client, owner, company, customer, line("500.00", "1", "0"))
        draft = await make_invoice(client, owner, company, customer, line("500.00", "1", "0"), issue=False)
        assert (bill["document_type"], bill["supplier_registration_type"]) == ("bill_of_supply", "composition")
        await put_settings(client, owner, registration_type="regular")
        # The issued one keeps what it was issued as; the draft follows the settings when issued.
        stored = await reread(client, owner, bill)
        assert (stored["document_type"], stored["supplier_registration_type"]) == ("bill_of_supply", "composition")
        # What a rendering prints: the title and the Rule 5(1)(g) declaration it was issued with.
        assert (stored["title"], stored["declaration"]) == (
            "Bill of Supply",
            "Composition taxable person, not eligible to collect tax on supplies",
        )
        issued = (await issue(client, owner, draft)).json()
        assert (issued["document_type"], issued["supplier_registration_type"]) == ("bill_of_supply", "regular")

    async def test_bills_of_supply_take_the_invoice_series_by_default(self, client):
        owner, company, customer = await parties(client, MAHARASHTRA, MAHARASHTRA)
        taxed = await make_invoice(client, owner, company, customer, line("100.00", "1", "18"))
        exempt = await make_invoice(client, owner, company, customer, line("100.00", "1", "0"))
        fy = taxed["financial_year"]
        assert (taxed["number"], exempt["number"]) == (f"INV/{fy}/00001", f"INV/{fy}/00002")
        assert exempt["document_type"] == "bill_of_supply"

    async def test_bills_of_supply_have_their_own_series_when_the_settings_say_so(self, client):
        owner, company, customer = await parties(client, MAHARASHTRA, MAHARASHTRA)
        settings = await put_settings(client, owner, bill_of_supply_number_pattern="BOS/{fy}/{seq:05}")
        assert settings["bill_of_supply_number_pattern"] == "BOS/{fy}/{seq:05}"
        exempt = await make_invoice(client, owner, company, customer, line("100.00", "1", "0"))
        taxed = await make_invoice(client, owner, company, customer, line("100.00", "1", "18"))
        mixed = await make_invoice(client, owner, company, customer, line("100.00", "1", "0"), line("1", "1", "5"))
        exempt_again = await make_invoice(client, owner, company, customer, line("100.00", "1", "0"))
        fy = taxed["financial_year"]
        assert [exempt["number"], exempt_again["number"]] == [f"BOS/{fy}/00001", f"BOS/{fy}/00002"]
        # An invoice-cum-bill of supply is an invoice: the invoice series.
        assert [taxed["number"], mixed["number"]] == [f"INV/{fy}/00001", f"INV/{fy}/00002"]
        # null: back to one series, which continues where it was.
        await put_settings(client, owner, bill_of_supply_number_pattern=None)
        shared = await make_invoice(client, owner, company, customer, line("100.00", "1", "0"))
        assert shared["number"] == f"INV/{fy}/00003"

    @pytest.mark.parametrize("pattern", ["INV/{fy}/{seq:05}", "INV{seq:06}", "{fy}/B{seq:05}", "IN{seq:05}"])
    async def test_a_bill_of_supply_pattern_that_could_repeat_an_invoice_number_is_refused(self, client, pattern):
        owner = await tenant(client)
        refused = await client.put(
            f"{API}/gst-settings", json={"bill_of_supply_number_pattern": pattern}, headers=owner.headers
        )
        assert_problem(refused, 400, "number-patterns-overlap")
        current = await client.get(f"{API}/gst-settings", headers=owner.headers)
        assert current.json()["bill_of_supply_number_pattern"] is None
        # Nor can the invoice pattern move onto the bill-of-supply one's.
        await put_settings(client, owner, bill_of_supply_number_pattern="B{seq:05}")
        moved = await client.put(
            f"{API}/gst-settings", json={"invoice_number_pattern": "B/{fy}/{seq:05}"}, headers=owner.headers
        )
        assert_problem(moved, 400, "number-patterns-overlap")
