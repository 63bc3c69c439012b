"""Exports and supplies to SEZ units and developers (CGST Rule 46, IGST Act s.7(5)(b) and s.16), end
to end through HTTP: the supply category and tax treatment chosen on a draft and frozen at issue,
the tax each one carries, the export details, the refusals, and credit notes that inherit all this.

Every expected amount is worked out by hand next to it. Tenants have round-off switched off, so
totals are exact sums."""

import io
from datetime import timedelta
from decimal import Decimal

import pytest
from pypdf import PdfReader

from tests.api.v1.business import audit_rows
from tests.api.v1.http_checks import assert_problem
from tests.api.v1.invoicing import gstin, line, make_company, make_customer
from tests.factories import API, Account, make_tenant

MAHARASHTRA, KARNATAKA, EXPORT = "27", "29", "96"
URL = f"{API}/invoices"
SPLIT = ("taxable_value", "cgst_amount", "sgst_amount", "utgst_amount", "igst_amount")
EXPORT_FIELDS = ("destination_country", "port_code", "shipping_bill_number", "shipping_bill_date")
IGST_EXPORT = "SUPPLY MEANT FOR EXPORT ON PAYMENT OF INTEGRATED TAX"
LUT_EXPORT = "SUPPLY MEANT FOR EXPORT UNDER BOND OR LETTER OF UNDERTAKING WITHOUT PAYMENT OF INTEGRATED TAX"
LUT_SEZ_DEVELOPER = (
    "SUPPLY TO SEZ DEVELOPER FOR AUTHORISED OPERATIONS UNDER BOND OR LETTER OF UNDERTAKING WITHOUT PAYMENT OF "
    "INTEGRATED TAX"
)
IGST_SEZ_UNIT = "SUPPLY TO SEZ UNIT FOR AUTHORISED OPERATIONS ON PAYMENT OF INTEGRATED TAX"
# 1000.00 at 18% and 2 x 250.50 at 5%: taxable 1000.00 + 501.00 = 1501.00;
# IGST 180.00 + 25.05 (501.00 x 5%) = 205.05.
LINES = [line("1000.00", "1", "18"), line("250.50", "2", "5")]


def split(document: dict) -> tuple[str, ...]:
    return tuple(document[name] for name in SPLIT)


class Seller:
    """A tenant (round-off off) with a company in Maharashtra, ready to invoice its customers."""

    def __init__(self, owner: Account, company: dict) -> None:
        self.owner, self.company = owner, company

    @classmethod
    async def make(cls, client, *, registration: str = "regular", registered: bool = True) -> "Seller":
        owner = await make_tenant(client)
        settings = {"round_off_enabled": False, "registration_type": registration}
        response = await client.put(f"{API}/gst-settings", json=settings, headers=owner.headers)
        assert response.status_code == 200, response.text
        if registered:
            return cls(owner, await make_company(client, owner, state=MAHARASHTRA))
        body = {"legal_name": "Asha Freelance Studio", "state_code": MAHARASHTRA}  # no GSTIN: unregistered
        response = await client.post(f"{API}/companies", json=body, headers=owner.headers)
        assert response.status_code == 201, response.text
        return cls(owner, response.json())

    async def foreign(self, client) -> dict:
        """A customer abroad: billing state 96 (Other Countries), no GSTIN."""
        address = {"line1": "Office 1204, Marina Plaza", "city": "Dubai", "state_code": EXPORT}
        return await make_customer(client, self.owner, name="Gulf Traders LLC", billing_address=address)

    async def local(self, client, **fields) -> dict:
        address = {"line1": "14 Station Road", "city": "Pune", "state_code": MAHARASHTRA}
        return await make_customer(client, self.owner, billing_address=address, **fields)

    async def sez(self, client) -> dict:
        """A registered SEZ unit in the seller's own state."""
        body = {"gstin": gstin(MAHARASHTRA, pan="AABCT3518Q"), "is_sez": True}
        return await make_customer(client, self.owner, name="Seepz Electronics", **body)

    async def post(self, client, customer: dict, *lines: dict, **fields):
        body = {"company_id": self.company["id"], "customer_id": customer["id"], "lines": list(lines or LINES)}
        return await client.post(URL, json=body | fields, headers=self.owner.headers)

    async def invoice(self, client, customer: dict, *lines: dict, issue: bool = True, **fields) -> dict:
        response = await self.post(client, customer, *lines, issue=issue, **fields)
        assert response.status_code == 201, response.text
        return response.json()

    async def read(self, client, invoice: dict) -> dict:
        response = await client.get(f"{URL}/{invoice['id']}", headers=self.owner.headers)
        assert response.status_code == 200, response.text
        return response.json()

    async def invoices_of(self, client, customer: dict) -> list[dict]:
        response = await client.get(URL, params={"customer_id": customer["id"]}, headers=self.owner.headers)
        assert response.status_code == 200, response.text
        return response.json()["items"]

    async def balance(self, client, customer: dict) -> str:
        response = await client.get(f"{API}/customers/{customer['id']}", headers=self.owner.headers)
        assert response.status_code == 200, response.text
        return response.json()["balance"]


