"""GSTR-1 through HTTP: where each kind of supply goes, the GSTN JSON checked against the JSON Schema
of the sections (tests/api/v1/gstr1.schema.json), the offline tool's sheets, the summary, and the
refusals. The seller is in Maharashtra (27) with round-off off, so totals are exact sums; every
expected amount is worked out by hand beside it."""

import io
import json
import threading
from datetime import date
from decimal import Decimal
from pathlib import Path

import jsonschema
import pytest
from openpyxl import load_workbook

from app.services.billing import gstr1_xlsx
from tests.api.v1.http_checks import assert_problem
from tests.api.v1.invoicing import gstin, line, make_company, make_customer
from tests.api.v1.product_rows import make_product
from tests.factories import API, make_tenant

SCHEMA = json.loads((Path(__file__).parent / "gstr1.schema.json").read_text(), parse_float=Decimal)
URL = f"{API}/gst/gstr1"
KARNATAKA, MAHARASHTRA, EXPORT = "29", "27", "96"


def validate(body: bytes) -> dict:
    """The answer parsed with exact decimals (so multipleOf 0.01 is checked exactly) and validated."""
    document = json.loads(body, parse_float=Decimal)
    jsonschema.Draft202012Validator(SCHEMA, format_checker=jsonschema.FormatChecker()).validate(document)
    return document


