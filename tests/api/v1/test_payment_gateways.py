"""PUT | GET | DELETE /payment-gateways/razorpay: the business's own Razorpay keys, checked on save
by one harmless call against the fake Razorpay, encrypted at rest, never shown, never logged;
client_for (live, sandbox, not configured) and key rotation."""

import dataclasses
import logging
import ssl
import uuid

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select

from app.core.secret_box import DEV_PAYMENT_SECRET_KEY, SecretBox, SecretUnreadable
from app.models.commerce.gateway import PaymentGateway
from app.repositories.commerce.payment_gateways import webhook_tenant
from app.schemas.commerce.payment_gateways import GatewaySave
from app.services.commerce import payment_gateways, secret_rotation
from app.services.commerce.gateway_client import LiveTenantGateway, SandboxTenantGateway
from app.services.commerce.payment_gateways import Keys
from tests.api.v1.members import add_member
from tests.api.v1.paying import make_link, party_with_invoice, verify
from tests.api.v1.payment_flow import problem_code
from tests.api.v1.test_refunds import day, deliver, refund, sell
from tests.factories import API, make_tenant
from tests.fake_razorpay import (
    GATEWAY,
    RazorpayAccount,
    configure_gateway,
    fake_razorpay,
    razorpay_app,
    razorpay_client,
    webhook_path,
)

__all__ = ["day", "fake_razorpay", "razorpay_app", "razorpay_client"]  # fixtures


def body_of(account: RazorpayAccount) -> dict:
    return {"key_id": account.key_id, "key_secret": account.key_secret, "webhook_secret": account.webhook_secret}


async def stored(app, tenant_id: str) -> PaymentGateway | None:
    async with app.state.runtime.db.transaction(uuid.UUID(tenant_id)) as session:
        return (await session.execute(select(PaymentGateway))).scalar_one_or_none()


def assert_no_secret(text: str, *accounts: RazorpayAccount) -> None:
    for account in accounts:
        assert account.key_secret not in text
        assert account.webhook_secret not in text