@pytest.fixture
async def seller(client) -> Seller:
    return await Seller.make(client)


class TestExports:
    async def test_with_payment_of_igst_is_taxed_as_igst_at_the_line_rates(self, client, seller, today):
        customer = await seller.foreign(client)
        shipped = (today + timedelta(days=2)).isoformat()
        invoice = await seller.invoice(
            client,
            customer,
            invoice_date=today.isoformat(),
            tax_treatment="with_payment_of_igst",
            destination_country="AE",
            port_code="innsa1",
            shipping_bill_number="4567123",
            shipping_bill_date=shipped,
        )
        assert (invoice["supply_category"], invoice["tax_treatment"]) == ("export", "with_payment_of_igst")
        assert (invoice["place_of_supply"], invoice["supply_type"]) == (EXPORT, "inter_state")
        assert split(invoice) == ("1501.00", "0.00", "0.00", "0.00", "205.05")
        assert [split(ln) for ln in invoice["lines"]] == [
            ("1000.00", "0.00", "0.00", "0.00", "180.00"),
            ("501.00", "0.00", "0.00", "0.00", "25.05"),
        ]
        assert (invoice["tax_total"], invoice["total"], invoice["balance_due"]) == ("205.05", "1706.05", "1706.05")
        assert (invoice["document_type"], invoice["title"]) == ("tax_invoice", "Tax Invoice")
        assert invoice["endorsement"] == IGST_EXPORT
        details = ("AE", "United Arab Emirates", "INNSA1", "4567123", shipped)
        assert (
            invoice["destination_country"],
            invoice["destination_country_name"],
            *[invoice[name] for name in EXPORT_FIELDS[1:]],
        ) == details
        stored = await seller.read(client, invoice)
        assert {k: stored[k] for k in (*EXPORT_FIELDS, "endorsement", "tax_treatment", *SPLIT)} == {
            k: invoice[k] for k in (*EXPORT_FIELDS, "endorsement", "tax_treatment", *SPLIT)
        }
        assert await seller.balance(client, customer) == "1706.05"

    async def test_under_lut_no_tax_is_charged_and_the_lines_keep_their_rates(self, client, seller):
        customer = await seller.foreign(client)
        invoice = await seller.invoice(client, customer, tax_treatment="under_lut", destination_country="US")
        assert (invoice["supply_category"], invoice["tax_treatment"]) == ("export", "under_lut")
        assert split(invoice) == ("1501.00", "0.00", "0.00", "0.00", "0.00")
        assert (invoice["tax_total"], invoice["total"], invoice["balance_due"]) == ("0.00", "1501.00", "1501.00")
        # The rates stay on the lines: GSTR-1 table 6A reports a zero-rated supply by rate.
        assert [Decimal(ln["gst_rate"]) for ln in invoice["lines"]] == [Decimal(18), Decimal(5)]
        assert [split(ln) for ln in invoice["lines"]] == [
            ("1000.00", "0.00", "0.00", "0.00", "0.00"),
            ("501.00", "0.00", "0.00", "0.00", "0.00"),
        ]
        assert invoice["document_type"] == "tax_invoice"  # zero-rated, not exempt: still a tax invoice
        assert invoice["endorsement"] == LUT_EXPORT
        assert invoice["destination_country_name"] == "United States"
        assert (invoice["port_code"], invoice["shipping_bill_number"], invoice["shipping_bill_date"]) == (None,) * 3

    async def test_a_foreign_customer_makes_an_export_by_default_and_place_96_makes_one_for_anyone(
        self, client, seller
    ):
        abroad = await seller.invoice(client, await seller.foreign(client), destination_country="SG")
        assert (abroad["supply_category"], abroad["tax_treatment"]) == ("export", "with_payment_of_igst")
        # A customer with a Pune address, goods shipped abroad: place of supply 96 names it an export,
        # and so does the category alone (its place of supply follows).
        local = await seller.local(client)
        by_place = await seller.invoice(client, local, place_of_supply=EXPORT, destination_country="SG")
        by_category = await seller.invoice(client, local, supply_category="export", destination_country="SG")
        for invoice in (by_place, by_category):
            assert (invoice["supply_category"], invoice["place_of_supply"]) == ("export", EXPORT)
            assert split(invoice) == ("1501.00", "0.00", "0.00", "0.00", "205.05")  # IGST, not CGST + SGST
        domestic = await seller.invoice(client, local)
        assert (domestic["supply_category"], domestic["tax_treatment"], domestic["endorsement"]) == (
            "regular",
            None,
            None,
        )
        assert split(domestic) == ("1501.00", "102.53", "102.53", "0.00", "0.00")  # 90.00 + 12.53 (12.525) each

    async def test_a_supply_abroad_that_is_not_an_export_stays_regular(self, client, seller):
        """Place of supply outside India without the conditions of an export (say, paid in rupees):
        inter-state and taxed, no endorsement, no destination asked."""
        invoice = await seller.invoice(client, await seller.foreign(client), supply_category="regular")
        assert (invoice["supply_category"], invoice["place_of_supply"], invoice["endorsement"]) == (
            "regular",
            EXPORT,
            None,
        )
        assert split(invoice) == ("1501.00", "0.00", "0.00", "0.00", "205.05")


