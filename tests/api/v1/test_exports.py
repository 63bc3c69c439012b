"""Spreadsheet exports through HTTP: CSV (UTF-8 BOM) and XLSX files whose cells are read back,
formula injection neutralised in both formats (a customer named `=HYPERLINK(...)`) while amounts
stay numbers, one row per line with lines=true, the filters (status, company, dates), and the
refusals (bad range, another tenant's company or customer: 404)."""

import asyncio
import csv
import io
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from app.services.documents.export_formats import RUPEES, Column, XlsxWriter, csv_value, neutralise, xlsx_value
from app.services.documents.exports import EXPORTS, MAX_SPAN_DAYS
from tests.api.v1.http_checks import assert_problem
from tests.api.v1.invoicing import Party, gstin, line, make_company, make_customer
from tests.api.v1.stock_rows import make_product
from tests.factories import API, make_tenant

EVIL = '=HYPERLINK("http://x","y")'
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def csv_rows(response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"].startswith("attachment;")
    assert response.content.startswith(b"\xef\xbb\xbf")  # the BOM: Excel then reads UTF-8
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))


def xlsx_rows(response) -> tuple[list[str], list[list]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == XLSX
    sheet = load_workbook(io.BytesIO(response.content)).active
    header, *rows = [list(row) for row in sheet.iter_rows()]
    return [cell.value for cell in header], rows


@pytest.fixture
async def party(client) -> Party:
    account = await make_tenant(client)
    company = await make_company(client, account)
    customer = await make_customer(client, account, name=EVIL, billing_address={"state_code": "29"})
    return Party(account, company, customer)


class TestNeutralising:
    @pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
    def test_a_text_starting_like_a_formula_gets_a_quote(self, start):
        assert neutralise(f"{start}1+1") == f"'{start}1+1"

    def test_other_text_and_numbers_are_left_alone(self):
        assert neutralise("Sharma = Sons") == "Sharma = Sons"
        assert csv_value(Decimal("-12.50"), "money") == "-12.50"  # a number, not text: stays as is
        assert csv_value("-12.50", "text") == "'-12.50"

    def test_xlsx_drops_control_characters_before_checking(self):
        writer = XlsxWriter("t", [Column("a", "A")])
        assert xlsx_value(writer.sheet, writer.styles, "\x01=1+1", "text") == "'=1+1"
        writer.close()


async def test_invoices_csv_one_row_per_invoice_or_per_line(client, party, today):
    two_lines = await party.invoice(client, line("1000.00"), line("250.50", "2", "5"))
    draft = await party.invoice(client, issue=False)
    headers = party.account.headers

    rows = csv_rows(await client.get(f"{API}/invoices/export", headers=headers))
    assert [r["Invoice id"] for r in rows] == [two_lines["id"], draft["id"]]  # oldest first
    by_id = {r["Invoice id"]: r for r in rows}
    issued = by_id[two_lines["id"]]
    assert issued["Customer"] == "'" + EVIL  # neutralised: a spreadsheet shows it, never runs it
    assert issued["Invoice number"] == two_lines["number"]
    assert issued["Invoice date"] == two_lines["invoice_date"] == today.isoformat()
    assert (issued["Total"], issued["Taxable value"]) == (two_lines["total"], two_lines["taxable_value"])
    assert issued["Status"] == "issued" and by_id[draft["id"]]["Status"] == "draft"
    assert list(rows[0]) == [c.header for c in EXPORTS["invoices"].columns]

    lines = csv_rows(await client.get(f"{API}/invoices/export", params={"lines": "true"}, headers=headers))
    mine = [r for r in lines if r["Invoice id"] == two_lines["id"]]
    assert [(r["Line"], r["Line total"], r["GST rate %"]) for r in mine] == [
        ("1", two_lines["lines"][0]["total"], "18.00"),
        ("2", two_lines["lines"][1]["total"], "5.00"),
    ]
    assert {r["Total"] for r in mine} == {two_lines["total"]}  # the invoice's columns on each line

    only_issued = csv_rows(await client.get(f"{API}/invoices/export", params={"status": "issued"}, headers=headers))
    assert [r["Invoice id"] for r in only_issued] == [two_lines["id"]]


async def test_invoices_xlsx_numbers_dates_and_neutralised_text(client, party, today):
    invoice = await party.invoice(client, line("12345.67"))
    params = {"format": "xlsx", "lines": "true"}
    header, rows = xlsx_rows(await client.get(f"{API}/invoices/export", params=params, headers=party.account.headers))
    assert header == [c.header for c in EXPORTS["invoices"].line_columns or ()]
    [row] = rows
    cell = dict(zip(header, row, strict=True))
    customer = cell["Customer"]
    assert customer.value == "'" + EVIL and customer.data_type == "s"  # text, never a formula
    total = cell["Total"]
    assert total.data_type == "n" and Decimal(str(total.value)) == Decimal(invoice["total"])
    assert total.number_format == RUPEES
    assert isinstance(cell["Invoice date"].value, datetime)
    assert cell["Invoice date"].value.date() == today and cell["Invoice date"].number_format == "yyyy-mm-dd"
    assert cell["Quantity"].data_type == "n"


async def test_filters_are_checked_before_the_file_starts(client, party, today):
    headers, url = party.account.headers, f"{API}/invoices/export"
    later = (today + timedelta(days=1)).isoformat()
    assert_problem(
        await client.get(url, params={"from": later, "to": today.isoformat()}, headers=headers),
        400,
        "invalid-date-range",
    )
    too_long = {"from": (today - timedelta(days=MAX_SPAN_DAYS)).isoformat(), "to": today.isoformat()}
    assert_problem(await client.get(url, params=too_long, headers=headers), 400, "export-range-too-long")
    assert (await client.get(url, params={"format": "pdf"}, headers=headers)).status_code == 422

    other = await make_tenant(client)
    theirs = await make_company(client, other)
    their_customer = await make_customer(client, other)
    for path, params in [
        ("invoices/export", {"company_id": theirs["id"]}),
        ("receipts/export", {"company_id": theirs["id"]}),
        ("credit-notes/export", {"customer_id": their_customer["id"]}),
        ("stock/levels/export", {"company_id": theirs["id"]}),
        (f"customers/{their_customer['id']}/ledger/export", {}),
    ]:
        assert_problem(await client.get(f"{API}/{path}", params=params, headers=headers), 404)


async def test_company_and_date_filters(client, party, today):
    await party.invoice(client)
    second = await make_company(client, party.account, state="27", legal_name="Second Branch", gstin=gstin("27"))
    other = await Party(party.account, second, party.customer).invoice(client)
    headers = party.account.headers
    rows = csv_rows(await client.get(f"{API}/invoices/export", params={"company_id": second["id"]}, headers=headers))
    assert [r["Invoice id"] for r in rows] == [other["id"]]
    future = {"from": (today + timedelta(days=1)).isoformat()}
    assert csv_rows(await client.get(f"{API}/invoices/export", params=future, headers=headers)) == []


async def test_every_resource_exports(client, app, party, today):
    headers = party.account.headers
    credited, paid = await party.invoice(client), await party.invoice(client)
    total = Decimal(paid["total"])
    receipt = {
        "customer_id": party.customer["id"],
        "company_id": party.company["id"],
        "amount": "500.00",
        "receipt_date": today.isoformat(),
        "mode": "upi",
        "allocations": [{"invoice_id": paid["id"], "amount": "500.00"}],
    }
    note = {"invoice_id": credited["id"], "reason": "@SUM(A1:A9) returned", "full": True}
    response = await client.post(f"{API}/credit-notes", json=note, headers=headers)
    assert response.status_code == 201, response.text
    assert (await client.post(f"{API}/receipts", json=receipt, headers=headers)).status_code == 201
    product = await make_product(app.state.runtime, party.account.tenant_id, name="+91 Masala")

    receipts = csv_rows(await client.get(f"{API}/receipts/export", headers=headers))
    assert [(r["Amount"], r["Allocated"], r["Customer"]) for r in receipts] == [("500.00", "500.00", "'" + EVIL)]
    notes = csv_rows(await client.get(f"{API}/credit-notes/export", params={"lines": "true"}, headers=headers))
    assert [(n["Reason"], n["Total"], n["Line"]) for n in notes] == [("'@SUM(A1:A9) returned", str(total), "1")]
    customers = csv_rows(await client.get(f"{API}/customers/export", headers=headers))
    assert [(c["Name"], c["Balance"]) for c in customers] == [("'" + EVIL, str(total - 500))]
    assert csv_rows(await client.get(f"{API}/customers/export", params={"status": "archived"}, headers=headers)) == []
    products = csv_rows(await client.get(f"{API}/products/export", headers=headers))
    assert [(p["SKU"], p["Name"], p["Sale price"]) for p in products] == [(product.sku, "'+91 Masala", "450.00")]
    assert csv_rows(await client.get(f"{API}/stock/levels/export", headers=headers)) == []

    url = f"{API}/customers/{party.customer['id']}/ledger/export"
    ledger = csv_rows(await client.get(url, headers=headers))
    assert [(e["Type"], e["Debit"], e["Credit"], e["Balance"]) for e in ledger] == [
        ("opening_balance", "", "", "0.00"),
        ("invoice", str(total), "0.00", str(total)),
        ("invoice", str(total), "0.00", str(2 * total)),
        ("credit_note", "0.00", str(total), str(total)),
        ("receipt", "0.00", "500.00", str(total - 500)),
    ]
    header, rows = xlsx_rows(await client.get(url, params={"format": "xlsx"}, headers=headers))
    assert len(rows) == 5 and Decimal(str(rows[-1][header.index("Balance")].value)) == total - 500


async def test_a_viewer_of_another_tenant_sees_none_of_these_rows(client, party):
    await party.invoice(client)
    other = await make_tenant(client)
    assert csv_rows(await client.get(f"{API}/invoices/export", headers=other.headers)) == []
    assert csv_rows(await client.get(f"{API}/customers/export", headers=other.headers)) == []


def export_scope(party, spec_version: str = "2.3") -> dict:
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": spec_version},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": f"{API}/invoices/export",
        "raw_path": f"{API}/invoices/export".encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"test"), (b"authorization", party.account.headers["Authorization"].encode())],
        "client": ("10.250.0.1", 40000),
        "server": ("test", 80),
    }