class TestSave:
    async def test_the_owner_saves_keys_that_razorpay_accepts(self, razorpay_client, razorpay_app, fake_razorpay):
        owner = await make_tenant(razorpay_client)
        account = fake_razorpay.account()
        response = await razorpay_client.put(GATEWAY, json=body_of(account), headers=owner.headers)
        assert response.status_code == 200, response.text
        saved = response.json()
        assert_no_secret(response.text, account)
        assert (saved["provider"], saved["key_id"], saved["mode"]) == ("razorpay", account.key_id, "test")
        assert saved["sandbox"] is False
        assert saved["key_secret_last4"] == account.key_secret[-4:]
        assert saved["webhook_url"].endswith(f"/api/v1/webhooks/razorpay/{saved['webhook_id']}")
        assert "payment_link.paid" in saved["webhook_events"] and "refund.processed" in saved["webhook_events"]
        # The check was one harmless call (a read) with the keys being saved.
        [call] = fake_razorpay.calls_of(account)
        assert (call.method, call.path, call.auth) == ("GET", "/v1/orders", (account.key_id, account.key_secret))
        read = await razorpay_client.get(GATEWAY, headers=owner.headers)
        assert read.status_code == 200 and read.json() == saved
        assert_no_secret(read.text, account)

    async def test_secrets_are_encrypted_at_rest(self, razorpay_client, razorpay_app, fake_razorpay):
        owner = await make_tenant(razorpay_client)
        account = fake_razorpay.account()
        await configure_gateway(razorpay_client, owner, account)
        row = await stored(razorpay_app, owner.tenant_id)
        assert row is not None
        columns = " ".join(str(getattr(row, c.key)) for c in PaymentGateway.__table__.columns)
        assert_no_secret(columns, account)
        box = SecretBox((DEV_PAYMENT_SECRET_KEY,))  # the test settings' key
        assert box.decrypt(row.key_secret_encrypted) == account.key_secret
        assert box.decrypt(row.webhook_secret_encrypted) == account.webhook_secret

    async def test_bad_keys_are_400_and_nothing_is_stored(self, razorpay_client, razorpay_app, fake_razorpay):
        owner = await make_tenant(razorpay_client)
        account = fake_razorpay.account()
        wrong = body_of(account) | {"key_secret": account.key_secret + "x"}
        response = await razorpay_client.put(GATEWAY, json=wrong, headers=owner.headers)
        assert problem_code(response, 400) == "gateway-keys-invalid"
        assert response.json()["errors"][0]["loc"] == ["body", "key_secret"]
        assert_no_secret(response.text, account)
        assert wrong["key_secret"] not in response.text
        assert await stored(razorpay_app, owner.tenant_id) is None
        assert problem_code(await razorpay_client.get(GATEWAY, headers=owner.headers), 404) == (
            "payment-gateway-not-found"
        )
        unknown = RazorpayAccount("rzp_live_nobodyknowsme", "s" * 24, "w" * 24, "acc_none")
        response = await razorpay_client.put(GATEWAY, json=body_of(unknown), headers=owner.headers)
        assert problem_code(response, 400) == "gateway-keys-invalid"
        assert await stored(razorpay_app, owner.tenant_id) is None

    async def test_razorpay_down_is_503_and_nothing_is_stored(self, razorpay_client, razorpay_app, fake_razorpay):
        owner = await make_tenant(razorpay_client)
        account = fake_razorpay.account()
        fake_razorpay.fail_next(3, 500)  # the first try and both retries
        response = await razorpay_client.put(GATEWAY, json=body_of(account), headers=owner.headers)
        assert problem_code(response, 503) == "payment-gateway-unavailable"
        assert await stored(razorpay_app, owner.tenant_id) is None
        await configure_gateway(razorpay_client, owner, account)  # once it is back
        assert await stored(razorpay_app, owner.tenant_id) is not None

    @pytest.mark.parametrize(
        "change",
        [
            {"key_id": "key_test_abcdefgh"},
            {"key_id": "rzp_test_abc"},
            {"key_secret": "Sh0rt!"},
            {"key_secret": "has space in it"},
            {"webhook_secret": "x" * 129},
            {"webhook_secret": "nul\u0000inside"},
            {"tenant_id": str(uuid.uuid4())},
            {"webhook_id": "A" * 24},
        ],
    )
    async def test_malformed_bodies_are_422_and_call_nobody(self, razorpay_client, fake_razorpay, change):
        owner = await make_tenant(razorpay_client)
        account = fake_razorpay.account()
        response = await razorpay_client.put(GATEWAY, json=body_of(account) | change, headers=owner.headers)
        assert problem_code(response, 422) == "validation-error"
        assert fake_razorpay.calls_of(account) == []
        assert_no_secret(response.text, account)
        for name in ("key_secret", "webhook_secret"):
            if name in change:  # a refused secret is not echoed either
                assert change[name] not in response.text

    async def test_saving_again_replaces_the_keys_and_keeps_the_webhook_url(
        self, razorpay_client, razorpay_app, fake_razorpay
    ):
        owner = await make_tenant(razorpay_client)
        first, second = fake_razorpay.account(), fake_razorpay.account()
        before = await configure_gateway(razorpay_client, owner, first)
        after = await configure_gateway(razorpay_client, owner, second)
        assert (after["key_id"], after["key_secret_last4"]) == (second.key_id, second.key_secret[-4:])
        assert (after["webhook_id"], after["webhook_url"]) == (before["webhook_id"], before["webhook_url"])
        row = await stored(razorpay_app, owner.tenant_id)
        assert SecretBox((DEV_PAYMENT_SECRET_KEY,)).decrypt(row.key_secret_encrypted) == second.key_secret

    async def test_every_save_and_removal_is_audited_without_secrets(self, razorpay_client, fake_razorpay):
        owner = await make_tenant(razorpay_client)
        first, second = fake_razorpay.account(), fake_razorpay.account()
        await configure_gateway(razorpay_client, owner, first)
        await configure_gateway(razorpay_client, owner, second)
        assert (await razorpay_client.delete(GATEWAY, headers=owner.headers)).status_code == 204
        response = await razorpay_client.get(
            f"{API}/audit-logs", params={"entity_type": "payment_gateway"}, headers=owner.headers
        )
        assert response.status_code == 200, response.text
        actions = sorted(row["action"] for row in response.json()["items"])
        assert actions == ["payment_gateway.removed", "payment_gateway.saved", "payment_gateway.saved"]
        assert_no_secret(response.text, first, second)
        assert first.key_secret[-4:] in response.text  # what it shows instead


