"""/dashboard: metrics, revenue chart and aging against a hand-built tenant whose every expected
number is written out below (18 % GST, intra-state: a ₹1,000 line is a ₹1,180 invoice).
"Today" is 20 June 2026 in India throughout (the app's clock is fixed)."""

from dataclasses import dataclass

import httpx
import pytest

from tests.api.v1.http_checks import assert_problem
from tests.api.v1.invoicing import Party, line, make_company, make_customer
from tests.api.v1.members import add_member
from tests.api.v1.report_data import full_credit_note, ok, receipt, set_clock, void_invoice, void_receipt
from tests.factories import API, Account, make_tenant

__all__ = ["set_clock"]
TODAY = "2026-06-20T12:00:00+05:30"


@dataclass
class Shop:
    owner: Account
    c1: dict
    c2: dict


async def shop(client: httpx.AsyncClient, set_clock) -> Shop:
    """Invoices (total, due, what happened):
    I1 C1 04-05 1180 due 04-20, paid by R1 on 04-25 (20 days to pay)
    I2 C1 04-10 2360 due 05-10, 1000 paid by R2 on 05-15: 1360 open, 41 days past due today
    I3 C2 05-01  590 due 06-30, open, not yet due
    I4 C2 05-05  118 due 06-04, voided on 8 May
    I5 C2 05-20 1180 due 06-10, fully credited by CN1 on 05-25
    I6 C1 06-01  590 due 06-15, paid by R3 on 06-11 (10 days to pay)
    I7 C1 06-02 draft
    I8 C4 04-15 1180, voided on 16 April; C4 then archived
    R4 C3 06-05 300 advance; R5 C3 06-06 200, voided.
    Another tenant bills ₹11,800 on the same days and must never show."""
    owner, stranger = await make_tenant(client), await make_tenant(client)  # logged in before the clock moves
    company = await make_company(client, owner)

    async def party(name: str) -> Party:
        customer = await make_customer(client, owner, name=name, billing_address={"state_code": "29"})
        return Party(owner, company, customer)

    p1, p2, p3, p4 = [await party(name) for name in ("Anand Stores", "Bharat Mills", "Chawla & Sons", "Dutta Co")]
    set_clock("2026-04-16T10:00:00+05:30")
    i8 = await p4.invoice(client, line("1000.00"), invoice_date="2026-04-15", due_date="2026-05-15")
    await void_invoice(client, owner, i8)
    deleted = ok(await client.delete(f"{API}/customers/{p4.customer['id']}", headers=owner.headers))
    assert deleted["outcome"] == "archived"
    set_clock("2026-05-08T10:00:00+05:30")
    i1 = await p1.invoice(client, line("1000.00"), invoice_date="2026-04-05", due_date="2026-04-20")
    i2 = await p1.invoice(client, line("2000.00"), invoice_date="2026-04-10", due_date="2026-05-10")
    await p2.invoice(client, line("500.00"), invoice_date="2026-05-01", due_date="2026-06-30")
    i4 = await p2.invoice(client, line("100.00"), invoice_date="2026-05-05", due_date="2026-06-04")
    await void_invoice(client, owner, i4)
    set_clock(TODAY)
    i5 = await p2.invoice(client, line("1000.00"), invoice_date="2026-05-20", due_date="2026-06-10")
    i6 = await p1.invoice(client, line("500.00"), invoice_date="2026-06-01", due_date="2026-06-15")
    await p1.invoice(client, line("100.00"), invoice_date="2026-06-02", due_date="2026-06-20", issue=False)
    await receipt(client, p1, "1180.00", "2026-04-25", (i1, "1180.00"))
    await receipt(client, p1, "1000.00", "2026-05-15", (i2, "1000.00"))
    await receipt(client, p1, "590.00", "2026-06-11", (i6, "590.00"))
    await full_credit_note(client, owner, i5, "2026-05-25")
    await receipt(client, p3, "300.00", "2026-06-05")
    await void_receipt(client, owner, await receipt(client, p3, "200.00", "2026-06-06"))
    other = await Party.make(client, stranger)
    for day in ("2026-04-05", "2026-05-15", "2026-06-05"):
        invoice = await other.invoice(client, line("10000.00"), invoice_date=day, due_date=day)
        await receipt(client, other, "100.00", day, (invoice, "100.00"))
    return Shop(owner, p1.customer, p2.customer)


async def get(client: httpx.AsyncClient, account: Account, path: str, **params) -> dict:
    return ok(await client.get(f"{API}/dashboard/{path}", params=params, headers=account.headers))


def tally(amount: str, count: int) -> dict:
    return {"amount": amount, "count": count}


NONE = tally("0.00", 0)