class TestSez:
    async def test_an_sez_in_the_suppliers_state_is_still_igst(self, client, seller):
        customer = await seller.sez(client)
        invoice = await seller.invoice(client, customer)
        assert (invoice["supply_category"], invoice["tax_treatment"]) == ("sez_unit", "with_payment_of_igst")
        assert (invoice["place_of_supply"], invoice["supply_type"]) == (MAHARASHTRA, "inter_state")
        # Maharashtra to Maharashtra, yet IGST: 180.00 + 25.05, no CGST or SGST.
        assert split(invoice) == ("1501.00", "0.00", "0.00", "0.00", "205.05")
        assert invoice["endorsement"] == IGST_SEZ_UNIT

    async def test_a_developer_under_lut_is_charged_nothing(self, client, seller):
        customer = await seller.sez(client)
        invoice = await seller.invoice(client, customer, supply_category="sez_developer", tax_treatment="under_lut")
        assert (invoice["supply_type"], split(invoice)) == ("inter_state", ("1501.00", "0.00", "0.00", "0.00", "0.00"))
        assert (invoice["tax_total"], invoice["total"]) == ("0.00", "1501.00")
        assert invoice["endorsement"] == LUT_SEZ_DEVELOPER


class TestFrozenAtIssue:
    async def test_a_draft_changes_its_treatment_an_issued_invoice_does_not(self, client, seller):
        customer = await seller.foreign(client)
        draft = await seller.invoice(client, customer, issue=False, destination_country="AE")
        assert draft["tax_total"] == "205.05"
        body = {
            "company_id": seller.company["id"],
            "customer_id": customer["id"],
            "lines": LINES,
            "tax_treatment": "under_lut",
            "destination_country": "QA",
        }
        replaced = await client.put(f"{URL}/{draft['id']}", json=body, headers=seller.owner.headers)
        assert replaced.status_code == 200, replaced.text
        assert (replaced.json()["tax_treatment"], replaced.json()["tax_total"]) == ("under_lut", "0.00")
        issued = await client.post(f"{URL}/{draft['id']}/issue", headers=seller.owner.headers)
        assert issued.status_code == 200, issued.text
        assert (issued.json()["tax_treatment"], issued.json()["destination_country"]) == ("under_lut", "QA")
        assert (issued.json()["total"], issued.json()["endorsement"]) == ("1501.00", LUT_EXPORT)

        again = body | {"tax_treatment": "with_payment_of_igst", "destination_country": "AE"}
        refused = await client.put(f"{URL}/{draft['id']}", json=again, headers=seller.owner.headers)
        assert_problem(refused, 409, "invoice-not-draft")
        stored = await seller.read(client, issued.json())
        assert (stored["tax_treatment"], stored["destination_country"], stored["total"]) == (
            "under_lut",
            "QA",
            "1501.00",
        )
        rows = {row["action"]: row for row in await audit_rows(client, seller.owner, draft["id"])}
        assert rows["invoice.updated"]["before"]["tax_treatment"] == "with_payment_of_igst"
        assert rows["invoice.updated"]["after"]["tax_treatment"] == "under_lut"
        assert rows["invoice.issued"]["after"]["destination_country"] == "QA"

    async def test_an_issued_sez_supply_keeps_its_category_when_the_customer_changes(self, client, seller):
        customer = await seller.sez(client)
        invoice = await seller.invoice(client, customer)
        url = f"{API}/customers/{customer['id']}"
        assert (await client.patch(url, json={"is_sez": False}, headers=seller.owner.headers)).status_code == 200
        stored = await seller.read(client, invoice)
        assert (stored["supply_category"], stored["endorsement"], stored["igst_amount"]) == (
            "sez_unit",
            IGST_SEZ_UNIT,
            "205.05",
        )

    async def test_issuing_checks_the_choice_against_the_parties_as_they_are_then(self, client, seller):
        customer = await seller.sez(client)
        draft = await seller.invoice(client, customer, issue=False)
        url = f"{API}/customers/{customer['id']}"
        assert (await client.patch(url, json={"is_sez": False}, headers=seller.owner.headers)).status_code == 200
        refused = await client.post(f"{URL}/{draft['id']}/issue", headers=seller.owner.headers)
        assert_problem(refused, 422, "customer-not-sez")
        assert (await seller.read(client, draft))["status"] == "draft"
        assert await seller.balance(client, customer) == "0.00"


