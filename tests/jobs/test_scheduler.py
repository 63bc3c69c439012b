"""The other scheduled work: a paid period's renewal reminder and its end, the monthly quota reset,
the cleanup of expired rows, and the outbox retry."""

import asyncio
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from app.core.database import drain_background_tasks
from app.core.runtime import Runtime
from app.models.base import utcnow
from app.models.identity.auth import AuthSession, EmailChange, EmailVerification, UserInvitation
from app.models.identity.security import RateLimitHit
from app.models.platform.idempotency import IdempotencyKey
from app.models.platform.outbox import OutboxEmail
from app.models.platform.usage import UsagePeriod
from app.repositories.identity.rate_limits import RateLimitRepository
from app.repositories.platform.jobs import DueWorkRepository
from app.services.platform import subscriptions
from app.services.platform.scheduler import run_due
from tests.api.v1.members import invite
from tests.api.v1.subscription_rows import history, subscription
from tests.conftest import PASSWORD, free_port, unique_email
from tests.factories import API, login, make_tenant
from tests.jobs.scheduling import REMINDER, reminder_counts, run, still_due, subjects, trial_day


@pytest.fixture
def rt(app) -> Runtime:
    return app.state.runtime


async def pay(rt: Runtime, tenant_id: str, at, plan: str = "standard") -> subscriptions.Activation:
    """A captured payment's effect, through the subscriptions service (what verify/webhook call)."""
    async with rt.db.transaction(uuid.UUID(tenant_id)) as session:
        return await subscriptions.activate_paid(session, rt.context(at=at), plan_code=plan)


class TestPaidPeriod:
    async def test_renewal_reminder_once_then_the_unrenewed_period_ends_on_free(self, client, rt, app, mailbox):
        owner = await make_tenant(client)
        paid = await pay(rt, owner.tenant_id, utcnow())
        end = paid.period_end
        reminder_at = end - timedelta(days=rt.settings.renewal_reminder_days)

        assert reminder_counts(await run(rt, reminder_at - timedelta(minutes=1), owner.tenant_id)) == (0, 0, 0, 0)
        racing = await asyncio.gather(*(run(rt, reminder_at + timedelta(minutes=1), owner.tenant_id) for _ in range(2)))
        assert sorted(s.renewal_reminders for s in racing) == [0, 1]
        assert reminder_counts(await run(rt, end - timedelta(hours=1), owner.tenant_id)) == (0, 0, 0, 0)
        assert await still_due(rt, reminder_at + timedelta(minutes=1), owner.tenant_id) == []
        [subject] = subjects(mailbox, owner.email, "plan ends on")
        assert subject.startswith("Your RMS Billing Standard plan ends on ")

        summary = await run(rt, end + timedelta(minutes=1), owner.tenant_id)
        assert (summary.transitions, summary.notices, summary.renewal_reminders) == (1, 1, 0)
        assert [row[:2] for row in await history(app, owner.tenant_id)][-2:] == [
            ("standard", "active"),
            ("free", "free"),
        ]
        assert subjects(mailbox, owner.email, "has ended") == ["Your RMS Billing Standard plan has ended"]
        assert reminder_counts(await run(rt, end + timedelta(minutes=2), owner.tenant_id)) == (0, 0, 0, 0)

    async def test_a_renewed_period_is_not_downgraded_and_gets_its_own_reminder(self, client, rt, app, mailbox):
        owner = await make_tenant(client)
        first = await pay(rt, owner.tenant_id, utcnow())
        days = timedelta(days=rt.settings.renewal_reminder_days)
        assert (await run(rt, first.period_end - days, owner.tenant_id)).renewal_reminders == 1
        renewed = await pay(rt, owner.tenant_id, first.period_end - timedelta(days=1))
        assert renewed.renewal and renewed.period_start == first.period_end

        assert reminder_counts(await run(rt, first.period_end + timedelta(minutes=1), owner.tenant_id)) == (0, 0, 0, 0)
        assert (await run(rt, renewed.period_end - days, owner.tenant_id)).renewal_reminders == 1
        assert len(subjects(mailbox, owner.email, "plan ends on")) == 2
        assert (await history(app, owner.tenant_id))[-1][:2] == ("standard", "active")


