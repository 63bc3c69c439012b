"""The daily low-stock digest (issue 11 §5): owners and admins of a tenant with open alerts get one
mail a day from 09:00 in India, exactly once however many runs (racing ones too), none without
alerts, again the next day. Time is driven through run_due(at) relative to the `today` fixture,
with the real SMTP server."""

import asyncio
import uuid
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal as D

import pytest
from sqlalchemy import select

from app.domain.fiscal import INDIA
from app.models.platform.job import JobOccasion
from app.repositories.platform.jobs import DueWorkRepository
from app.services.catalog import stock, stock_digest
from tests.api.v1.invoicing import make_company
from tests.api.v1.members import add_member
from tests.api.v1.stock_rows import low_stock, make_product
from tests.factories import make_tenant
from tests.jobs.scheduling import run

SUBJECT = "to reorder"


@pytest.fixture
def rt(app):
    return app.state.runtime


def ist(day: date, hour: int = 9, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=INDIA)


def digests(mailbox, email: str) -> list:
    return [m for m in mailbox.to(email) if SUBJECT in m["Subject"]]


def text_of(message) -> str:
    return message.get_body(("plain",)).get_content().replace("\r\n", "\n")


async def go(rt, at: datetime, tenant_id: str) -> int:
    summary = await run(rt, at, tenant_id)
    assert not summary.failed, summary
    return summary.low_stock_digests


async def scan_finds(rt, at: datetime, tenant_id: str) -> bool:
    async with rt.db.transaction() as session:
        found = await DueWorkRepository(session).low_stock_digest_tenants(
            at, send_hour=stock_digest.DIGEST_HOUR, only=[uuid.UUID(tenant_id)]
        )
    return bool(found)


async def claimed_days(rt, tenant_id: str) -> list[str]:
    async with rt.db.transaction(uuid.UUID(tenant_id)) as session:
        rows = await session.execute(select(JobOccasion.occasion_key).where(JobOccasion.kind == "low_stock_digest"))
        return sorted(rows.scalars())


class TestOnceADay:
    async def test_from_nine_in_india_once_a_day_across_reruns_and_racing_runs_and_again_the_next_day(
        self, client, rt, mailbox, today
    ):
        owner = await make_tenant(client)
        company = await make_company(client, owner)
        rice = await make_product(rt, owner.tenant_id, name="Basmati rice 5 kg", sku="RICE-5")
        await low_stock(rt, owner.tenant_id, rice, company["id"], on_hand="4")

        before = ist(today, 8, 59)
        assert before.astimezone(UTC).time() == time(3, 29)  # 08:59 in India is 03:29 UTC: not yet the hour
        assert not await scan_finds(rt, before, owner.tenant_id)
        assert await go(rt, before, owner.tenant_id) == 0
        assert await go(rt, ist(today, 9), owner.tenant_id) == 1
        assert await go(rt, ist(today, 9, 1), owner.tenant_id) == 0
        assert not await scan_finds(rt, ist(today, 18), owner.tenant_id)
        assert await go(rt, ist(today, 23, 59), owner.tenant_id) == 0
        [mail] = digests(mailbox, owner.email)
        assert " ".join(mail["Subject"].split()) == (
            f"Low stock at Sharma Traders: 1 item to reorder ({today.strftime('%d %b %Y')})"
        )
        body = text_of(mail)
        assert "Basmati rice 5 kg (SKU RICE-5), Sharma Traders Pvt Ltd: 4 NOS available, reorder level 10" in body
        assert "reorder 50 NOS" in body and "/api/v1/stock/alerts" in body
        html = mail.get_body(("html",)).get_content()
        assert "<td>Basmati rice 5 kg</td>" in html

        tomorrow = today + timedelta(days=1)
        racing = await asyncio.gather(*(run(rt, ist(tomorrow, 9, 30), owner.tenant_id) for _ in range(3)))
        assert sorted(s.low_stock_digests for s in racing) == [0, 0, 1]
        assert len(digests(mailbox, owner.email)) == 2
        assert await claimed_days(rt, owner.tenant_id) == sorted([today.isoformat(), tomorrow.isoformat()])

    async def test_the_day_is_the_day_in_india(self, client, rt, mailbox, today):
        """23:00 UTC is already the next day in India (04:30): before the hour there, so nothing; at
        09:00 India that day, the digest of that (Indian) day."""
        owner = await make_tenant(client)
        company = await make_company(client, owner)
        await low_stock(rt, owner.tenant_id, await make_product(rt, owner.tenant_id), company["id"])
        late_utc = datetime.combine(today, time(23, 0), tzinfo=UTC)
        assert late_utc.astimezone(INDIA).date() == today + timedelta(days=1)
        assert await go(rt, late_utc, owner.tenant_id) == 0
        assert await go(rt, ist(today + timedelta(days=1), 9), owner.tenant_id) == 1
        assert await claimed_days(rt, owner.tenant_id) == [(today + timedelta(days=1)).isoformat()]