class TestRemove:
    async def test_removed_keys_are_gone_and_the_old_webhook_url_leads_nowhere(
        self, razorpay_client, razorpay_app, fake_razorpay
    ):
        owner = await make_tenant(razorpay_client)
        account = fake_razorpay.account()
        old = await configure_gateway(razorpay_client, owner, account)
        assert (await razorpay_client.delete(GATEWAY, headers=owner.headers)).status_code == 204
        assert problem_code(await razorpay_client.get(GATEWAY, headers=owner.headers), 404) == (
            "payment-gateway-not-found"
        )
        assert problem_code(await razorpay_client.delete(GATEWAY, headers=owner.headers), 404) == (
            "payment-gateway-not-found"
        )
        body, headers = fake_razorpay.payment_event(account, "payment.captured", "order_x1", "pay_x1")
        assert (await razorpay_client.post(webhook_path(old), content=body, headers=headers)).status_code == 404
        new = await configure_gateway(razorpay_client, owner, account)
        assert new["webhook_id"] != old["webhook_id"]
        assert (await razorpay_client.post(webhook_path(old), content=body, headers=headers)).status_code == 404
        async with razorpay_app.state.runtime.db.transaction() as session:
            # The old id stays the tenant's in the directory (never reused), yet leads nowhere.
            assert str(await webhook_tenant(session, old["webhook_id"])) == owner.tenant_id
            assert str(await webhook_tenant(session, new["webhook_id"])) == owner.tenant_id

    async def test_not_while_payments_are_open_on_the_account(self, razorpay_client, razorpay_app, fake_razorpay):
        """An open payment link would lose its webhooks (the URL leads nowhere) and its refunds would
        go to another account: removing the gateway, or saving another account's keys, is 409
        gateway-in-use until nothing is in flight; the same account's keys again (rotated secrets)
        stay allowed."""
        client, fake = razorpay_client, fake_razorpay
        owner = await make_tenant(client)
        account = fake.account()
        saved = await configure_gateway(client, owner, account)
        _party, invoice = await party_with_invoice(client, owner, "1180.00")
        made = await make_link(client, owner, invoice, expires_in_days=7)
        assert made.status_code == 201, made.text
        refused = await client.delete(GATEWAY, headers=owner.headers)
        assert problem_code(refused, 409) == "gateway-in-use"
        assert "1 online payment" in refused.json()["detail"]
        other = fake.account()
        refused = await client.put(GATEWAY, json=body_of(other), headers=owner.headers)
        assert problem_code(refused, 409) == "gateway-in-use"
        assert (await client.get(GATEWAY, headers=owner.headers)).json() == saved  # nothing changed
        # The same account again (its secrets rotated at Razorpay): allowed, the payments stay reachable.
        rotated = dataclasses.replace(account, webhook_secret=account.webhook_secret + "-rotated")
        again = await client.put(GATEWAY, json=body_of(rotated), headers=owner.headers)
        assert again.status_code == 200, again.text
        assert again.json()["webhook_id"] == saved["webhook_id"]
        # Once the customer paid, nothing is in flight: the account may go.
        link = fake.links[made.json()["payment"]["gateway_ref"]]
        paid = await verify(client, owner, made.json(), fake.pay_link(link["id"]))
        assert paid.status_code == 200, paid.text
        assert (await client.delete(GATEWAY, headers=owner.headers)).status_code == 204

    async def test_not_while_a_refund_is_pending_on_the_account(
        self, razorpay_client, razorpay_app, fake_razorpay, day
    ):
        """A refund Razorpay has not settled yet reports back to this account's webhook: the
        account stays until it is processed (or failed)."""
        client, fake = razorpay_client, fake_razorpay
        sold = await sell(client, fake, razorpay_app, day)
        made = await refund(client, sold, {"amount": "118.00", "reason": "Late delivery"})
        assert made.status_code == 201, made.text
        rid = made.json()["razorpay_refund_id"]
        refused = await client.delete(GATEWAY, headers=sold.owner.headers)
        assert problem_code(refused, 409) == "gateway-in-use"
        assert "1 refund pending" in refused.json()["detail"]
        refused = await client.put(GATEWAY, json=body_of(fake.account()), headers=sold.owner.headers)
        assert problem_code(refused, 409) == "gateway-in-use"
        fake.settle_refund(rid, "processed")
        assert await deliver(client, fake, sold, rid, "processed", 11800) == "processed"
        assert (await client.delete(GATEWAY, headers=sold.owner.headers)).status_code == 204