class TestQuotaReset:
    async def test_a_cycle_is_reset_once_even_when_two_runs_race(self, client, rt):
        owner = await make_tenant(client)
        first = await current_period(rt, owner.tenant_id)
        assert (await run(rt, first.period_end - timedelta(minutes=1), owner.tenant_id)).quota_resets == 0

        at = first.period_end + timedelta(minutes=1)  # the trial is over too: the cycle in force is the free plan's
        racing = await asyncio.gather(*(run(rt, at, owner.tenant_id) for _ in range(2)))
        assert sorted(s.quota_resets for s in racing) == [0, 1]
        second = await current_period(rt, owner.tenant_id)
        assert second.id != first.id and second.period_start <= at < second.period_end
        assert (second.plan_code, second.used) == ("free", 0)

        at = second.period_end + timedelta(minutes=1)  # a plain monthly reset on the same plan
        racing = await asyncio.gather(*(run(rt, at, owner.tenant_id) for _ in range(2)))
        assert sorted(s.quota_resets for s in racing) == [0, 1]
        assert (await run(rt, at + timedelta(minutes=1), owner.tenant_id)).quota_resets == 0
        assert await still_due(rt, at, owner.tenant_id) == []
        third = await current_period(rt, owner.tenant_id)
        assert (third.period_start, third.plan_code, third.quota) == (second.period_end, "free", second.quota)


async def current_period(rt: Runtime, tenant_id: str) -> UsagePeriod:
    async with rt.db.transaction(uuid.UUID(tenant_id)) as session:
        stmt = select(UsagePeriod).where(UsagePeriod.meter == "tokens", UsagePeriod.is_current)
        return (await session.execute(stmt)).scalar_one()


class TestCleanup:
    async def test_only_expired_rows_of_the_chosen_tenants_are_removed(self, client, rt):
        a, b = await make_tenant(client), await make_tenant(client)
        await login(client, a.email)  # a second session for a
        for _ in range(2):
            assert (await invite(client, a, unique_email("invitee"), "viewer")).status_code == 201
        for _ in range(2):  # the second request ends the first; both expire on their own date
            body = {"email": unique_email("moving"), "current_password": PASSWORD}
            assert (await client.patch(f"{API}/users/me", json=body, headers=a.headers)).status_code == 200
        now = utcnow()
        past = now - timedelta(minutes=1)
        async with rt.db.transaction(uuid.UUID(a.tenant_id)) as session:
            for key, expires in (("old", past), ("live", now + timedelta(hours=1))):
                session.add(idempotency_key(a.tenant_id, key, expires))
            await expire_one(session, AuthSession, past)
            await expire_one(session, UserInvitation, past)
            await expire_one(session, EmailVerification, past)
            await expire_one(session, EmailChange, past)
        async with rt.db.transaction(uuid.UUID(b.tenant_id)) as session:
            await expire_one(session, AuthSession, past)
        before_a, before_b = await counts(rt, a.tenant_id), await counts(rt, b.tenant_id)

        # A run at an instant far ahead (a moved clock, `run-due --at`) still deletes only what has
        # expired by the database's clock: a's live session, invitation and key stay.
        summary = await run(rt, now + timedelta(days=400), a.tenant_id)
        assert summary.cleaned == {
            "sessions": 1,
            "idempotency_keys": 1,
            "email_verifications": 1,
            "password_resets": 0,
            "user_invitations": 1,
            "email_changes": 1,
        }
        after_a = await counts(rt, a.tenant_id)
        assert after_a == {name: n - summary.cleaned[name] for name, n in before_a.items()}
        assert after_a["sessions"] == 1 and after_a["user_invitations"] == 1 and after_a["idempotency_keys"] == 1
        assert after_a["email_changes"] == 1
        assert await counts(rt, b.tenant_id) == before_b

        assert (await run(rt, now, a.tenant_id)).cleaned["sessions"] == 0
        assert (await run(rt, now, b.tenant_id)).cleaned["sessions"] == 1

    async def test_rate_limit_windows_older_than_a_day_are_removed(self, rt):
        """rate_limit_hits has no tenant: the run for every tenant (the scheduled one) cleans it,
        and never past the database's clock (a run far ahead keeps the live windows)."""
        now = utcnow()
        old, recent = f"test:old:{uuid.uuid4()}", f"test:recent:{uuid.uuid4()}"
        async with rt.db.transaction() as session:
            await RateLimitRepository(session).increment(old, now - timedelta(days=1, minutes=1))
            await RateLimitRepository(session).increment(recent, now - timedelta(hours=23))
        async with rt.db.transaction() as session:
            cleaned = await DueWorkRepository(session).cleanup(now + timedelta(days=400))
        assert cleaned["rate_limit_hits"] >= 1
        async with rt.db.transaction() as session:
            found = await session.execute(select(RateLimitHit.bucket).where(RateLimitHit.bucket.in_([old, recent])))
            assert found.scalars().all() == [recent]
        async with rt.db.transaction() as session:  # a run for chosen tenants leaves the global table alone
            assert "rate_limit_hits" not in await DueWorkRepository(session).cleanup(now, only=[uuid.uuid4()])