async def test_a_client_gone_mid_stream_gives_the_connection_back(app, client, party, today):
    """A client that disconnects while the server waits to send it a chunk: the export's own read
    (its transaction, cursor and pooled connection) ends with the response, not when the garbage
    collector happens to finalise the abandoned generator."""
    for _ in range(2):
        await party.invoice(client, issue=True)
    pool = app.state.runtime.db.engine.sync_engine.pool
    before = pool.checkedout()
    first_chunk, never = asyncio.Event(), asyncio.Event()
    requested = False

    async def receive():
        nonlocal requested
        if not requested:
            requested = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await first_chunk.wait()
        return {"type": "http.disconnect"}

    async def send(message):
        if message["type"] == "http.response.body" and message.get("body"):
            first_chunk.set()
            await never.wait()  # a slow client: the server blocks on the socket, then it is gone

    await asyncio.wait_for(app(export_scope(party), receive, send), timeout=30)
    for _ in range(20):
        await asyncio.sleep(0)
    assert pool.checkedout() == before


@pytest.mark.parametrize("spec_version", ["2.3", "2.4"])  # 2.4: Starlette sends without a disconnect listener
async def test_a_reader_that_stalls_is_dropped(app, client, party, today, monkeypatch, spec_version):
    """A client that keeps its connection open but stops reading (the send blocks) would hold the
    export's transaction and a pooled connection for ever (a few such downloads exhaust the pool):
    after EXPORT_SEND_TIMEOUT_SECONDS without progress the response is abandoned."""
    await party.invoice(client, issue=True)
    monkeypatch.setattr(app.state.runtime.settings, "export_send_timeout_seconds", 0.5)
    pool = app.state.runtime.db.engine.sync_engine.pool
    before = pool.checkedout()
    never, requested = asyncio.Event(), False

    async def receive():
        nonlocal requested
        if not requested:
            requested = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await never.wait()  # connected all along
        return {"type": "http.disconnect"}

    async def send(message):
        if message["type"] == "http.response.body" and message.get("body"):
            await never.wait()  # reads nothing: the socket's buffers are full

    await asyncio.wait_for(app(export_scope(party, spec_version), receive, send), timeout=10)
    for _ in range(20):
        await asyncio.sleep(0)
    assert pool.checkedout() == before


