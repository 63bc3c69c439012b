"""Invitations (issue 8 §4, §7, §9): no cross-tenant email probe, a verified inviter, list and
revoke, lapse with the inviter, re-checked at accept, a seat of the users limit, rate limited."""

import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import update

from app.main import create_app
from app.models.identity.user import User
from tests.api.v1.http_checks import assert_problem
from tests.api.v1.members import add_member, invite, mailed_token
from tests.api.v1.subscription_rows import put_on_plan, subscription
from tests.conftest import PASSWORD, fresh_ip, unique_email
from tests.factories import API, Account, make_tenant, verify_email

INVITATION_FIELDS = {"id", "email", "role", "invited_by", "status", "expires_at", "revoked_at", "created_at"}


async def accept(client: httpx.AsyncClient, token: str) -> httpx.Response:
    body = {"token": token, "full_name": "Meena Iyer", "password": PASSWORD}
    return await client.post(f"{API}/auth/accept-invite", json=body)


async def invitations(client: httpx.AsyncClient, account: Account, **params) -> dict:
    response = await client.get(f"{API}/users/invitations", params=params, headers=account.headers)
    assert response.status_code == 200, response.text
    return response.json()


async def statuses(client: httpx.AsyncClient, account: Account) -> dict[str, str]:
    return {row["email"]: row["status"] for row in (await invitations(client, account, limit=100))["items"]}


async def revoke(client: httpx.AsyncClient, account: Account, invitation_id: str) -> httpx.Response:
    return await client.delete(f"{API}/users/invitations/{invitation_id}", headers=account.headers)


class TestNoEmailProbe:
    async def test_an_address_registered_elsewhere_is_answered_as_a_free_one(self, client, mailbox):
        owner = await make_tenant(client)
        elsewhere = await make_tenant(client)
        free = unique_email("free")
        taken, fresh = (
            await invite(client, owner, elsewhere.email, "viewer"),
            await invite(client, owner, free, "viewer"),
        )
        assert (taken.status_code, fresh.status_code) == (201, 201), taken.text
        assert taken.json().keys() == fresh.json().keys() == INVITATION_FIELDS
        assert (taken.json()["status"], taken.json()["role"]) == ("pending", "viewer")
        # The address learns what happened; it gets no link that could join it elsewhere.
        notice = await mailbox.wait_for(elsewhere.email, "invited you")
        assert "already has an RMS Billing account" in notice.get_body(("plain",)).get_content()
        assert "token=" not in notice.get_body(("plain",)).get_content()
        assert "token=" in (await mailbox.wait_for(free, "invited you")).get_body(("plain",)).get_content()
        # Nothing moved in the other tenant.
        assert (await client.get(f"{API}/users/me", headers=elsewhere.headers)).json()[
            "tenant_id"
        ] == elsewhere.tenant_id


class TestVerifiedEmailRequired:
    async def test_an_unverified_owner_cannot_invite(self, client):
        owner = await make_tenant(client)
        body = {"email": unique_email(), "role": "owner"}
        response = await client.post(f"{API}/users/invite", json=body, headers=owner.headers)
        assert_problem(response, 403, "email-unverified")
        assert (await invitations(client, owner))["items"] == []

    async def test_an_unverified_owner_cannot_pay(self, client):
        owner = await make_tenant(client)
        response = await client.post(f"{API}/tenants/upgrade", json={"plan": "standard"}, headers=owner.headers)
        assert_problem(response, 403, "email-unverified")
        payments = await client.get(f"{API}/tenants/payments", headers=owner.headers)
        assert payments.status_code == 200 and payments.json()["items"] == []
        await verify_email(client, owner)
        again = await client.post(f"{API}/tenants/upgrade", json={"plan": "standard"}, headers=owner.headers)
        assert again.status_code == 201, again.text


