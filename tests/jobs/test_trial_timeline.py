"""A tenant's trial with a moved clock: reminders on days 7, 12 and 13 exactly once each (also when
two runs race at the same instant), the transition at day 14 in both post-trial modes, and a run
killed half-way (rolled back, done by the next run, other tenants unaffected)."""

import asyncio
import uuid
from datetime import datetime, timedelta

import asyncpg
import pytest

from app.core.roles import _asyncpg_dsn
from app.core.runtime import Runtime
from tests.api.v1.invoicing import make_customer
from tests.api.v1.report_data import set_clock
from tests.api.v1.subscription_rows import history, subscription
from tests.factories import API, login, make_tenant
from tests.jobs.scheduling import REMINDER, reminder_counts, run, still_due, subjects, trial_day

__all__ = ["set_clock"]


@pytest.fixture
def rt(app) -> Runtime:
    return app.state.runtime


@pytest.fixture
def hard_lock_rt(app) -> Runtime:
    runtime = app.state.runtime
    return Runtime(settings=runtime.settings.model_copy(update={"post_trial_mode": "hard_lock"}), db=runtime.db)


class TestTrialReminders:
    async def test_days_7_12_13_once_each_even_when_two_runs_race(self, client, rt, mailbox):
        owner = await make_tenant(client)
        sub = await subscription(client, owner)

        assert reminder_counts(await run(rt, trial_day(sub, 6), owner.tenant_id)) == (0, 0, 0, 0)
        assert subjects(mailbox, owner.email, REMINDER) == []

        assert await still_due(rt, trial_day(sub, 7), owner.tenant_id) == ["subscription"]
        assert (await run(rt, trial_day(sub, 7), owner.tenant_id)).trial_reminders == 1
        assert subjects(mailbox, owner.email, REMINDER) == ["7 days left in your RMS Billing trial"]
        assert await still_due(rt, trial_day(sub, 7), owner.tenant_id) == []
        assert reminder_counts(await run(rt, trial_day(sub, 7, minutes=2), owner.tenant_id)) == (0, 0, 0, 0)

        for day, subject in ((12, "2 days left"), (13, "1 day left")):
            racing = await asyncio.gather(*(run(rt, trial_day(sub, day), owner.tenant_id) for _ in range(2)))
            assert sorted(s.trial_reminders for s in racing) == [0, 1]
            assert subjects(mailbox, owner.email, subject) == [f"{subject} in your RMS Billing trial"]
        assert len(subjects(mailbox, owner.email, REMINDER)) == 3

        text = mailbox.to(owner.email)[-1].get_body(("plain",)).get_content()
        assert "ends in 1 day" in text and "Standard: ₹999.00 a month" in text
        assert rt.settings.upgrade_url in text

    async def test_a_worker_down_for_days_sends_only_the_latest_reminder(self, client, rt, mailbox):
        owner = await make_tenant(client)
        sub = await subscription(client, owner)
        assert (await run(rt, trial_day(sub, 12, minutes=600), owner.tenant_id)).trial_reminders == 1
        assert subjects(mailbox, owner.email, REMINDER) == ["2 days left in your RMS Billing trial"]
        assert (await run(rt, trial_day(sub, 12, minutes=601), owner.tenant_id)).trial_reminders == 0
        assert (await run(rt, trial_day(sub, 13), owner.tenant_id)).trial_reminders == 1
        assert len(subjects(mailbox, owner.email, REMINDER)) == 2

    async def test_every_active_owner_gets_it(self, client, rt, mailbox, app):
        owner = await make_tenant(client)
        sub = await subscription(client, owner)
        second = await _second_owner(app, owner.tenant_id)
        await run(rt, trial_day(sub, 7), owner.tenant_id)
        assert len(subjects(mailbox, owner.email, REMINDER)) == 1
        assert subjects(mailbox, second, REMINDER) == ["7 days left in your RMS Billing trial"]