async def test_four_decimal_prices_are_not_rounded(client, app, party, today):
    """Unit prices, sale prices and purchase costs hold four decimals (a screw at ₹0.0125): the
    export writes them exactly (at least two decimals), never rounded to paise."""
    headers = party.account.headers
    cheap = await make_product(
        app.state.runtime, party.account.tenant_id, sale_price=Decimal("0.0125"), purchase_cost=Decimal("12.3450")
    )
    await party.invoice(client, line(description="Screws", quantity="800", unit_price="0.0125"))
    products = csv_rows(await client.get(f"{API}/products/export", headers=headers))
    assert [(p["SKU"], p["Sale price"], p["Purchase cost"]) for p in products] == [(cheap.sku, "0.0125", "12.345")]
    lines = csv_rows(await client.get(f"{API}/invoices/export", params={"lines": "true"}, headers=headers))
    assert [(r["Unit price"], r["Line taxable value"]) for r in lines] == [("0.0125", "10.00")]
    header, rows = xlsx_rows(await client.get(f"{API}/products/export", params={"format": "xlsx"}, headers=headers))
    cell = rows[0][header.index("Sale price")]
    assert cell.value == Decimal("0.0125") or cell.value == 0.0125
    assert cell.number_format.endswith("0.00##")  # shown with its four decimals, not as ₹0.01