class TestRoles:
    async def test_only_the_owner(self, razorpay_client, fake_razorpay, mailbox):
        owner = await make_tenant(razorpay_client)
        account = fake_razorpay.account()
        await configure_gateway(razorpay_client, owner, account)
        for role in ("admin", "accountant", "viewer"):
            member = await add_member(razorpay_client, mailbox, owner, role)
            for method in ("GET", "DELETE"):
                response = await razorpay_client.request(method, GATEWAY, headers=member.headers)
                assert problem_code(response, 403) == "role-forbidden"
            other = fake_razorpay.account()
            response = await razorpay_client.put(GATEWAY, json=body_of(other), headers=member.headers)
            assert problem_code(response, 403) == "role-forbidden"
            assert fake_razorpay.calls_of(other) == []
        assert (await razorpay_client.get(GATEWAY, headers=owner.headers)).json()["key_id"] == account.key_id

    async def test_tenants_do_not_see_each_others_gateway(self, razorpay_client, fake_razorpay):
        first, second = await make_tenant(razorpay_client), await make_tenant(razorpay_client)
        await configure_gateway(razorpay_client, first, fake_razorpay.account())
        assert problem_code(await razorpay_client.get(GATEWAY, headers=second.headers), 404) == (
            "payment-gateway-not-found"
        )
        assert problem_code(await razorpay_client.delete(GATEWAY, headers=second.headers), 404) == (
            "payment-gateway-not-found"
        )
        assert (await razorpay_client.get(GATEWAY, headers=first.headers)).status_code == 200


class TestClientFor:
    async def test_live_with_saved_keys_else_409_in_live_mode(self, razorpay_client, razorpay_app, fake_razorpay):
        owner = await make_tenant(razorpay_client)
        runtime = razorpay_app.state.runtime
        tenant = uuid.UUID(owner.tenant_id)
        async with runtime.db.transaction(tenant) as session:
            with pytest.raises(Exception) as raised:
                await payment_gateways.client_for(session, runtime.context(tenant))
        assert getattr(raised.value, "code", None) == "gateway-not-configured"
        account = fake_razorpay.account()
        await configure_gateway(razorpay_client, owner, account)
        async with runtime.db.transaction(tenant) as session:
            gateway = await payment_gateways.client_for(session, runtime.context(tenant))
        assert isinstance(gateway, LiveTenantGateway) and not gateway.sandbox and gateway.key_id == account.key_id
        order = await gateway.create_order(amount_paise=12_345, receipt="r", notes={})
        assert fake_razorpay.owners[order.id] == account.key_id  # made on the tenant's own account

    async def test_sandbox_mode_is_the_sandbox_with_keys_saved_unchecked_or_not(self, client, app):
        owner = await make_tenant(client)
        tenant = uuid.UUID(owner.tenant_id)
        async with app.state.runtime.db.transaction(tenant) as session:
            gateway = await payment_gateways.client_for(session, app.state.runtime.context(tenant))
        assert isinstance(gateway, SandboxTenantGateway) and gateway.sandbox
        account = RazorpayAccount("rzp_test_0123456789abcd", "k" * 24, "w" * 24, "acc_sandbox")
        saved = await configure_gateway(client, owner, account)  # no Razorpay to ask: stored unchecked
        assert saved["sandbox"] is True and saved["key_secret_last4"] == "kkkk"
        assert (saved["verified"], saved["verified_at"]) == (False, None)  # never said checked
        async with app.state.runtime.db.transaction(tenant) as session:
            gateway = await payment_gateways.client_for(session, app.state.runtime.context(tenant))
        assert isinstance(gateway, SandboxTenantGateway)