def buckets(current=NONE, d1_30=NONE, d31_60=NONE, d61_90=NONE, over_90=NONE, *, total: dict) -> dict:
    return {
        "current": current,
        "days_1_30": d1_30,
        "days_31_60": d31_60,
        "days_61_90": d61_90,
        "days_over_90": over_90,
        "total": total,
    }


class TestMetrics:
    async def test_the_financial_year_to_date_by_default(self, client, set_clock):
        s = await shop(client, set_clock)
        assert await get(client, s.owner, "metrics") == {
            "from": "2026-04-01",
            "to": "2026-06-20",
            "today": "2026-06-20",
            "invoiced": tally("5900.00", 5),  # I1 1180 + I2 2360 + I3 590 + I5 1180 + I6 590
            "collected": tally("3070.00", 4),  # R1 1180 + R2 1000 + R3 590 + R4 300
            "credited": tally("1180.00", 1),  # CN1
            "outstanding": tally("1950.00", 2),  # I2 1360 + I3 590
            "overdue": tally("1360.00", 1),  # I2
            "customers": {"active": 3, "with_balance": 2},  # C1 owes 1360, C2 590, C3 is 300 in advance
            "average_days_to_pay": "15.0",  # (20 + 10) / 2
        }

    async def test_a_range_counts_what_is_dated_in_it_and_outstanding_stays_as_of_today(self, client, set_clock):
        s = await shop(client, set_clock)
        may = await get(client, s.owner, "metrics", **{"from": "2026-05-01", "to": "2026-05-31"})
        assert (may["from"], may["to"]) == ("2026-05-01", "2026-05-31")
        assert (may["invoiced"], may["collected"], may["credited"]) == (
            tally("1770.00", 2),  # I3 590 + I5 1180 (I4 is void)
            tally("1000.00", 1),  # R2
            tally("1180.00", 1),
        )
        assert (may["outstanding"], may["overdue"]) == (tally("1950.00", 2), tally("1360.00", 1))
        assert may["average_days_to_pay"] is None  # I1 was paid in April, I6 in June
        june = await get(client, s.owner, "metrics", **{"from": "2026-06-01", "to": "2026-06-30"})
        assert june["average_days_to_pay"] == "10.0"
        assert june["collected"] == tally("890.00", 2)  # R3 590 + R4 300; R5 is void

    async def test_overdue_follows_today(self, client, set_clock):
        s = await shop(client, set_clock)
        set_clock("2026-07-01T00:30:00+05:30")  # 30 June 19:00 UTC: already 1 July in India
        later = await get(client, s.owner, "metrics")
        assert later["today"] == "2026-07-01"
        assert later["overdue"] == tally("1950.00", 2)  # I3 was due on 30 June


class TestRevenueChart:
    async def test_months_include_the_empty_ones(self, client, set_clock):
        s = await shop(client, set_clock)
        chart = await get(client, s.owner, "revenue-chart", **{"from": "2026-04-01", "to": "2026-07-31"})
        assert chart["interval"] == "month"
        assert chart["periods"] == [
            {
                "period": "2026-04-01",
                "start": "2026-04-01",
                "end": "2026-04-30",
                "invoiced": "3540.00",
                "collected": "1180.00",
            },
            {
                "period": "2026-05-01",
                "start": "2026-05-01",
                "end": "2026-05-31",
                "invoiced": "1770.00",
                "collected": "1000.00",
            },
            {
                "period": "2026-06-01",
                "start": "2026-06-01",
                "end": "2026-06-30",
                "invoiced": "590.00",
                "collected": "890.00",
            },
            {
                "period": "2026-07-01",
                "start": "2026-07-01",
                "end": "2026-07-31",
                "invoiced": "0.00",
                "collected": "0.00",
            },
        ]

    async def test_a_partial_first_period_counts_only_days_in_the_range(self, client, set_clock):
        s = await shop(client, set_clock)
        chart = await get(client, s.owner, "revenue-chart", **{"from": "2026-04-07", "to": "2026-05-14"})
        assert [(p["period"], p["start"], p["end"], p["invoiced"], p["collected"]) for p in chart["periods"]] == [
            ("2026-04-01", "2026-04-07", "2026-04-30", "2360.00", "1180.00"),  # I1 (5 April) is before `from`
            ("2026-05-01", "2026-05-01", "2026-05-14", "590.00", "0.00"),  # R2 (15 May) is after `to`
        ]

    async def test_weeks_start_on_monday(self, client, set_clock):
        s = await shop(client, set_clock)
        chart = await get(
            client, s.owner, "revenue-chart", interval="week", **{"from": "2026-05-13", "to": "2026-06-07"}
        )
        assert [(p["period"], p["start"], p["end"], p["invoiced"], p["collected"]) for p in chart["periods"]] == [
            ("2026-05-11", "2026-05-13", "2026-05-17", "0.00", "1000.00"),
            ("2026-05-18", "2026-05-18", "2026-05-24", "1180.00", "0.00"),
            ("2026-05-25", "2026-05-25", "2026-05-31", "0.00", "0.00"),
            ("2026-06-01", "2026-06-01", "2026-06-07", "590.00", "300.00"),
        ]

    async def test_days(self, client, set_clock):
        s = await shop(client, set_clock)
        chart = await get(
            client, s.owner, "revenue-chart", interval="day", **{"from": "2026-06-04", "to": "2026-06-06"}
        )
        assert [(p["period"], p["invoiced"], p["collected"]) for p in chart["periods"]] == [
            ("2026-06-04", "0.00", "0.00"),
            ("2026-06-05", "0.00", "300.00"),
            ("2026-06-06", "0.00", "0.00"),  # R5 is void
        ]

    @pytest.mark.parametrize(
        ("interval", "date_from", "date_to", "periods"),
        [
            ("day", "2024-01-01", "2024-12-31", 366),
            ("week", "2021-01-04", "2025-12-28", 260),
            ("month", "2017-01-01", "2026-12-31", 120),
        ],
    )
    async def test_the_period_cap_is_inclusive_and_one_more_is_400(self, client, interval, date_from, date_to, periods):
        owner = await make_tenant(client)
        params = {"interval": interval, "from": date_from, "to": date_to}
        assert len((await get(client, owner, "revenue-chart", **params))["periods"]) == periods
        beyond = {"day": "2025-01-01", "week": "2025-12-29", "month": "2027-01-01"}[interval]
        response = await client.get(
            f"{API}/dashboard/revenue-chart", params={**params, "to": beyond}, headers=owner.headers
        )
        assert_problem(response, 400, "too-many-periods")