class TestList:
    async def test_keyset_pages_newest_first_with_status(self, client, mailbox):
        owner = await make_tenant(client)
        emails = [unique_email(f"i{n}") for n in range(3)]
        for email in emails:
            assert (await invite(client, owner, email, "viewer")).status_code == 201
        assert (await accept(client, await mailed_token(mailbox, emails[0], "invited"))).status_code == 201
        first = await invitations(client, owner, limit=2)
        second = await invitations(client, owner, limit=2, cursor=first["next_cursor"])
        assert second["next_cursor"] is None
        rows = first["items"] + second["items"]
        assert [r["email"] for r in rows] == emails[::-1]
        assert [r["status"] for r in rows] == ["pending", "pending", "accepted"]
        assert all(r["invited_by"] == owner.user["id"] for r in rows)
        pending = await invitations(client, owner, pending="true")
        assert [r["email"] for r in pending["items"]] == emails[:0:-1]
        oldest_first = await invitations(client, owner, sort="created_at")
        assert [r["email"] for r in oldest_first["items"]] == emails

    async def test_a_new_invitation_to_the_same_email_replaces_the_pending_one(self, client, mailbox):
        owner = await make_tenant(client)
        email = unique_email("twice")
        await invite(client, owner, email, "viewer")
        old_token = await mailed_token(mailbox, email, "invited")
        await invite(client, owner, email, "admin")
        rows = (await invitations(client, owner))["items"]
        assert [(r["role"], r["status"]) for r in rows] == [("admin", "pending"), ("viewer", "expired")]
        assert_problem(await accept(client, old_token), 400, "invalid-token")

    @pytest.mark.parametrize("role", ["accountant", "viewer"])
    async def test_only_owners_and_admins_list_and_revoke(self, client, mailbox, role):
        owner = await make_tenant(client)
        invitation = (await invite(client, owner, unique_email(), "viewer")).json()
        member = await add_member(client, mailbox, owner, role)
        response = await client.get(f"{API}/users/invitations", headers=member.headers)
        assert_problem(response, 403, "role-forbidden")
        assert_problem(await revoke(client, member, invitation["id"]), 403, "role-forbidden")
        assert (await statuses(client, owner))[invitation["email"]] == "pending"
        admin = await add_member(client, mailbox, owner, "admin")
        assert len((await invitations(client, admin, limit=100))["items"]) == 3  # 1 pending, 2 accepted


class TestRevoke:
    async def test_a_revoked_invitation_cannot_be_accepted(self, client, mailbox):
        owner = await make_tenant(client)
        email = unique_email("revoked")
        invitation = (await invite(client, owner, email, "viewer")).json()
        token = await mailed_token(mailbox, email, "invited")
        response = await revoke(client, owner, invitation["id"])
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "revoked" and response.json()["revoked_at"] is not None
        assert_problem(await accept(client, token), 400, "invalid-token")
        assert_problem(await revoke(client, owner, invitation["id"]), 409, "invitation-not-pending")
        assert (await statuses(client, owner))[email] == "revoked"

    async def test_an_accepted_invitation_is_not_revoked(self, client, mailbox):
        owner = await make_tenant(client)
        email = unique_email("joined")
        invitation = (await invite(client, owner, email, "viewer")).json()
        assert (await accept(client, await mailed_token(mailbox, email, "invited"))).status_code == 201
        assert_problem(await revoke(client, owner, invitation["id"]), 409, "invitation-not-pending")
        assert (await statuses(client, owner))[email] == "accepted"

    async def test_an_admin_cannot_revoke_an_owner_invitation(self, client, mailbox):
        owner = await make_tenant(client)
        admin = await add_member(client, mailbox, owner, "admin")
        invitation = (await invite(client, owner, unique_email(), "owner")).json()
        assert_problem(await revoke(client, admin, invitation["id"]), 403, "owner-only")
        assert (await statuses(client, owner))[invitation["email"]] == "pending"

    async def test_unknown_and_other_tenants_invitations_are_404(self, client):
        owner, other = await make_tenant(client), await make_tenant(client)
        theirs = (await invite(client, other, unique_email(), "viewer")).json()
        await verify_email(client, owner)
        assert_problem(await revoke(client, owner, theirs["id"]), 404)
        assert_problem(await revoke(client, owner, str(uuid.uuid4())), 404)
        assert (await statuses(client, other))[theirs["email"]] == "pending"
        assert (await invitations(client, owner))["items"] == []