class TestTransport:
    async def test_calls_share_one_tls_context_not_the_credentials(self, razorpay_app, fake_razorpay, monkeypatch):
        """Building a TLS context (loading the CA bundle) cost each Razorpay call tens of ms: the
        process builds one and every call, of every tenant, uses it; each call still carries its
        own account's keys."""
        settings = razorpay_app.state.runtime.settings
        first, second = fake_razorpay.account(), fake_razorpay.account()
        clients = [
            payment_gateways.live_client(settings, Keys(a.key_id, a.key_secret, a.webhook_secret))
            for a in (first, second)
        ]
        assert await clients[0].check_keys()  # the process's context exists from here on
        built = []
        real = ssl.create_default_context

        def counted(*args, **kwargs):
            built.append(args)
            return real(*args, **kwargs)

        monkeypatch.setattr(ssl, "create_default_context", counted)
        for gateway in clients + clients:
            assert await gateway.check_keys()
        assert built == []
        for account in (first, second):
            assert {call.auth for call in fake_razorpay.calls_of(account)} == {(account.key_id, account.key_secret)}

    async def test_live_keys_saved_unchecked_are_409_until_saved_again(
        self, razorpay_client, razorpay_app, fake_razorpay
    ):
        """Keys saved while the server ran in sandbox were never tried: once it runs live they are
        refused for payments (409 gateway-not-verified) until the owner saves them again, which
        checks them."""
        owner = await make_tenant(razorpay_client)
        runtime = razorpay_app.state.runtime
        tenant = uuid.UUID(owner.tenant_id)
        account = fake_razorpay.account()
        sandbox = runtime.settings.model_copy(update={"razorpay_mode": "sandbox"})
        async with runtime.db.transaction(tenant) as session:
            keys = Keys(account.key_id, account.key_secret, account.webhook_secret)
            await payment_gateways.save(
                session, dataclasses.replace(runtime.context(tenant), settings=sandbox), keys=keys
            )
        assert fake_razorpay.calls_of(account) == []  # unchecked
        read = (await razorpay_client.get(GATEWAY, headers=owner.headers)).json()
        assert (read["verified"], read["verified_at"]) == (False, None)
        _party, invoice = await party_with_invoice(razorpay_client, owner, "500.00")
        refused = await make_link(razorpay_client, owner, invoice)
        assert problem_code(refused, 409) == "gateway-not-verified"
        assert fake_razorpay.calls_of(account) == []  # nothing made with unchecked keys
        saved = await configure_gateway(razorpay_client, owner, account)  # live: checked now
        assert saved["verified"] is True and saved["verified_at"] is not None
        made = await make_link(razorpay_client, owner, invoice)
        assert made.status_code == 201, made.text


