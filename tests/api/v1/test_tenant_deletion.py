"""POST /tenants/me/delete and POST /tenants/deletion/cancel (issue 13 §3): closed at once (sessions
revoked, logins, refreshes and invitations refused), nothing changed by a wrong password or name,
reopened within the window with the mailed token and an owner's password, not after it."""

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from app.repositories.identity.sessions import SessionRepository
from app.services.platform.tenant_deletion import cancel_token
from tests.api.v1.invoicing import Party
from tests.api.v1.members import add_member, invite, mailed_token
from tests.api.v1.paying import Books, make_link, party_with_invoice
from tests.api.v1.test_payment_links_live import callback_path
from tests.conftest import PASSWORD, unique_email
from tests.factories import API, Account, login, make_tenant
from tests.fake_razorpay import configure_gateway, fake_razorpay, razorpay_app, razorpay_client, webhook_path

__all__ = ["fake_razorpay", "razorpay_app", "razorpay_client"]  # fixtures

SUBJECT = "is closed and will be deleted"


async def delete(client, owner: Account, password: str = PASSWORD, confirmation: str | None = None):
    body = {"password": password, "confirmation": confirmation if confirmation is not None else "Deleting Traders"}
    return await client.post(f"{API}/tenants/me/delete", json=body, headers=owner.headers)


async def state(client, owner: Account) -> dict:
    response = await client.get(f"{API}/tenants/me", headers=owner.headers)
    assert response.status_code == 200, response.text
    return response.json()