class TestOnlyWithAlerts:
    async def test_no_open_alert_no_mail_and_nothing_claimed(self, client, rt, mailbox, today):
        owner = await make_tenant(client)
        company = await make_company(client, owner)
        await low_stock(rt, owner.tenant_id, await make_product(rt, owner.tenant_id), company["id"], closed=True)
        archived = await make_product(rt, owner.tenant_id, is_archived=True)
        await low_stock(rt, owner.tenant_id, archived, company["id"])  # an archived product's alert is noise
        assert not await scan_finds(rt, ist(today, 10), owner.tenant_id)
        assert await go(rt, ist(today, 10), owner.tenant_id) == 0
        assert digests(mailbox, owner.email) == []
        assert await claimed_days(rt, owner.tenant_id) == []

        # an alert opening later that day is digested that day
        await low_stock(rt, owner.tenant_id, await make_product(rt, owner.tenant_id), company["id"])
        assert await go(rt, ist(today, 15), owner.tenant_id) == 1
        [mail] = digests(mailbox, owner.email)
        assert "1 item to reorder" in mail["Subject"]


class TestRecipients:
    async def test_owners_and_admins_each_get_it_accountants_and_viewers_do_not(self, client, rt, mailbox, today):
        owner = await make_tenant(client, business_name="Gupta Kirana")
        admin = await add_member(client, mailbox, owner, "admin")
        accountant = await add_member(client, mailbox, owner, "accountant")
        viewer = await add_member(client, mailbox, owner, "viewer")
        main = await make_company(client, owner, legal_name="Gupta Kirana LLP")
        branch = await make_company(client, owner, state="27", legal_name="Gupta Kirana LLP", trade_name="Gupta Pune")
        products = [await make_product(rt, owner.tenant_id, name=f"Item {i}", sku=f"IT-{i}") for i in range(3)]
        await low_stock(rt, owner.tenant_id, products[0], main["id"], on_hand="0")
        await low_stock(rt, owner.tenant_id, products[1], branch["id"], on_hand="2.5")
        await low_stock(rt, owner.tenant_id, products[2], branch["id"], on_hand="7")
        assert await go(rt, ist(today, 9, 5), owner.tenant_id) == 1  # one digest, one mail per recipient
        for user in (owner, admin):
            [mail] = digests(mailbox, user.email)
            assert "3 items to reorder" in mail["Subject"]
            body = text_of(mail)
            assert all(f"Item {i} (SKU IT-{i})" in body for i in range(3))
            assert "Gupta Pune: 2.5 NOS available" in body and "Gupta Kirana LLP: 0 NOS available" in body
        for user in (accountant, viewer):
            assert digests(mailbox, user.email) == []

    async def test_names_are_escaped_in_the_html_part(self, client, rt, mailbox, today):
        owner = await make_tenant(client)
        company = await make_company(client, owner)
        product = await make_product(rt, owner.tenant_id, name="<b>Rice</b> & dal")
        await low_stock(rt, owner.tenant_id, product, company["id"])
        assert await go(rt, ist(today, 9), owner.tenant_id) == 1
        [mail] = digests(mailbox, owner.email)
        html = mail.get_body(("html",)).get_content()
        assert "&lt;b&gt;Rice&lt;/b&gt; &amp; dal" in html and "<b>Rice</b>" not in html


class TestWithTheLedger:
    async def test_an_alert_the_ledger_opened_is_mailed_and_one_it_closed_before_nine_is_not(
        self, client, rt, mailbox, today
    ):
        """Alerts opened and closed by real movements (app.services.catalog.stock), not written by hand."""
        owner = await make_tenant(client)
        company = await make_company(client, owner)
        tenant = uuid.UUID(owner.tenant_id)
        rice = await make_product(rt, owner.tenant_id, name="Sona masoori 25 kg", sku="SONA-25")
        dal = await make_product(rt, owner.tenant_id, name="Chana dal 1 kg", sku="CHANA-1")

        async def move(product, quantity: str, *, take: bool = False) -> None:
            line = [stock.StockLine(product.id, D(quantity))]
            ref = stock.DocumentRef("stock_document", uuid.uuid4())
            async with rt.db.transaction(tenant) as session:
                ctx = rt.context(tenant_id=tenant)
                company_id = uuid.UUID(company["id"])
                if take:
                    await stock.take(session, ctx, company_id=company_id, lines=line, kind="adjustment", document=ref)
                else:
                    await stock.put(session, ctx, company_id=company_id, lines=line, kind="receipt", document=ref)

        await move(rice, "30")
        await move(rice, "25", take=True)  # 5 left, reorder level 10: an alert opens
        await move(dal, "3")  # received below the level: an alert opens
        await move(dal, "20")  # back above it before 09:00: closed
        assert await go(rt, ist(today, 9, 30), owner.tenant_id) == 1
        [mail] = digests(mailbox, owner.email)
        body = text_of(mail)
        assert "Sona masoori 25 kg (SKU SONA-25), Sharma Traders Pvt Ltd: 5 NOS available" in body
        assert "Chana dal" not in body and "1 item to reorder" in mail["Subject"]