# (customer kind, body, code, field) of each refusal; today is the invoice date.
REFUSALS = [
    ("foreign", {}, "destination-country-required", "destination_country"),
    ("foreign", {"destination_country": "AE", "reverse_charge": True}, "export-reverse-charge", "reverse_charge"),
    (
        "local",
        {"supply_category": "export", "place_of_supply": MAHARASHTRA, "destination_country": "AE"},
        "export-place-of-supply",
        "place_of_supply",
    ),
    (
        "foreign",
        {"destination_country": "AE", "shipping_bill_number": "1234567"},
        "shipping-bill-incomplete",
        "shipping_bill_date",
    ),
    (
        "foreign",
        {"destination_country": "AE", "shipping_bill_date": 0},
        "shipping-bill-incomplete",
        "shipping_bill_number",
    ),
    (
        "foreign",
        {"destination_country": "AE", "shipping_bill_number": "1234567", "shipping_bill_date": -1},
        "shipping-bill-before-invoice",
        "shipping_bill_date",
    ),
    ("local", {"tax_treatment": "under_lut"}, "tax-treatment-without-zero-rating", "tax_treatment"),
    ("local", {"destination_country": "AE"}, "export-details-not-export", "destination_country"),
    ("sez", {"port_code": "INNSA1"}, "export-details-not-export", "port_code"),
    ("local", {"supply_category": "sez_unit"}, "customer-not-sez", "supply_category"),
    ("sez", {"supply_category": "sez_unit", "place_of_supply": EXPORT}, "sez-place-of-supply", "place_of_supply"),
]
MALFORMED = [
    {"destination_country": "IN"},  # India is not a country of destination
    {"destination_country": "XX"},
    {"destination_country": "EU"},  # a CLDR region, not an ISO 3166 country
    {"destination_country": "ae "},
    {"port_code": "USNYC1"},
    {"port_code": "INNSA12"},
    {"shipping_bill_number": "12345678"},
    {"shipping_bill_number": "12A4"},
    {"supply_category": "deemed_export"},
    {"tax_treatment": "exempt"},
]