class TestAging:
    async def test_today_by_customer(self, client, set_clock):
        s = await shop(client, set_clock)
        c1 = buckets(d31_60=tally("1360.00", 1), total=tally("1360.00", 1))  # I2, 41 days past due
        c2 = buckets(current=tally("590.00", 1), total=tally("590.00", 1))  # I3, due 30 June
        aging = await get(client, s.owner, "aging", group_by="customer")
        assert aging == {
            "as_of": "2026-06-20",
            "buckets": buckets(tally("590.00", 1), d31_60=tally("1360.00", 1), total=tally("1950.00", 2)),
            "customers": [
                {"customer_id": s.c1["id"], "name": "Anand Stores", "buckets": c1},
                {"customer_id": s.c2["id"], "name": "Bharat Mills", "buckets": c2},
            ],
            "customer_count": 2,
        }
        capped = await get(client, s.owner, "aging", group_by="customer", limit=1)
        assert [c["name"] for c in capped["customers"]] == ["Anand Stores"] and capped["customer_count"] == 2
        plain = await get(client, s.owner, "aging")
        assert plain["customers"] is None and plain["buckets"] == aging["buckets"]

    async def test_a_past_day_sees_balances_and_voids_as_they_stood(self, client, set_clock):
        s = await shop(client, set_clock)
        # 6 May: I2 unpaid and not yet due, I3 open, I4 not yet voided (8 May); I1 paid on 25 April.
        early = await get(client, s.owner, "aging", as_of="2026-05-06")
        assert early["buckets"] == buckets(tally("3068.00", 3), total=tally("3068.00", 3))
        # 12 May: I4 voided, I2 2 days past due and still unpaid.
        mid = await get(client, s.owner, "aging", as_of="2026-05-12")
        assert mid["buckets"] == buckets(tally("590.00", 1), tally("2360.00", 1), total=tally("2950.00", 2))
        # 16 May: R2 (15 May) paid 1000 of I2.
        later = await get(client, s.owner, "aging", as_of="2026-05-16")
        assert later["buckets"] == buckets(tally("590.00", 1), tally("1360.00", 1), total=tally("1950.00", 2))

    async def test_every_bucket_boundary(self, client, set_clock):
        owner = await make_tenant(client)
        party = await Party.make(client, owner)
        set_clock(TODAY)
        # days past due on 20 June -> due date, taxable value (total = value + 18 %)
        cases = {
            -1: ("2026-06-21", "900.00"),
            0: ("2026-06-20", "100.00"),
            1: ("2026-06-19", "200.00"),
            30: ("2026-05-21", "300.00"),
            31: ("2026-05-20", "400.00"),
            60: ("2026-04-21", "500.00"),
            61: ("2026-04-20", "600.00"),
            90: ("2026-03-22", "700.00"),
            91: ("2026-03-21", "800.00"),
        }
        for due_date, value in cases.values():
            await party.invoice(client, line(value), invoice_date="2026-03-01", due_date=due_date)
        aging = await get(client, owner, "aging", as_of="2026-06-20")
        assert aging["buckets"] == buckets(
            tally("1180.00", 2),  # -1 and 0 days: 1062 + 118
            tally("590.00", 2),  # 1 and 30: 236 + 354
            tally("1062.00", 2),  # 31 and 60: 472 + 590
            tally("1534.00", 2),  # 61 and 90: 708 + 826
            tally("944.00", 1),  # 91
            total=tally("5310.00", 9),
        )


