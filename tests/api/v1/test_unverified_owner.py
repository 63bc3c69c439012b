"""Pre-registration takeover (issue 8 §9): someone registers another person's address and never
verifies it. They cannot invite or pay (test_invitations); and when the real person resets the
password (the first proof that they read the mail), everyone else who got into the business is
shut out and pending invitations end."""

import uuid

import httpx
from sqlalchemy import update

from app.models.identity.user import User
from tests.api.v1.http_checks import assert_problem
from tests.api.v1.members import add_member, invite, mailed_token
from tests.conftest import unique_email
from tests.factories import API, Account, login, make_tenant

NEW_PASSWORD = "a-brand-new-passphrase"


async def reset_password(client: httpx.AsyncClient, mailbox, account: Account) -> None:
    before = len(mailbox.to(account.email))
    assert (await client.post(f"{API}/auth/forgot-password", json={"email": account.email})).status_code == 202
    await mailbox.wait_for(account.email, "Reset your")
    assert len(mailbox.to(account.email)) > before
    token = await mailed_token(mailbox, account.email, "Reset your")
    body = {"token": token, "new_password": NEW_PASSWORD}
    assert (await client.post(f"{API}/auth/reset-password", json=body)).status_code == 204


async def business_with_members(client: httpx.AsyncClient, mailbox) -> tuple[Account, Account, str]:
    owner = await make_tenant(client)
    admin = await add_member(client, mailbox, owner, "admin")
    pending = unique_email("pending")
    assert (await invite(client, admin, pending, "viewer")).status_code == 201
    return owner, admin, await mailed_token(mailbox, pending, "invited")


async def test_a_never_verified_owners_reset_shuts_out_everyone_else(client, app, mailbox):
    owner, admin, pending_token = await business_with_members(client, mailbox)
    # A business whose owner never proved the address (its members got in before the rule).
    async with app.state.runtime.db.transaction(uuid.UUID(owner.tenant_id)) as session:
        stmt = update(User).where(User.id == uuid.UUID(owner.user["id"])).values(email_verified_at=None)
        await session.execute(stmt)

    await reset_password(client, mailbox, owner)

    me = await login(client, owner.email, NEW_PASSWORD)
    assert me.user["email_verified"] is True
    login_admin = {"email": admin.email, "password": admin.password}
    assert_problem(await client.post(f"{API}/auth/login", json=login_admin), 401, "invalid-credentials")
    assert_problem(await client.get(f"{API}/users/me", headers=admin.headers), 401)
    accept = {"token": pending_token, "full_name": "Someone", "password": NEW_PASSWORD}
    assert_problem(await client.post(f"{API}/auth/accept-invite", json=accept), 400, "invalid-token")
    users = (await client.get(f"{API}/users", headers=me.headers)).json()["items"]
    assert {u["email"]: u["is_active"] for u in users} == {owner.email: True, admin.email: False}
    logs = await client.get(
        f"{API}/audit-logs", params={"action": "tenant.unverified_owner_reclaimed"}, headers=me.headers
    )
    assert [row["after"]["deactivated_users"] for row in logs.json()["items"]] == [[admin.user["id"]]]


async def test_a_verified_owners_reset_leaves_the_business_alone(client, mailbox):
    owner, admin, pending_token = await business_with_members(client, mailbox)
    await reset_password(client, mailbox, owner)
    await login(client, admin.email)
    accept = {"token": pending_token, "full_name": "Someone", "password": NEW_PASSWORD}
    assert (await client.post(f"{API}/auth/accept-invite", json=accept)).status_code == 201