class TestShippingBillAfterIssue:
    """PUT /invoices/{id}/shipping-bill: customs gives the bill after the invoice; it changes no tax."""

    async def put(self, client, seller: Seller, invoice: dict, **body):
        return await client.put(f"{URL}/{invoice['id']}/shipping-bill", json=body, headers=seller.owner.headers)

    async def test_an_issued_export_records_it_and_its_pdf_prints_it(self, client, seller, today):
        customer = await seller.foreign(client)
        invoice = await seller.invoice(
            client, customer, invoice_date=today.isoformat(), tax_treatment="under_lut", destination_country="US"
        )
        assert invoice["shipping_bill_number"] is None
        pdf_before = await client.get(f"{URL}/{invoice['id']}/pdf", headers=seller.owner.headers)
        shipped = (today + timedelta(days=3)).isoformat()
        response = await self.put(
            client, seller, invoice, shipping_bill_number="7654321", shipping_bill_date=shipped, port_code="inmaa1"
        )
        assert response.status_code == 200, response.text
        recorded = response.json()
        assert [recorded[name] for name in EXPORT_FIELDS] == ["US", "INMAA1", "7654321", shipped]
        assert split(recorded) == split(invoice) and recorded["total"] == invoice["total"]  # no tax moves
        assert (await seller.read(client, invoice))["shipping_bill_number"] == "7654321"
        [row] = [r for r in await audit_rows(client, seller.owner, invoice["id"]) if "shipping_bill" in r["action"]]
        assert row["before"]["shipping_bill_number"] is None and row["after"]["shipping_bill_number"] == "7654321"
        pdf = await client.get(f"{URL}/{invoice['id']}/pdf", headers=seller.owner.headers)
        assert pdf.headers["etag"] != pdf_before.headers["etag"]
        text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
        assert "7654321" in text and "INMAA1" in text

        corrected = await self.put(client, seller, invoice, shipping_bill_number="7654322", shipping_bill_date=shipped)
        assert corrected.status_code == 200 and corrected.json()["port_code"] == "INMAA1"  # port kept

    async def test_refusals_leave_the_invoice_as_it_was(self, client, seller, today):
        customer = await seller.foreign(client)
        invoice = await seller.invoice(client, customer, invoice_date=today.isoformat(), destination_country="AE")
        before = (today - timedelta(days=1)).isoformat()
        bill = {"shipping_bill_number": "1234567", "shipping_bill_date": today.isoformat()}
        assert_problem(
            await self.put(client, seller, invoice, shipping_bill_number="1234567", shipping_bill_date=before),
            422,
            "shipping-bill-before-invoice",
        )
        assert_problem(await self.put(client, seller, invoice, shipping_bill_number="1234567"), 422)
        assert_problem(await self.put(client, seller, invoice, **bill, port_code="MUMBAI"), 422)
        draft = await seller.invoice(client, customer, issue=False, destination_country="AE")
        assert_problem(await self.put(client, seller, draft, **bill), 409, "invoice-is-draft")
        local = await seller.invoice(client, await seller.local(client))
        assert_problem(await self.put(client, seller, local, **bill), 422, "export-details-not-export")
        void = await client.post(f"{URL}/{invoice['id']}/void", json={"reason": "Wrong"}, headers=seller.owner.headers)
        assert void.status_code == 200, void.text
        assert_problem(await self.put(client, seller, invoice, **bill), 409, "invoice-already-void")
        assert (await seller.read(client, invoice))["shipping_bill_number"] is None
        other = await make_tenant(client)
        missing = await client.put(f"{URL}/{invoice['id']}/shipping-bill", json=bill, headers=other.headers)
        assert_problem(missing, 404)