class TestKeyRotation:
    async def test_old_key_decrypts_new_key_encrypts(self, razorpay_client, razorpay_app, fake_razorpay):
        owner = await make_tenant(razorpay_client)
        account = fake_razorpay.account()
        await configure_gateway(razorpay_client, owner, account)  # under the settings' key (old)
        runtime, tenant = razorpay_app.state.runtime, uuid.UUID(owner.tenant_id)
        new_key = Fernet.generate_key().decode()
        rotated = runtime.settings.model_copy(update={"payment_secret_keys": [new_key, DEV_PAYMENT_SECRET_KEY]})
        ctx = dataclasses.replace(runtime.context(tenant), settings=rotated)
        async with runtime.db.transaction(tenant) as session:
            gateway = await payment_gateways.client_for(session, ctx)  # the old key still decrypts
            assert await gateway.create_order(amount_paise=10_000, receipt="r", notes={})
            await payment_gateways.save(session, ctx, keys=Keys(account.key_id, account.key_secret, "rotated-secret"))
        row = await stored(razorpay_app, owner.tenant_id)
        assert SecretBox((new_key,)).decrypt(row.key_secret_encrypted) == account.key_secret  # the new key encrypted
        assert SecretBox((new_key,)).decrypt(row.webhook_secret_encrypted) == "rotated-secret"
        with pytest.raises(SecretUnreadable):
            SecretBox((DEV_PAYMENT_SECRET_KEY,)).decrypt(row.key_secret_encrypted)
        only_new = dataclasses.replace(ctx, settings=rotated.model_copy(update={"payment_secret_keys": [new_key]}))
        async with runtime.db.transaction(tenant) as session:
            assert (await payment_gateways.client_for(session, only_new)).key_id == account.key_id

    async def test_secrets_under_a_dropped_key_are_a_502_naming_no_secret(
        self, razorpay_client, razorpay_app, fake_razorpay
    ):
        owner = await make_tenant(razorpay_client)
        account = fake_razorpay.account()
        await configure_gateway(razorpay_client, owner, account)
        runtime, tenant = razorpay_app.state.runtime, uuid.UUID(owner.tenant_id)
        dropped = runtime.settings.model_copy(update={"payment_secret_keys": [Fernet.generate_key().decode()]})
        async with runtime.db.transaction(tenant) as session:
            with pytest.raises(Exception) as raised:
                await payment_gateways.client_for(
                    session, dataclasses.replace(runtime.context(tenant), settings=dropped)
                )
        assert getattr(raised.value, "code", None) == "payment-gateway-error"
        assert_no_secret(str(raised.value), account)


class TestRotateAll:
    """`python -m app rotate-payment-secrets` (secret_rotation.rotate_all): every business's secrets
    under the newest key, found across tenants by the SECURITY DEFINER function of migration 0028."""

    async def test_every_tenant_is_re_encrypted_under_the_new_key(self, razorpay_client, razorpay_app, fake_razorpay):
        runtime = razorpay_app.state.runtime
        owners, accounts = [], []
        for _ in range(2):
            owners.append(await make_tenant(razorpay_client))
            accounts.append(fake_razorpay.account())
            await configure_gateway(razorpay_client, owners[-1], accounts[-1])  # under the dev key
        without = await make_tenant(razorpay_client)  # saved nothing: not a tenant to rotate
        new_key = Fernet.generate_key().decode()
        rotated = runtime.settings.model_copy(update={"payment_secret_keys": [new_key, DEV_PAYMENT_SECRET_KEY]})
        ids = [uuid.UUID(owner.tenant_id) for owner in [*owners, without]]
        rotation = await secret_rotation.rotate_all(dataclasses.replace(runtime, settings=rotated), only=ids)
        assert sorted(rotation.rotated) == sorted(ids[:2]) and rotation.unreadable == []
        for owner, account in zip(owners, accounts, strict=True):
            row = await stored(razorpay_app, owner.tenant_id)
            assert SecretBox((new_key,)).decrypt(row.key_secret_encrypted) == account.key_secret
            assert SecretBox((new_key,)).decrypt(row.webhook_secret_encrypted) == account.webhook_secret
        response = await razorpay_client.get(
            f"{API}/audit-logs", params={"action": "payment_gateway.secrets_rotated"}, headers=owners[0].headers
        )
        assert len(response.json()["items"]) == 1
        assert_no_secret(response.text, accounts[0])

    async def test_a_tenant_no_listed_key_opens_is_reported_and_left_as_it_was(
        self, razorpay_client, razorpay_app, fake_razorpay
    ):
        runtime = razorpay_app.state.runtime
        owner = await make_tenant(razorpay_client)
        await configure_gateway(razorpay_client, owner, fake_razorpay.account())
        before = await stored(razorpay_app, owner.tenant_id)
        dropped = runtime.settings.model_copy(update={"payment_secret_keys": [Fernet.generate_key().decode()]})
        tenant = uuid.UUID(owner.tenant_id)
        rotation = await secret_rotation.rotate_all(dataclasses.replace(runtime, settings=dropped), only=[tenant])
        assert (rotation.rotated, rotation.unreadable) == ([], [tenant])
        assert "UNREADABLE" in str(rotation)
        after = await stored(razorpay_app, owner.tenant_id)
        assert after.key_secret_encrypted == before.key_secret_encrypted