def idempotency_key(tenant_id: str, key: str, expires_at) -> IdempotencyKey:
    return IdempotencyKey(
        tenant_id=uuid.UUID(tenant_id),
        key=key,
        method="POST",
        path="/x",
        request_hash="0" * 64,
        state="completed",
        expires_at=expires_at,
    )


async def expire_one(session, model, at) -> None:
    oldest = select(model.id).order_by(model.id).limit(1).scalar_subquery()
    result = await session.execute(update(model).where(model.id == oldest).values(expires_at=at))
    assert result.rowcount == 1


async def counts(rt: Runtime, tenant_id: str) -> dict[str, int]:
    tables = {
        "sessions": AuthSession,
        "idempotency_keys": IdempotencyKey,
        "email_verifications": EmailVerification,
        "user_invitations": UserInvitation,
        "email_changes": EmailChange,
    }
    async with rt.db.transaction(uuid.UUID(tenant_id)) as session:
        return {
            name: (await session.execute(select(func.count()).select_from(m))).scalar_one()
            for name, m in tables.items()
        }


class TestOutboxRetry:
    async def test_mail_that_failed_is_delivered_later_once_and_the_cap_is_kept(self, client, rt, mailbox):
        owner = await make_tenant(client)
        sub = await subscription(client, owner)
        smtp_down = Runtime(settings=rt.settings.model_copy(update={"smtp_port": free_port()}), db=rt.db)
        assert (await run(smtp_down, trial_day(sub, 7), owner.tenant_id)).trial_reminders == 1
        [failed] = await pending(rt, owner.tenant_id)
        # its after-commit delivery failed (and, the run's instant being days ahead, maybe its retry too)
        assert failed.attempts in (1, 2) and "Connect" in failed.last_error and failed.next_attempt_at is not None
        assert subjects(mailbox, owner.email, REMINDER) == []

        capped = Runtime(settings=rt.settings.model_copy(update={"mail_max_attempts": failed.attempts}), db=rt.db)
        assert (await run(capped, failed.next_attempt_at + timedelta(minutes=1), owner.tenant_id)).mail_retried == 0
        assert (await run(rt, failed.next_attempt_at - timedelta(seconds=1), owner.tenant_id)).mail_retried == 0

        retries = await asyncio.gather(
            *(run_due(rt, failed.next_attempt_at, tenants=[uuid.UUID(owner.tenant_id)]) for _ in range(2))
        )
        assert sorted(s.mail_retried for s in retries) == [0, 1]
        assert subjects(mailbox, owner.email, REMINDER) == ["7 days left in your RMS Billing trial"]
        assert await pending(rt, owner.tenant_id) == []
        await drain_background_tasks()


async def pending(rt: Runtime, tenant_id: str) -> list[OutboxEmail]:
    async with rt.db.transaction(uuid.UUID(tenant_id)) as session:
        stmt = select(OutboxEmail).where(OutboxEmail.status == "pending")
        return list((await session.execute(stmt)).scalars())