def period_of(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def gstn_date(day: date) -> str:
    return day.strftime("%d-%m-%Y")


class Seller:
    def __init__(self, owner, company) -> None:
        self.owner, self.company = owner, company

    @classmethod
    async def make(cls, client, *, business_name: str = "Sharma Traders") -> "Seller":
        owner = await make_tenant(client, business_name=business_name)
        settings = {"round_off_enabled": False, "registration_type": "regular"}
        response = await client.put(f"{API}/gst-settings", json=settings, headers=owner.headers)
        assert response.status_code == 200, response.text
        return cls(owner, await make_company(client, owner, state=MAHARASHTRA))

    async def customer(self, client, state: str, *, registered: bool = False, **fields) -> dict:
        address = {"line1": "1 MG Road", "city": "Town", "state_code": state}
        if registered:
            fields.setdefault("gstin", gstin(state, pan="AABCT3518Q"))
        return await make_customer(client, self.owner, billing_address=address, **fields)

    async def invoice(self, client, customer: dict, *lines: dict, **fields) -> dict:
        body = {"company_id": self.company["id"], "customer_id": customer["id"], "lines": list(lines), "issue": True}
        response = await client.post(f"{API}/invoices", json=body | fields, headers=self.owner.headers)
        assert response.status_code == 201, response.text
        return response.json()

    async def credit(self, client, invoice: dict, **body) -> dict:
        body = {"invoice_id": invoice["id"], "reason": "Goods returned"} | body
        response = await client.post(f"{API}/credit-notes", json=body, headers=self.owner.headers)
        assert response.status_code == 201, response.text
        return response.json()

    async def void(self, client, invoice: dict) -> None:
        response = await client.post(
            f"{API}/invoices/{invoice['id']}/void", json={"reason": "Wrong customer"}, headers=self.owner.headers
        )
        assert response.status_code == 200, response.text

    async def gstr1(self, client, period: str, **params):
        query = {"company_id": self.company["id"], "period": period, **params}
        return await client.get(URL, params=query, headers=self.owner.headers)


def one(items: list[dict], **match) -> dict:
    found = [item for item in items if all(item.get(k) == v for k, v in match.items())]
    assert len(found) == 1, (match, items)
    return found[0]


class TestSections:
    async def test_every_kind_of_supply_lands_in_its_section_and_the_json_is_valid(self, client, today):
        seller = await Seller.make(client)
        registered = await seller.customer(client, KARNATAKA, registered=True, name="Karnataka Traders")
        local = await seller.customer(client, MAHARASHTRA)
        far = await seller.customer(client, KARNATAKA)
        sez = await seller.customer(client, MAHARASHTRA, gstin=gstin(MAHARASHTRA, pan="AAPFU0939F"), is_sez=True)
        abroad = await seller.customer(client, EXPORT, name="Gulf Traders LLC")
        kilos = await make_product(
            client,
            seller.owner,
            hsn_code="10063010",
            unit="KGS",
            sale_price="100.00",
            price_includes_tax=False,
            gst_rate="5",
            track_stock=False,
        )

        # B2B, inter-state: 1000 @ 18% -> IGST 180; a nil-rated line of 200 -> nil INTRB2B.
        b2b = await seller.invoice(
            client, registered, line("1000.00"), line("200.00", gst_rate="0", hsn_sac="10019910")
        )
        # SEZ under LUT: no tax, inv_typ SEWOP.
        sez_invoice = await seller.invoice(
            client, sez, line("500.00"), supply_category="sez_unit", tax_treatment="under_lut"
        )
        # B2CL: inter-state, unregistered, 1,50,000 + 18% = 1,77,000 > 1,00,000.
        large = await seller.invoice(client, far, line("150000.00"))
        # B2CS inter-state below the threshold: 2.5 kg at 100 + 5% -> 250 + IGST 12.50.
        small_far = await seller.invoice(client, far, {"product_id": kilos["id"], "quantity": "2.5"})
        # B2CS intra-state: 400 @ 18% -> CGST 36 + SGST 36.
        small_local = await seller.invoice(client, local, line("400.00"))
        # Exports: with payment of IGST (WPAY) and under LUT (WOPAY, with a shipping bill).
        exported = await seller.invoice(
            client,
            abroad,
            line("2000.00"),
            supply_category="export",
            tax_treatment="with_payment_of_igst",
            destination_country="AE",
        )
        lut = await seller.invoice(
            client,
            abroad,
            line("3000.00"),
            supply_category="export",
            tax_treatment="under_lut",
            destination_country="AE",
            port_code="INNSA1",
            shipping_bill_number="1234567",
            shipping_bill_date=today.isoformat(),
        )
        # A voided invoice: only doc_issue's cancelled count.
        voided = await seller.invoice(client, local, line("999.00"))
        await seller.void(client, voided)
        # Credit notes: against B2B -> cdnr; against B2CL -> cdnur B2CL; against B2CS -> netted in b2cs.
        note_b2b = await seller.credit(
            client, b2b, lines=[{"invoice_line_id": b2b["lines"][0]["id"], "taxable_value": "100.00"}]
        )
        note_large = await seller.credit(client, large, full=True)
        await seller.credit(
            client, small_local, lines=[{"invoice_line_id": small_local["lines"][0]["id"], "taxable_value": "100.00"}]
        )

        response = await seller.gstr1(client, period_of(today))
        assert response.status_code == 200, response.text
        data = validate(response.content)
        assert data["gstin"] == seller.company["gstin"] and data["fp"] == f"{today.month:02d}{today.year}"

        customer_b2b = one(data["b2b"], ctin=registered["gstin"])["inv"]
        row = one(customer_b2b, inum=b2b["number"])
        assert row["idt"] == gstn_date(today) and row["pos"] == KARNATAKA and row["inv_typ"] == "R"
        assert row["val"] == Decimal(b2b["total"]) == Decimal("1380.00") and row["rchrg"] == "N"
        assert row["itms"] == [
            {"num": 1, "itm_det": {"rt": 18, "txval": 1000, "iamt": 180, "camt": 0, "samt": 0, "csamt": 0}}
        ]
        sez_row = one(one(data["b2b"], ctin=sez["gstin"])["inv"], inum=sez_invoice["number"])
        assert sez_row["inv_typ"] == "SEWOP" and sez_row["itms"][0]["itm_det"]["iamt"] == 0

        assert data["b2cl"] == [
            {
                "pos": KARNATAKA,
                "inv": [
                    {
                        "inum": large["number"],
                        "idt": gstn_date(today),
                        "val": 177000,
                        "itms": [{"num": 1, "itm_det": {"rt": 18, "txval": 150000, "iamt": 27000, "csamt": 0}}],
                    }
                ],
            }
        ]
        # The local B2CS invoice's 400 less the credit note's 100: 300, CGST/SGST 27 each.
        assert sorted(data["b2cs"], key=lambda r: r["sply_ty"]) == [
            {
                "sply_ty": "INTER",
                "pos": KARNATAKA,
                "typ": "OE",
                "rt": 5,
                "txval": 250,
                "iamt": Decimal("12.5"),
                "csamt": 0,
            },
            {
                "sply_ty": "INTRA",
                "pos": MAHARASHTRA,
                "typ": "OE",
                "rt": 18,
                "txval": 300,
                "camt": 27,
                "samt": 27,
                "csamt": 0,
            },
        ]
        assert small_far["total"] == "262.50"
        exp = {group["exp_typ"]: group["inv"] for group in data["exp"]}
        assert exp["WPAY"] == [
            {
                "inum": exported["number"],
                "idt": gstn_date(today),
                "val": 2360,
                "itms": [{"rt": 18, "txval": 2000, "iamt": 360, "csamt": 0}],
            }
        ]
        assert exp["WOPAY"] == [
            {
                "inum": lut["number"],
                "idt": gstn_date(today),
                "val": 3000,
                "sbpcode": "INNSA1",
                "sbnum": "1234567",
                "sbdt": gstn_date(today),
                "itms": [{"rt": 18, "txval": 3000, "iamt": 0, "csamt": 0}],
            }
        ]

        assert data["cdnr"] == [
            {
                "ctin": registered["gstin"],
                "nt": [
                    {
                        "ntty": "C",
                        "nt_num": note_b2b["number"],
                        "nt_dt": gstn_date(today),
                        "val": 118,
                        "pos": KARNATAKA,
                        "rchrg": "N",
                        "inv_typ": "R",
                        "itms": [
                            {
                                "num": 1,
                                "itm_det": {"rt": 18, "txval": 100, "iamt": 18, "camt": 0, "samt": 0, "csamt": 0},
                            }
                        ],
                    }
                ],
            }
        ]
        assert data["cdnur"] == [
            {
                "typ": "B2CL",
                "ntty": "C",
                "nt_num": note_large["number"],
                "nt_dt": gstn_date(today),
                "val": 177000,
                "pos": KARNATAKA,
                "itms": [{"num": 1, "itm_det": {"rt": 18, "txval": 150000, "iamt": 27000, "csamt": 0}}],
            }
        ]
        assert data["nil"] == {"inv": [{"sply_ty": "INTRB2B", "nil_amt": 200, "expt_amt": 0, "ngsup_amt": 0}]}

        hsn_b2c = data["hsn"]["hsn_b2c"]
        rice = one(hsn_b2c, hsn_sc="10063010")
        assert (rice["uqc"], rice["qty"], rice["txval"], rice["iamt"]) == ("KGS", Decimal("2.5"), 250, Decimal("12.5"))
        # Services (SAC 99...) carry no quantity: UQC NA. B2C consulting at 18%: 150000 - 150000 (credited)
        # + 400 - 100 + 2000 + 3000 (exports count as B2C) = 5300.
        consulting = one(hsn_b2c, hsn_sc="998311", rt=18)
        assert (consulting["uqc"], consulting["qty"], consulting["txval"]) == ("NA", 0, 5300)
        consulting_b2b = one(data["hsn"]["hsn_b2b"], hsn_sc="998311", rt=18)
        assert consulting_b2b["txval"] == 1000 - 100 + 500

        docs = {entry["doc_num"]: entry["docs"] for entry in data["doc_issue"]["doc_det"]}
        (invoices,) = docs[1]
        assert invoices["totnum"] == 8 and invoices["cancel"] == 1 and invoices["net_issue"] == 7
        assert invoices["from"] == b2b["number"] and invoices["to"] == voided["number"]
        (notes,) = docs[5]
        assert notes["totnum"] == 3 and notes["cancel"] == 0
        assert voided["number"] not in json.dumps(data["b2cs"], default=str)

        summary = await client.get(
            f"{URL}/summary",
            params={"company_id": seller.company["id"], "period": period_of(today)},
            headers=seller.owner.headers,
        )
        assert summary.status_code == 200, summary.text
        body = summary.json()
        assert body["balanced"] is True
        sections = {row["section"]: row for row in body["sections"]}
        assert sections["b2cl"]["taxable_value"] == "150000.00" and sections["cdnur"]["sign"] == -1
        assert sections["nil"]["taxable_value"] == "200.00" and sections["b2cs"]["documents"] == 2
        register = body["sales_register"]
        assert register["invoices"]["documents"] == 7 and register["credit_notes"]["documents"] == 3

    async def test_the_b2cl_threshold_is_strictly_above_the_amount_in_force(self, client, today):
        seller = await Seller.make(client)
        far = await seller.customer(client, KARNATAKA)
        # 84,745.77 + 18% (15,254.24) = 1,00,000.01: above ₹1,00,000, B2CL; 84,745.76 + 15,254.24 = exactly
        # 1,00,000.00: not above it, B2CS.
        above = await seller.invoice(client, far, line("84745.77"))
        below = await seller.invoice(client, far, line("84745.76"))
        assert (above["total"], below["total"]) == ("100000.01", "100000.00")
        data = validate((await seller.gstr1(client, period_of(today))).content)
        assert [invoice["inum"] for group in data["b2cl"] for invoice in group["inv"]] == [above["number"]]
        assert data["b2cs"][0]["txval"] == Decimal("84745.76")

    async def test_a_month_with_nothing_is_a_valid_empty_return(self, client, today):
        seller = await Seller.make(client)
        response = await seller.gstr1(client, period_of(today))
        assert validate(response.content) == {
            "gstin": seller.company["gstin"],
            "fp": f"{today.month:02d}{today.year}",
            "version": "GST3.2",
            "hash": "hash",
        }


class TestWorkbook:
    async def test_the_offline_tool_sheets_with_formulas_neutralised(self, client, today):
        seller = await Seller.make(client)
        evil = await seller.customer(client, KARNATAKA, registered=True, name='=HYPERLINK("http://x","y")')
        invoice = await seller.invoice(client, evil, line("1000.00"), line("500.00", gst_rate="5"))
        response = await seller.gstr1(client, period_of(today), format="xlsx")
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith(
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
        month = f"{today.month:02d}{today.year}"
        assert f'filename="GSTR1_{seller.company["gstin"]}_{month}.xlsx"' in response.headers["content-disposition"]
        book = load_workbook(io.BytesIO(response.content))
        assert book.sheetnames == [
            "b2b,sez,de",
            "b2cl",
            "b2cs",
            "cdnr",
            "cdnur",
            "exp",
            "exemp",
            "hsn(b2b)",
            "hsn(b2c)",
            "docs",
        ]
        rows = list(book["b2b,sez,de"].iter_rows(min_row=4, values_only=True))
        assert rows[0][:5] == (
            "GSTIN/UIN of Recipient",
            "Receiver Name",
            "Invoice Number",
            "Invoice date",
            "Invoice Value",
        )
        assert len(rows) == 3  # headings + one row per rate
        first = rows[1]
        assert first[0] == evil["gstin"]
        assert first[1] == '\'=HYPERLINK("http://x","y")'  # text, not a formula
        assert first[2] == invoice["number"] and first[3].date() == today
        assert first[4] == pytest.approx(1705.00) and first[5] == "29-Karnataka" and first[8] == "Regular B2B"
        assert [(row[10], row[11]) for row in rows[1:]] == [(5, 500), (18, 1000)]
        cell = book["b2b,sez,de"].cell(row=5, column=2)
        assert cell.data_type == "s"
        hsn = list(book["hsn(b2b)"].iter_rows(min_row=5, values_only=True))
        assert [(row[0], row[2], row[4], row[5], row[6], row[7]) for row in hsn] == [
            ("998311", "NA", 525, 5, 500, 25),
            ("998311", "NA", 1180, 18, 1000, 180),
        ]
        assert list(book["hsn(b2c)"].iter_rows(min_row=5, values_only=True)) == []
        docs = list(book["docs"].iter_rows(min_row=5, values_only=True))
        assert docs == [("Invoices for outward supply", invoice["number"], invoice["number"], 1, 0)]


class TestWorkbookOffTheLoop:
    async def test_the_sheets_are_built_off_the_event_loop(self, client, app, monkeypatch, today):
        """Writing the sheets is CPU work (seconds for a month of 10,000 invoices): like a PDF, it runs
        on the bounded CPU pool (app/core/cpu_work.py), not on the thread serving every request."""
        seller = await Seller.make(client)
        await seller.invoice(client, await seller.customer(client, KARNATAKA, registered=True), line("1000.00"))
        threads: list[str] = []
        original = gstr1_xlsx.workbook

        def recording(result):
            threads.append(threading.current_thread().name)
            return original(result)

        monkeypatch.setattr(gstr1_xlsx, "workbook", recording)
        # on threads, so that the recording runs here (a process pool's worker would run its own copy)
        monkeypatch.setattr(app.state.runtime.settings, "pdf_render_pool", "thread")
        response = await seller.gstr1(client, period_of(today), format="xlsx")
        assert response.status_code == 200, response.text
        assert load_workbook(io.BytesIO(response.content)).sheetnames[0] == "b2b,sez,de"
        assert threads and threading.main_thread().name not in threads, threads


class TestRefusals:
    async def test_only_the_callers_companies_and_sane_periods(self, client, today):
        seller, other = await Seller.make(client), await Seller.make(client, business_name="Other Co")
        period = period_of(today)
        foreign = await client.get(
            URL, params={"company_id": other.company["id"], "period": period}, headers=seller.owner.headers
        )
        assert_problem(foreign, 404, "company-not-found")
        summary = await client.get(
            f"{URL}/summary",
            params={"company_id": other.company["id"], "period": period},
            headers=seller.owner.headers,
        )
        assert_problem(summary, 404, "company-not-found")
        following = date(today.year + today.month // 12, today.month % 12 + 1, 1)
        assert_problem(await seller.gstr1(client, period_of(following)), 400, "gstr1-period-in-future")
        assert_problem(await seller.gstr1(client, "2017-06"), 400, "gstr1-period-before-gst")
        assert_problem(await seller.gstr1(client, "0000-01"), 400, "gstr1-period-before-gst")
        assert_problem(await seller.gstr1(client, "9999-12"), 400, "gstr1-period-in-future")
        assert (await seller.gstr1(client, "2017-07")).status_code == 200
        for bad in ("2026-13", "2026-1", "26-11", "2026-11-01", ""):
            assert_problem(await seller.gstr1(client, bad), 422)
        assert_problem(await seller.gstr1(client, period, format="pdf"), 422)

    async def test_a_company_without_a_gstin_files_no_gstr1(self, client, today):
        seller = await Seller.make(client)
        body = {"legal_name": "Asha Freelance Studio", "state_code": MAHARASHTRA}
        response = await client.post(f"{API}/companies", json=body, headers=seller.owner.headers)
        assert response.status_code == 201, response.text
        refused = await client.get(
            URL, params={"company_id": response.json()["id"], "period": period_of(today)}, headers=seller.owner.headers
        )
        assert_problem(refused, 400, "gstr1-company-unregistered")


class TestThresholdInForce:
    async def test_b2cl_follows_the_threshold_of_each_invoice_date(self, client):
        """₹2,50,000 until 31 Jul 2024 and ₹1,00,000 from 1 Aug 2024 (gst_thresholds): the same
        1,77,000 invoice is B2CS on 31 July and B2CL on 1 August."""
        seller = await Seller.make(client)
        far = await seller.customer(client, KARNATAKA)
        july = await seller.invoice(client, far, line("150000.00"), invoice_date="2024-07-31")
        august = await seller.invoice(client, far, line("150000.00"), invoice_date="2024-08-01")
        before = validate((await seller.gstr1(client, "2024-07")).content)
        assert "b2cl" not in before
        assert before["b2cs"] == [
            {"sply_ty": "INTER", "pos": KARNATAKA, "typ": "OE", "rt": 18, "txval": 150000, "iamt": 27000, "csamt": 0}
        ]
        after = validate((await seller.gstr1(client, "2024-08")).content)
        assert "b2cs" not in after
        assert [invoice["inum"] for group in after["b2cl"] for invoice in group["inv"]] == [august["number"]]
        assert before["doc_issue"]["doc_det"][0]["docs"][0]["from"] == july["number"]


class TestComposition:
    async def test_a_composition_periods_bills_are_excluded_but_counted(self, client, today):
        seller = await Seller.make(client)
        response = await client.put(
            f"{API}/gst-settings", json={"registration_type": "composition"}, headers=seller.owner.headers
        )
        assert response.status_code == 200, response.text
        bill = await seller.invoice(client, await seller.customer(client, MAHARASHTRA), line("500.00", gst_rate="0"))
        assert bill["document_type"] == "bill_of_supply"
        data = validate((await seller.gstr1(client, period_of(today))).content)
        assert set(data) == {"gstin", "fp", "version", "hash", "doc_issue"}  # in no section, not even hsn
        summary = await client.get(
            f"{URL}/summary",
            params={"company_id": seller.company["id"], "period": period_of(today)},
            headers=seller.owner.headers,
        )
        body = summary.json()
        assert body["excluded"]["documents"] == 1 and body["excluded"]["taxable_value"] == "500.00"
        assert body["net_of_sections"]["taxable_value"] == "0.00" and body["balanced"] is True


def month_before(day: date) -> date:
    """The last day of the month before `day`'s."""
    return date.fromordinal(day.replace(day=1).toordinal() - 1)


class TestCreditNotesOfEarlierMonths:
    async def test_a_credit_note_follows_its_own_date_and_keeps_the_goods_uqc(self, client, today):
        """Credit notes dated this month against last month's invoices are this month's (cdnr, cdnur,
        b2cs netted), and the HSN summary subtracts the returned goods in their product's UQC (KGS),
        not under OTH (the invoice's lines are not among this month's)."""
        seller = await Seller.make(client)
        registered = await seller.customer(client, KARNATAKA, registered=True)
        far = await seller.customer(client, KARNATAKA)
        local = await seller.customer(client, MAHARASHTRA)
        rice = await make_product(
            client,
            seller.owner,
            hsn_code="10063010",
            unit="KGS",
            sale_price="100.00",
            price_includes_tax=False,
            gst_rate="5",
            track_stock=False,
        )
        earlier = month_before(today).isoformat()
        sold = await seller.invoice(client, local, {"product_id": rice["id"], "quantity": "10"}, invoice_date=earlier)
        b2b = await seller.invoice(client, registered, line("1000.00"), invoice_date=earlier)
        large = await seller.invoice(client, far, line("150000.00"), invoice_date=earlier)
        returned = await seller.credit(
            client, sold, lines=[{"invoice_line_id": sold["lines"][0]["id"], "quantity": "4"}]
        )
        note_b2b = await seller.credit(client, b2b, full=True)
        note_large = await seller.credit(client, large, full=True)
        assert returned["credit_note_date"] == today.isoformat()

        data = validate((await seller.gstr1(client, period_of(today))).content)
        assert [note["nt_num"] for party in data["cdnr"] for note in party["nt"]] == [note_b2b["number"]]
        assert [(note["typ"], note["nt_num"]) for note in data["cdnur"]] == [("B2CL", note_large["number"])]
        assert data["b2cs"] == [
            {
                "sply_ty": "INTRA",
                "pos": MAHARASHTRA,
                "typ": "OE",
                "rt": 5,
                "txval": -400,
                "camt": -10,
                "samt": -10,
                "csamt": 0,
            }
        ]
        (goods,) = [row for row in data["hsn"]["hsn_b2c"] if row["hsn_sc"] == "10063010"]
        assert (goods["uqc"], goods["qty"], goods["txval"]) == ("KGS", -4, -400)
        before = validate((await seller.gstr1(client, period_of(month_before(today)))).content)
        assert "cdnr" not in before and "cdnur" not in before


class TestDocumentSeries:
    async def test_a_series_numbered_before_its_year_is_one_row_from_first_to_last(self, client, today):
        """`{seq:03}/{fy}` (001/26-27, the common Indian style) numbers one series: doc_issue has one
        row from its first to its last number, not one row per invoice (its numbers do not end with
        the sequence)."""
        seller = await Seller.make(client)
        settings = {"invoice_number_pattern": "{seq:03}/{fy}", "credit_note_number_pattern": "CN{seq}-{fy}"}
        response = await client.put(f"{API}/gst-settings", json=settings, headers=seller.owner.headers)
        assert response.status_code == 200, response.text
        local = await seller.customer(client, MAHARASHTRA)
        invoices = [await seller.invoice(client, local, line("100.00")) for _ in range(3)]
        await seller.void(client, invoices[1])
        notes = [await seller.credit(client, invoices[i], full=True) for i in (0, 2)]
        assert invoices[0]["number"].startswith("001/") and notes[0]["number"].startswith("CN1-")
        data = validate((await seller.gstr1(client, period_of(today))).content)
        docs = {entry["doc_num"]: entry["docs"] for entry in data["doc_issue"]["doc_det"]}
        assert docs[1] == [
            {
                "num": 1,
                "from": invoices[0]["number"],
                "to": invoices[2]["number"],
                "totnum": 3,
                "cancel": 1,
                "net_issue": 2,
            }
        ]
        assert docs[5] == [
            {"num": 1, "from": notes[0]["number"], "to": notes[1]["number"], "totnum": 2, "cancel": 0, "net_issue": 2}
        ]


class TestSezRecipient:
    async def test_an_sez_supply_needs_the_sez_units_gstin(self, client, today):
        """GSTR-1 table 6B / b2b SEWP-SEWOP names the SEZ unit by its GSTIN (ctin): a zero-rated supply
        to an SEZ customer without one is refused at issue, not reported with an empty ctin."""
        seller = await Seller.make(client)
        sez = await seller.customer(client, MAHARASHTRA, is_sez=True)
        body = {"company_id": seller.company["id"], "customer_id": sez["id"], "lines": [line("100.00")], "issue": True}
        for fields in ({"supply_category": "sez_unit", "tax_treatment": "under_lut"}, {}):
            refused = await client.post(f"{API}/invoices", json=body | fields, headers=seller.owner.headers)
            assert_problem(refused, 422, "sez-recipient-unregistered")
        data = validate((await seller.gstr1(client, period_of(today))).content)
        assert "b2b" not in data