class TestClosing:
    async def test_a_wrong_password_or_a_name_not_typed_exactly_changes_nothing(self, client):
        owner = await make_tenant(client, business_name="Deleting Traders")
        before = await state(client, owner)
        wrong = await delete(client, owner, password="not-the-password")
        assert (wrong.status_code, wrong.json()["code"]) == (400, "wrong-password")
        for typed in ("deleting traders", "Deleting Traders.", "Deleting  Traders", "Deleting"):
            answer = await delete(client, owner, confirmation=typed)
            assert (answer.status_code, answer.json()["code"]) == (400, "confirmation-mismatch"), typed
            assert answer.json()["errors"][0]["loc"] == ["body", "confirmation"]
        assert await state(client, owner) == before  # still open: the same token still works
        refreshed = await client.post(f"{API}/auth/refresh", json={"refresh_token": owner.refresh_token})
        assert refreshed.status_code == 200, refreshed.text

    async def test_only_the_owner_may_delete(self, client, mailbox):
        owner = await make_tenant(client, business_name="Deleting Traders")
        email = unique_email("admin")
        assert (await invite(client, owner, email, "admin")).status_code == 201
        token = await mailed_token(mailbox, email, "invited")
        accepted = await client.post(
            f"{API}/auth/accept-invite", json={"token": token, "full_name": "Asha Admin", "password": PASSWORD}
        )
        assert accepted.status_code == 201, accepted.text
        admin = await login(client, email)
        answer = await delete(client, admin)
        assert (answer.status_code, answer.json()["code"]) == (403, "role-forbidden")
        assert (await state(client, owner))["id"] == owner.tenant_id

    async def test_closed_at_once_for_every_user_and_reopened_with_the_mailed_link(self, client, mailbox, today):
        owner = await make_tenant(client, business_name="Deleting Traders")
        second = await login(client, owner.email)  # another device
        invited = unique_email("invitee")
        assert (await invite(client, owner, invited, "viewer")).status_code == 201
        invitation = await mailed_token(mailbox, invited, "invited")
        invoice = await (await Party.make(client, owner)).invoice(client)
        shared = await client.post(f"{API}/invoices/{invoice['id']}/share", json={}, headers=owner.headers)
        assert shared.status_code == 201, shared.text
        public_page = "/p/" + shared.json()["url"].rsplit("/p/", 1)[1]
        assert (await client.get(public_page)).status_code == 200

        closed = await delete(client, owner)
        assert closed.status_code == 202, closed.text
        body = closed.json()
        assert body["status"] == "closed"
        assert body["purge_after"] is not None and body["closed_at"] is not None
        closed_at, purge_after = (datetime.fromisoformat(body[k]) for k in ("closed_at", "purge_after"))
        assert purge_after - closed_at == timedelta(days=30)

        for account in (owner, second):  # every session ended
            me = await client.get(f"{API}/users/me", headers=account.headers)
            assert me.status_code == 401, me.text
        refreshed = await client.post(f"{API}/auth/refresh", json={"refresh_token": second.refresh_token})
        assert (refreshed.status_code, refreshed.json()["code"]) == (403, "tenant-closed")
        logged_in = await client.post(f"{API}/auth/login", json={"email": owner.email, "password": PASSWORD})
        assert (logged_in.status_code, logged_in.json()["code"]) == (403, "tenant-closed")
        wrong = await client.post(f"{API}/auth/login", json={"email": owner.email, "password": "nope-nope"})
        assert wrong.status_code == 401  # a wrong password does not learn that the account is closed
        accepted = await client.post(
            f"{API}/auth/accept-invite", json={"token": invitation, "full_name": "Late Joiner", "password": PASSWORD}
        )
        assert accepted.status_code == 400, accepted.text  # pending invitations ended
        assert (await client.get(public_page)).status_code == 404  # its share links lead nowhere

        token = await mailed_token(mailbox, owner.email, SUBJECT)
        page = await client.get(f"/pages/cancel-deletion?token={token}")
        assert page.status_code == 200 and "Cancel the deletion" in page.text

        cancel = f"{API}/tenants/deletion/cancel"
        tampered = token[:-2] + ("AA" if token[-2:] != "AA" else "BB")
        answer = await client.post(cancel, json={"token": tampered, "password": PASSWORD})
        assert (answer.status_code, answer.json()["code"]) == (400, "invalid-token")
        answer = await client.post(cancel, json={"token": token, "password": "not-the-password"})
        assert (answer.status_code, answer.json()["code"]) == (400, "wrong-password")
        still = await client.post(f"{API}/auth/login", json={"email": owner.email, "password": PASSWORD})
        assert still.status_code == 403

        reopened = await client.post(cancel, json={"token": token, "password": PASSWORD})
        assert reopened.status_code == 200, reopened.text
        assert reopened.json() == {"status": "open", "closed_at": None, "purge_after": None}
        again = await login(client, owner.email)
        assert (await state(client, again))["id"] == owner.tenant_id
        assert (await client.get(public_page)).status_code == 200
        replay = await client.post(cancel, json={"token": token, "password": PASSWORD})
        assert (replay.status_code, replay.json()["code"]) == (400, "invalid-token")

        audit = await client.get(f"{API}/audit-logs", params={"entity_id": owner.tenant_id}, headers=again.headers)
        assert audit.status_code == 200, audit.text
        actions = {row["action"] for row in audit.json()["items"]}
        assert {"tenant.closed", "tenant.reopened"} <= actions

    async def test_a_login_racing_the_closure_leaves_no_live_session(self, client, monkeypatch):
        """A login that found the tenant open and commits its session after the closure revoked every
        session would hold a working access token on a closed tenant: the closure waits for it."""
        owner = await make_tenant(client, business_name="Deleting Traders")
        add = SessionRepository.add

        async def slow_add(self, row):
            await asyncio.sleep(1)  # between the login's check of the tenant and its session's insert
            return await add(self, row)

        monkeypatch.setattr(SessionRepository, "add", slow_add)
        logging_in = asyncio.create_task(
            client.post(f"{API}/auth/login", json={"email": owner.email, "password": PASSWORD})
        )
        await asyncio.sleep(0.5)
        assert (await delete(client, owner)).status_code == 202
        logged_in = await logging_in
        if logged_in.status_code == 200:  # it went first: its session must have been revoked with the rest
            headers = {"Authorization": f"Bearer {logged_in.json()['access_token']}"}
            me = await client.get(f"{API}/users/me", headers=headers)
            assert me.status_code == 401, me.text
        else:
            assert (logged_in.status_code, logged_in.json()["code"]) == (403, "tenant-closed")

    async def test_every_owner_is_mailed_the_cancel_link(self, client, mailbox):
        """A co-owner loses the business too: each active owner gets the mail with the cancel link (one
        owner's account taken over must not delete the business unseen by the others), and it works."""
        owner = await make_tenant(client, business_name="Deleting Traders")
        other = await add_member(client, mailbox, owner, "owner")
        assert (await delete(client, owner)).status_code == 202
        await mailed_token(mailbox, owner.email, SUBJECT)
        token = await mailed_token(mailbox, other.email, SUBJECT)
        message = await mailbox.wait_for(other.email, SUBJECT)
        assert owner.email in message.get_body(("plain",)).get_content()  # who closed it
        reopened = await client.post(f"{API}/tenants/deletion/cancel", json={"token": token, "password": PASSWORD})
        assert reopened.status_code == 200, reopened.text

    async def test_an_older_closures_link_does_not_reopen_a_later_one(self, client, mailbox, app, today):
        owner = await make_tenant(client, business_name="Deleting Traders")
        assert (await delete(client, owner)).status_code == 202
        first = await mailed_token(mailbox, owner.email, SUBJECT)
        cancel = f"{API}/tenants/deletion/cancel"
        assert (await client.post(cancel, json={"token": first, "password": PASSWORD})).status_code == 200
        runtime = app.state.runtime
        later = runtime.clock() + timedelta(minutes=5)
        runtime.clock = lambda: later
        owner = await login(client, owner.email)
        assert (await delete(client, owner)).status_code == 202
        answer = await client.post(cancel, json={"token": first, "password": PASSWORD})
        assert (answer.status_code, answer.json()["code"]) == (400, "invalid-token")

    async def test_no_cancelling_once_the_window_is_over(self, client, mailbox, app, today):
        owner = await make_tenant(client, business_name="Deleting Traders")
        closed = await delete(client, owner)
        assert closed.status_code == 202
        runtime = app.state.runtime
        token = await mailed_token(mailbox, owner.email, SUBJECT)
        past = runtime.clock() + timedelta(days=30, seconds=1)
        runtime.clock = lambda: past
        answer = await client.post(f"{API}/tenants/deletion/cancel", json={"token": token, "password": PASSWORD})
        assert (answer.status_code, answer.json()["code"]) == (409, "deletion-window-over")

    def test_the_token_is_bound_to_the_closure(self, settings):
        tenant = uuid.uuid4()
        moment = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
        token = cancel_token(settings, tenant, moment)
        assert token == cancel_token(settings, tenant, moment)
        assert token != cancel_token(settings, tenant, moment + timedelta(microseconds=1))
        assert token != cancel_token(settings, uuid.uuid4(), moment)

    async def test_forged_tokens_naming_the_tenant_do_not_lock_the_owner_out_of_cancelling(
        self, client, mailbox, settings
    ):
        """The tenant id is no secret (every refresh token and share link starts with it): tokens
        forged around it must not use up the attempts of the owner who holds the real link, or
        anyone could keep the owner from cancelling until the purge."""
        owner = await make_tenant(client, business_name="Deleting Traders")
        assert (await delete(client, owner)).status_code == 202
        token = await mailed_token(mailbox, owner.email, SUBJECT)
        tenant = uuid.UUID(owner.tenant_id)
        cancel = f"{API}/tenants/deletion/cancel"
        for _ in range(settings.password_check_limit + 2):
            forged = cancel_token(settings, tenant, datetime.now(UTC))  # right shape, wrong closure
            answer = await client.post(cancel, json={"token": forged, "password": PASSWORD})
            assert (answer.status_code, answer.json()["code"]) == (400, "invalid-token")
        reopened = await client.post(cancel, json={"token": token, "password": PASSWORD})
        assert reopened.status_code == 200, reopened.text