async def test_an_issued_invoice_shows_the_recipient_it_was_issued_to(client, party, today):
    """A customer unregistered when invoiced (a B2C invoice, no GSTIN on it) who registers later:
    the issued invoice's row keeps no GSTIN (the one printed on it), only a draft shows the
    customer's current details."""
    headers = party.account.headers
    await party.invoice(client)
    registered = {"gstin": gstin("29", pan="AAPFU0939F")}
    response = await client.patch(f"{API}/customers/{party.customer['id']}", json=registered, headers=headers)
    assert response.status_code == 200, response.text
    await party.invoice(client, issue=False)
    rows = csv_rows(await client.get(f"{API}/invoices/export", headers=headers))
    assert [(r["Status"], r["Customer GSTIN"]) for r in rows] == [("issued", ""), ("draft", registered["gstin"])]


async def test_a_credit_note_shows_the_recipient_its_invoice_was_issued_to(client, party, today):
    """The credit note prints its invoice's recipient (the snapshot): a customer who registers or is
    renamed afterwards changes neither the document nor its export row."""
    headers = party.account.headers
    invoice = await party.invoice(client)
    note = {"invoice_id": invoice["id"], "reason": "Returned", "full": True}
    assert (await client.post(f"{API}/credit-notes", json=note, headers=headers)).status_code == 201
    changed = {"gstin": gstin("29", pan="AAPFU0939F"), "name": "Renamed Traders"}
    response = await client.patch(f"{API}/customers/{party.customer['id']}", json=changed, headers=headers)
    assert response.status_code == 200, response.text
    rows = csv_rows(await client.get(f"{API}/credit-notes/export", headers=headers))
    assert [(r["Customer"], r["Customer GSTIN"]) for r in rows] == [("'" + EVIL, "")]