class TestTrialEnd:
    async def test_free_tier_day_14_moves_to_free_once_with_one_notice(self, client, rt, app, mailbox):
        owner = await make_tenant(client)
        sub = await subscription(client, owner)
        end = datetime.fromisoformat(sub["trial_end"])

        assert reminder_counts(await run(rt, trial_day(sub, 14, minutes=-1), owner.tenant_id)) == (1, 0, 0, 0)
        summary = await run(rt, trial_day(sub, 14), owner.tenant_id)
        assert (summary.transitions, summary.notices, summary.trial_reminders) == (1, 1, 0)
        assert [row[:2] for row in await history(app, owner.tenant_id)] == [("trial", "trialing"), ("free", "free")]
        assert subjects(mailbox, owner.email, "trial has ended") == ["Your RMS Billing trial has ended"]
        text = mailbox.to(owner.email)[-1].get_body(("plain",)).get_content()
        assert "now on the Free plan: 10 issued invoices a month, 50 customers and 1 active user" in text

        assert await still_due(rt, trial_day(sub, 14), owner.tenant_id) == []
        racing = await asyncio.gather(*(run(rt, trial_day(sub, 14, minutes=5), owner.tenant_id) for _ in range(2)))
        assert [reminder_counts(s) for s in racing] == [(0, 0, 0, 0)] * 2
        assert len(await history(app, owner.tenant_id)) == 2
        assert len(subjects(mailbox, owner.email, "trial has ended")) == 1
        assert (await history(app, owner.tenant_id))[-1][2] == end

    async def test_a_lapse_written_by_a_request_is_still_announced_once(self, client, rt, app, mailbox, set_clock):
        owner = await make_tenant(client)
        sub = await subscription(client, owner)
        set_clock(trial_day(sub, 14).isoformat())
        await make_customer(client, owner, name="Written after the trial")  # the limit check advances
        assert [row[1] for row in await history(app, owner.tenant_id)] == ["trialing", "free"]
        summary = await run(rt, trial_day(sub, 14, minutes=2), owner.tenant_id)
        assert (summary.transitions, summary.notices) == (0, 1)
        assert (await run(rt, trial_day(sub, 14, minutes=3), owner.tenant_id)).notices == 0
        assert len(subjects(mailbox, owner.email, "trial has ended")) == 1

    async def test_hard_lock_grace_at_day_14_then_locked_at_day_17_and_writes_are_402(
        self, client, hard_lock_rt, app, mailbox
    ):
        owner = await make_tenant(client)
        sub = await subscription(client, owner)
        end = datetime.fromisoformat(sub["trial_end"])

        summary = await run(hard_lock_rt, trial_day(sub, 14), owner.tenant_id)
        assert (summary.transitions, summary.notices) == (1, 1)
        grace = mailbox.to(owner.email)[-1]
        assert grace["Subject"] == "Your RMS Billing trial has ended"
        assert "grace period until" in grace.get_body(("plain",)).get_content()
        assert reminder_counts(await run(hard_lock_rt, trial_day(sub, 16), owner.tenant_id)) == (0, 0, 0, 0)

        summary = await run(hard_lock_rt, trial_day(sub, 17), owner.tenant_id)
        assert (summary.transitions, summary.notices) == (1, 1)
        assert subjects(mailbox, owner.email, "read-only") == ["Your RMS Billing account is now read-only"]
        assert [row[1:4] for row in await history(app, owner.tenant_id)][1:] == [
            ("grace", end, end + timedelta(days=3)),
            ("locked", end + timedelta(days=3), None),
        ]
        assert reminder_counts(await run(hard_lock_rt, trial_day(sub, 18), owner.tenant_id)) == (0, 0, 0, 0)

        owner = await login(client, owner.email)  # the session has expired by day 17
        body = {"name": "Locked out", "billing_address": {"state_code": "27"}}
        refused = await client.post(f"{API}/customers", json=body, headers=owner.headers)
        assert refused.status_code == 402 and refused.json()["code"] == "subscription-locked"
        assert (await client.get(f"{API}/customers", headers=owner.headers)).status_code == 200


class TestKilledHalfWay:
    async def test_a_failure_after_the_claim_rolls_back_and_the_next_run_does_it(
        self, client, rt, mailbox, database_urls
    ):
        failing, healthy = await make_tenant(client), await make_tenant(client)
        sub = await subscription(client, failing)
        at = trial_day(sub, 7, minutes=30)  # both registered within the same minute or so
        async with _outbox_fails_for(database_urls, failing.tenant_id):
            summary = await run(rt, at, failing.tenant_id, healthy.tenant_id)
        assert summary.failed == [("subscription", uuid.UUID(failing.tenant_id))]
        assert summary.trial_reminders == 1
        assert subjects(mailbox, healthy.email, REMINDER) == ["7 days left in your RMS Billing trial"]
        assert subjects(mailbox, failing.email, REMINDER) == []

        again = await run(rt, at + timedelta(minutes=1), failing.tenant_id, healthy.tenant_id)
        assert (again.trial_reminders, again.failed) == (1, [])
        assert subjects(mailbox, failing.email, REMINDER) == ["7 days left in your RMS Billing trial"]
        assert len(subjects(mailbox, healthy.email, REMINDER)) == 1


class _outbox_fails_for:
    """A trigger that fails every outbox insert of one tenant: the crash comes after the reminder's
    occasion is claimed, inside the same transaction (a real database error, no code patched)."""

    def __init__(self, urls, tenant_id: str) -> None:
        self.urls, self.tenant_id = urls, tenant_id
        self.name = f"test_fail_outbox_{uuid.UUID(tenant_id).hex}"

    async def _execute(self, sql: str) -> None:
        conn = await asyncpg.connect(_asyncpg_dsn(self.urls.admin))
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    async def __aenter__(self) -> None:
        await self._execute(
            f"CREATE FUNCTION {self.name}() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'simulated crash half-way'; END $$; "
            f"CREATE TRIGGER {self.name} BEFORE INSERT ON outbox_emails FOR EACH ROW "
            f"WHEN (NEW.tenant_id = '{self.tenant_id}') EXECUTE FUNCTION {self.name}()"
        )

    async def __aexit__(self, *exc) -> None:
        await self._execute(f"DROP TRIGGER {self.name} ON outbox_emails; DROP FUNCTION {self.name}()")


async def _second_owner(app, tenant_id: str) -> str:
    """A second active owner, written as the app role (tenant bound): invitations give other roles."""
    from app.models.identity.user import User
    from app.repositories.identity.users import UserRepository
    from tests.conftest import unique_email

    email = unique_email("co-owner")
    async with app.state.runtime.db.transaction(uuid.UUID(tenant_id)) as session:
        await UserRepository(session).add(User(email=email, full_name="Co Owner", password_hash="x", role="owner"))
    return email