async def test_a_customer_paying_an_open_link_after_the_closure_is_recorded(
    razorpay_client, razorpay_app, fake_razorpay
):
    """The decision (README, "Deleting a tenant"): a payment link lives on the business's own Razorpay
    account, so its customer can still pay it after the closure, and the money is the business's. The
    callback page and the webhook record it while the tenant awaits its purge (its books stay right if
    the owner cancels). After the purge its webhook URL and callback answer 404."""
    client, fake = razorpay_client, fake_razorpay
    owner = await make_tenant(client, business_name="Deleting Traders")
    account = fake.account()
    gateway = await configure_gateway(client, owner, account)
    _, invoice = await party_with_invoice(client, owner, "700.00")
    made = (await make_link(client, owner, invoice)).json()
    link = fake.links[made["payment"]["gateway_ref"]]
    assert (await delete(client, owner)).status_code == 202

    query = fake.pay_link(link["id"])
    page = await client.get(callback_path(link, query))
    assert page.status_code == 200 and "Payment received" in page.text
    body, headers = fake.link_paid_event(account, link["id"])
    answer = await client.post(webhook_path(gateway), content=body, headers=headers)
    assert answer.status_code == 200, answer.text
    receipts = await Books(razorpay_app, owner.tenant_id).receipts()
    assert [receipt.amount for receipt in receipts] == [Decimal("700.00")]