class TestLogs:
    async def test_no_secret_in_any_log_line(self, razorpay_client, razorpay_app, fake_razorpay, caplog):
        """Everything a gateway does, with every logger at DEBUG: saves good and bad, reads, a
        webhook signed right and wrong, an order made and refused; the secrets appear nowhere."""
        caplog.set_level(logging.DEBUG)
        owner = await make_tenant(razorpay_client)
        account, other = fake_razorpay.account(), fake_razorpay.account()
        bad = body_of(account) | {"key_secret": "wrong-" + account.key_secret}
        assert (await razorpay_client.put(GATEWAY, json=bad, headers=owner.headers)).status_code == 400
        malformed = body_of(account) | {"key_id": "not-a-key-id"}
        assert (await razorpay_client.put(GATEWAY, json=malformed, headers=owner.headers)).status_code == 422
        saved = await configure_gateway(razorpay_client, owner, account)
        assert (await razorpay_client.get(GATEWAY, headers=owner.headers)).status_code == 200
        body, headers = fake_razorpay.payment_event(account, "payment.captured", "order_abc1", "pay_abc1")
        assert (await razorpay_client.post(webhook_path(saved), content=body, headers=headers)).status_code == 200
        body, headers = fake_razorpay.payment_event(other, "payment.captured", "order_abc2", "pay_abc2")
        assert (await razorpay_client.post(webhook_path(saved), content=body, headers=headers)).status_code == 400
        runtime, tenant = razorpay_app.state.runtime, uuid.UUID(owner.tenant_id)
        async with runtime.db.transaction(tenant) as session:
            gateway = await payment_gateways.client_for(session, runtime.context(tenant))
        await gateway.create_order(amount_paise=10_000, receipt="r", notes={})
        fake_razorpay.fail_next(1, 400)
        with pytest.raises(Exception):
            await gateway.create_order(amount_paise=10_000, receipt="r", notes={})
        assert caplog.records, "nothing was logged: the test would prove nothing"
        logged = caplog.text + " ".join(repr(record.args) + str(record.exc_info) for record in caplog.records)
        assert_no_secret(logged, account, other)
        assert "wrong-" + account.key_secret not in logged
        assert "/v1/orders" in logged  # the calls were logged (httpx), only without their secrets

    def test_the_saved_body_shows_no_secret_in_its_repr(self):
        """The defect: GatewaySave's repr and str (what a log line or an error report prints of a
        request body) showed the key secret and the webhook secret."""
        body = GatewaySave(key_id="rzp_test_abcdefgh", key_secret="S3cret-key-0042", webhook_secret="wh-S3cret-0042")
        for shown in (repr(body), str(body), repr(Keys(body.key_id, body.key_secret, body.webhook_secret))):
            assert "S3cret-key-0042" not in shown and "wh-S3cret-0042" not in shown, shown
            assert "rzp_test_abcdefgh" in shown