class TestAccess:
    async def test_only_owners_and_admins(self, client, mailbox):
        owner = await make_tenant(client)
        admin = await add_member(client, mailbox, owner, "admin")
        for role in ("viewer", "accountant"):
            member = await add_member(client, mailbox, owner, role)
            for path in ("metrics", "revenue-chart", "aging"):
                response = await client.get(f"{API}/dashboard/{path}", headers=member.headers)
                assert_problem(response, 403, "role-forbidden")
        for path in ("metrics", "revenue-chart", "aging"):
            assert (await client.get(f"{API}/dashboard/{path}", headers=admin.headers)).status_code == 200
            assert (await client.get(f"{API}/dashboard/{path}")).status_code == 401

    async def test_a_new_tenant_sees_zeros_while_others_have_data(self, client, set_clock):
        owner = await make_tenant(client)
        await shop(client, set_clock)
        metrics = await get(client, owner, "metrics")
        for name in ("invoiced", "collected", "credited", "outstanding", "overdue"):
            assert metrics[name] == NONE
        assert metrics["customers"] == {"active": 0, "with_balance": 0} and metrics["average_days_to_pay"] is None
        aging = await get(client, owner, "aging", group_by="customer")
        assert (aging["buckets"]["total"], aging["customers"], aging["customer_count"]) == (NONE, [], 0)
        chart = await get(client, owner, "revenue-chart", **{"from": "2026-04-01", "to": "2026-06-30"})
        assert {(p["invoiced"], p["collected"]) for p in chart["periods"]} == {("0.00", "0.00")}


class TestBadInput:
    @pytest.mark.parametrize(
        ("path", "params", "status"),
        [
            ("metrics", {"from": "2026-05-02", "to": "2026-05-01"}, 400),
            ("revenue-chart", {"from": "2026-05-02", "to": "2026-05-01"}, 400),
            ("metrics", {"from": "2026-02-30"}, 422),
            ("metrics", {"to": "1750000000"}, 422),
            ("revenue-chart", {"interval": "year"}, 422),
            ("aging", {"as_of": "20-06-2026"}, 422),
            ("aging", {"group_by": "company"}, 422),
            ("aging", {"group_by": "customer", "limit": "0"}, 422),
            ("aging", {"group_by": "customer", "limit": "501"}, 422),
        ],
    )
    async def test_is_refused(self, client, path, params, status):
        owner = await make_tenant(client)
        response = await client.get(f"{API}/dashboard/{path}", params=params, headers=owner.headers)
        body = assert_problem(response, status)
        if status == 400:
            assert body["code"] == "invalid-date-range"


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("revenue-chart", {"from": "2999-12-01", "to": "2999-12-31", "interval": "week"}),
        ("revenue-chart", {"from": "2999-11-15", "to": "2999-12-31", "interval": "month"}),
        ("revenue-chart", {"from": "1900-01-01", "to": "1900-01-31", "interval": "day"}),
        ("metrics", {"to": "1900-02-01"}),
        ("metrics", {"from": "1900-01-01", "to": "2999-12-31"}),
        ("aging", {"as_of": "2999-12-31", "group_by": "customer"}),
        ("aging", {"as_of": "1900-01-01"}),
    ],
)
async def test_the_first_and_last_days_allowed_are_answered(client, path, params):
    owner = await make_tenant(client)
    await Party.make(client, owner)
    body = await get(client, owner, path, **params)
    if path == "revenue-chart":
        assert body["periods"][-1]["end"] == params["to"]


@pytest.mark.parametrize(
    ("path", "params"),
    [
        # asyncpg sends 0001-01-01 and 9999-12-31 as -infinity and infinity: never let them reach SQL.
        ("revenue-chart", {"from": "0001-01-01", "to": "0001-01-31", "interval": "day"}),
        ("revenue-chart", {"from": "9999-12-01", "to": "9999-12-31", "interval": "week"}),
        ("metrics", {"from": "1899-12-31"}),
        ("metrics", {"from": "2026-04-01", "to": "3000-01-01"}),
        ("aging", {"as_of": "9999-12-31"}),
    ],
)
async def test_days_beyond_them_are_422(client, path, params):
    """The spec's date pattern allows years 1900-2999 only."""
    owner = await make_tenant(client)
    response = await client.get(f"{API}/dashboard/{path}", params=params, headers=owner.headers)
    assert_problem(response, 422, "validation-error")