class TestRefusals:
    @pytest.mark.parametrize(("kind", "fields", "code", "field"), REFUSALS)
    async def test_each_is_a_422_naming_the_field_and_nothing_is_written(
        self, client, seller, today, kind, fields, code, field
    ):
        customer = await getattr(seller, kind)(client)
        for name in ("shipping_bill_date",):
            if isinstance(fields.get(name), int):
                fields = fields | {name: (today + timedelta(days=fields[name])).isoformat()}
        for issue in (False, True):
            response = await seller.post(client, customer, invoice_date=today.isoformat(), issue=issue, **fields)
            body = assert_problem(response, 422, code)
            assert body["errors"][0]["loc"] == ["body", field]
        assert await seller.invoices_of(client, customer) == []
        assert await seller.balance(client, customer) == "0.00"

    async def test_a_shipping_bill_is_dated_within_the_window_of_any_document(self, client, seller, today):
        customer = await seller.foreign(client)
        far = {"shipping_bill_number": "1234567", "shipping_bill_date": "2999-01-01", "destination_country": "AE"}
        response = await seller.post(client, customer, invoice_date=today.isoformat(), **far)
        assert assert_problem(response, 400, "document-date-too-late")["errors"][0]["loc"] == [
            "body",
            "shipping_bill_date",
        ]
        assert await seller.invoices_of(client, customer) == []

    @pytest.mark.parametrize("fields", MALFORMED)
    async def test_malformed_details_are_refused_by_the_schema(self, client, seller, fields):
        customer = await seller.foreign(client)
        response = await seller.post(client, customer, issue=True, **({"destination_country": "AE"} | fields))
        body = assert_problem(response, 422, "validation-error")
        assert body["errors"][0]["loc"][:2] == ["body", next(iter(fields))]
        assert await seller.invoices_of(client, customer) == []

    @pytest.mark.parametrize(
        ("registration", "registered"),
        [("composition", True), ("regular", False)],
        ids=["composition", "unregistered"],
    )
    async def test_only_a_regular_taxpayer_makes_zero_rated_supplies(self, client, registration, registered):
        seller = await Seller.make(client, registration=registration, registered=registered)
        customer = await seller.foreign(client)
        zero = line("1000.00", "1", "0")
        response = await seller.post(
            client, customer, zero, supply_category="export", destination_country="AE", issue=True
        )
        assert assert_problem(response, 422, "zero-rated-supply-not-allowed")["errors"][0]["loc"] == [
            "body",
            "supply_category",
        ]
        assert await seller.invoices_of(client, customer) == []
        # Left to its parties, such a supplier's bill to a customer abroad is a bill of supply, as ever.
        bill = await seller.invoice(client, customer, zero)
        assert (bill["supply_category"], bill["document_type"], bill["endorsement"]) == (
            "regular",
            "bill_of_supply",
            None,
        )


class TestCreditNotes:
    async def credit(self, client, seller: Seller, invoice: dict, **body) -> dict:
        body = {"invoice_id": invoice["id"], "reason": "Goods returned", **body}
        response = await client.post(f"{API}/credit-notes", json=body, headers=seller.owner.headers)
        assert response.status_code == 201, response.text
        return response.json()

    async def test_a_note_against_an_lut_export_carries_no_tax(self, client, seller):
        customer = await seller.foreign(client)
        invoice = await seller.invoice(client, customer, tax_treatment="under_lut", destination_country="US")
        part = await self.credit(
            client, seller, invoice, lines=[{"invoice_line_id": invoice["lines"][0]["id"], "taxable_value": "400.00"}]
        )
        assert split(part) == ("400.00", "0.00", "0.00", "0.00", "0.00")
        assert (part["tax_total"], part["total"]) == ("0.00", "400.00")
        assert part["lines"][0]["igst_amount"] == "0.00"
        rest = await self.credit(
            client, seller, invoice, lines=[{"invoice_line_id": invoice["lines"][1]["id"], "quantity": "2"}]
        )
        assert split(rest) == ("501.00", "0.00", "0.00", "0.00", "0.00")
        assert await seller.balance(client, customer) == "600.00"  # 1501.00 - 400.00 - 501.00

    async def test_a_full_note_against_an_igst_export_repeats_its_igst(self, client, seller):
        invoice = await seller.invoice(client, await seller.foreign(client), destination_country="US")
        note = await self.credit(client, seller, invoice, full=True)
        assert split(note) == split(invoice) == ("1501.00", "0.00", "0.00", "0.00", "205.05")
        assert note["total"] == invoice["total"] == "1706.05"