class TestInviterChanges:
    async def test_deactivating_the_inviter_ends_their_pending_invitations(self, client, mailbox):
        owner = await make_tenant(client)
        admin = await add_member(client, mailbox, owner, "admin")
        email, kept = unique_email("lapsed"), unique_email("kept")
        await invite(client, admin, email, "viewer")
        await invite(client, owner, kept, "viewer")
        token = await mailed_token(mailbox, email, "invited")
        assert (await client.delete(f"{API}/users/{admin.user['id']}", headers=owner.headers)).status_code == 200
        assert_problem(await accept(client, token), 400, "invalid-token")
        assert await statuses(client, owner) | {admin.email: None} == {
            email: "expired",
            kept: "pending",
            admin.email: None,
        }

    async def test_demoting_the_inviter_ends_what_they_may_no_longer_grant(self, client, mailbox):
        owner = await make_tenant(client)
        second = await add_member(client, mailbox, owner, "owner")
        as_owner, as_viewer = unique_email("owner-role"), unique_email("viewer-role")
        await invite(client, second, as_owner, "owner")
        await invite(client, second, as_viewer, "viewer")
        path = f"{API}/users/{second.user['id']}"
        assert (await client.patch(path, json={"role": "admin"}, headers=owner.headers)).status_code == 200
        found = await statuses(client, owner)
        assert (found[as_owner], found[as_viewer]) == ("expired", "pending")
        assert (await client.patch(path, json={"role": "accountant"}, headers=owner.headers)).status_code == 200
        assert (await statuses(client, owner))[as_viewer] == "expired"

    async def test_accept_checks_the_inviter_again(self, client, app, mailbox):
        """An invitation made before its inviter lost the right (rows from before the lapse rule):
        accept itself refuses it."""
        owner = await make_tenant(client)
        admin = await add_member(client, mailbox, owner, "admin")
        email = unique_email("stale")
        await invite(client, admin, email, "viewer")
        token = await mailed_token(mailbox, email, "invited")
        async with app.state.runtime.db.transaction(uuid.UUID(owner.tenant_id)) as session:
            await session.execute(update(User).where(User.id == uuid.UUID(admin.user["id"])).values(role="viewer"))
        assert_problem(await accept(client, token), 400, "invalid-token")
        users = await client.get(f"{API}/users", params={"limit": 100}, headers=owner.headers)
        assert email not in [u["email"] for u in users.json()["items"]]


class TestSeatsAndLimits:
    async def test_a_pending_invitation_holds_a_seat_of_the_users_limit(self, client, app):
        owner = await make_tenant(client)
        await verify_email(client, owner)
        first = (await invite(client, owner, unique_email("seat"), "viewer")).json()
        await put_on_plan(app, owner.tenant_id, "free", "free")  # one user: the owner
        assert (await subscription(client, owner))["limits"]["active_users"] == {"limit": 1, "used": 2}
        over = assert_problem(await invite(client, owner, unique_email("over"), "viewer"), 402, "quota-exceeded")
        assert (over["limit"], over["used"]) == ("active_users", 2)
        assert (await revoke(client, owner, first["id"])).status_code == 200
        assert (await subscription(client, owner))["limits"]["active_users"] == {"limit": 1, "used": 1}


@pytest.fixture(scope="module")
async def few_invites_app(settings) -> AsyncIterator:
    application = create_app(settings.model_copy(update={"invite_limit_per_tenant": 2}))
    async with application.router.lifespan_context(application):
        yield application


async def test_invitations_are_rate_limited_per_tenant(few_invites_app):
    transport = httpx.ASGITransport(app=few_invites_app, client=(fresh_ip(), 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        owner, other = await make_tenant(client), await make_tenant(client)
        assert [(await invite(client, owner, unique_email(), "viewer")).status_code for _ in range(2)] == [201, 201]
        limited = await invite(client, owner, unique_email(), "viewer")
        assert_problem(limited, 429, "rate-limited")
        assert int(limited.headers["retry-after"]) > 0
        assert len((await invitations(client, owner, limit=100))["items"]) == 2
        assert (await invite(client, other, unique_email(), "viewer")).status_code == 201
