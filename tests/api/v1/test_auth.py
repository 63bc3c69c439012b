"""Authentication end to end through HTTP: sign-up, mail links, tokens, passwords, invitations."""

import asyncio
import re
import statistics
import time
import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from email.message import EmailMessage

import httpx
import pytest
from sqlalchemy import text

from app.core.database import drain_background_tasks
from app.core.security import token_digest
from app.main import create_app
from app.models.base import utcnow
from tests.api.v1.members import invite
from tests.conftest import PASSWORD, fresh_ip, unique_email
from tests.factories import API, Account, login, make_tenant

BASE = "http://test"
NEW_PASSWORD = "a-brand-new-secret"
TOO_LONG_PASSWORD = "é" * 30 + "a" * 20  # 50 characters, 80 UTF-8 bytes


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def link_in(message: EmailMessage, path: str) -> str:
    """The link to `path` in the mail's text part, relative to the test client's base URL."""
    text = message.get_body(("plain",)).get_content()
    match = re.search(rf"{re.escape(BASE)}(/pages/{path}\?token=[A-Za-z0-9_-]+)", text)
    assert match, f"no {path} link in {text!r}"
    return match.group(1)


async def mails_to(mailbox, address: str, count: int) -> list[EmailMessage]:
    """Wait until at least `count` mails reached `address`."""
    await drain_background_tasks()
    for _ in range(200):
        if len(mailbox.to(address)) >= count:
            return mailbox.to(address)
        await asyncio.sleep(0.05)
    raise AssertionError(f"{address} got {len(mailbox.to(address))} mails, expected {count}")


def token_in(message: EmailMessage, path: str) -> str:
    return link_in(message, path).split("token=", 1)[1]


async def verify_by_link(client: httpx.AsyncClient, message: EmailMessage) -> httpx.Response:
    """What the mailed verification link does when clicked: the page, then its button's POST."""
    page = await client.get(link_in(message, "verify-email"))
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html"), page.text
    return await client.post(f"{API}/auth/verify-email", json={"token": token_in(message, "verify-email")})


def register_body(email: str, password: str = PASSWORD, **extra) -> dict:
    return {"email": email, "password": password, "full_name": "Asha Rao", "business_name": "Rao Traders", **extra}


async def register(client: httpx.AsyncClient, email: str, **extra) -> httpx.Response:
    return await client.post(f"{API}/auth/register", json=register_body(email, **extra))


async def me(client: httpx.AsyncClient, access_token: str) -> httpx.Response:
    return await client.get(f"{API}/users/me", headers=bearer(access_token))


async def refresh(client: httpx.AsyncClient, refresh_token: str) -> httpx.Response:
    return await client.post(f"{API}/auth/refresh", json={"refresh_token": refresh_token})


async def audit_actions(client: httpx.AsyncClient, owner: Account) -> list[str]:
    response = await client.get(f"{API}/audit-logs", params={"limit": 100}, headers=owner.headers)
    assert response.status_code == 200, response.text
    return [row["action"] for row in response.json()["items"]]


async def tenant_user_emails(client: httpx.AsyncClient, owner: Account) -> list[str]:
    response = await client.get(f"{API}/users", params={"limit": 100}, headers=owner.headers)
    assert response.status_code == 200, response.text
    return [u["email"] for u in response.json()["items"]]


def assert_problem(response: httpx.Response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert {"type", "title", "status", "detail", "code"} <= body.keys()
    assert body["status"] == status
    if code is not None:
        assert body["code"] == code
    return body


class TestRegister:
    async def test_answers_202_and_mails_a_working_verification_link(self, client, mailbox):
        email = unique_email("signup")
        response = await register(client, email)
        assert response.status_code == 202
        assert set(response.json()) == {"detail"}

        mail = await mailbox.wait_for(email, "Verify your email")
        account = await login(client, email)
        assert account.user["email_verified"] is False

        verified = await verify_by_link(client, mail)
        assert verified.status_code == 200, verified.text
        assert verified.json()["email_verified"] is True
        assert (await me(client, account.access_token)).json()["email_verified"] is True
        assert_problem(await verify_by_link(client, mail), 400, "invalid-token")

    async def test_verification_by_post_is_single_use(self, client, mailbox):
        email = unique_email("signup")
        await register(client, email)
        token = token_in(await mailbox.wait_for(email, "Verify your email"), "verify-email")
        first = await client.post(f"{API}/auth/verify-email", json={"token": token})
        assert first.status_code == 200 and first.json()["email_verified"] is True
        assert_problem(await client.post(f"{API}/auth/verify-email", json={"token": token}), 400, "invalid-token")

    async def test_starts_a_14_day_trial_for_an_owner(self, client):
        owner = await make_tenant(client)
        assert owner.user["role"] == "owner"
        tenant = (await client.get(f"{API}/tenants/me", headers=owner.headers)).json()
        assert tenant["id"] == owner.tenant_id
        assert tenant["trial_start_date"] is not None and tenant["trial_end_date"] is not None

    async def test_taken_email_answers_the_same_and_mails_the_existing_owner(self, client, mailbox):
        owner = await make_tenant(client)
        fresh = await register(client, unique_email("signup"))
        again = await register(client, owner.email.upper(), password="another-password-1")

        assert again.status_code == fresh.status_code == 202
        assert again.json() == fresh.json()
        await mailbox.wait_for(owner.email, "already have an RMS Billing account")
        assert await tenant_user_emails(client, owner) == [owner.email]
        assert (await me(client, (await login(client, owner.email)).access_token)).json()[
            "tenant_id"
        ] == owner.tenant_id
        rejected = await client.post(f"{API}/auth/login", json={"email": owner.email, "password": "another-password-1"})
        assert_problem(rejected, 401, "invalid-credentials")


class TestLogin:
    async def test_json_login_returns_a_token_pair(self, client):
        owner = await make_tenant(client)
        response = await client.post(f"{API}/auth/login", json={"email": owner.email, "password": PASSWORD})
        assert response.status_code == 200
        body = response.json()
        assert body["token_type"] == "bearer"
        assert body["expires_in"] == 1800
        assert body["access_token"] and body["refresh_token"]
        assert (await me(client, body["access_token"])).json()["email"] == owner.email

    async def test_oauth2_form_login(self, client):
        owner = await make_tenant(client)
        response = await client.post(f"{API}/auth/token", data={"username": owner.email, "password": PASSWORD})
        assert response.status_code == 200, response.text
        assert (await me(client, response.json()["access_token"])).json()["id"] == owner.user["id"]
        wrong = await client.post(f"{API}/auth/token", data={"username": owner.email, "password": "wrong-password"})
        assert_problem(wrong, 401, "invalid-credentials")

    async def test_unknown_email_and_wrong_password_answer_the_same(self, client):
        owner = await make_tenant(client)
        wrong = await client.post(f"{API}/auth/login", json={"email": owner.email, "password": "wrong-password"})
        unknown = await client.post(f"{API}/auth/login", json={"email": unique_email(), "password": "wrong-password"})
        assert_problem(wrong, 401, "invalid-credentials")
        assert unknown.status_code == wrong.status_code
        assert unknown.json() == wrong.json()
        assert unknown.headers.get("www-authenticate") == wrong.headers.get("www-authenticate")

    async def test_deactivated_user_cannot_log_in(self, client, mailbox):
        owner = await make_tenant(client)
        member = await invite_and_accept(client, mailbox, owner, "viewer")
        response = await client.delete(f"{API}/users/{member.user['id']}", headers=owner.headers)
        assert response.status_code == 200, response.text
        rejected = await client.post(f"{API}/auth/login", json={"email": member.email, "password": PASSWORD})
        assert_problem(rejected, 401, "invalid-credentials")
        assert (await me(client, member.access_token)).status_code == 401


@pytest.fixture(scope="module")
async def costly_hash_client(settings) -> AsyncIterator[httpx.AsyncClient]:
    """bcrypt costly enough to dominate a login, and no rate limits in the way of repeated tries."""
    tuned = settings.model_copy(
        update={
            "bcrypt_rounds": 10,
            "login_limit_per_email_ip": 10**6,
            "login_limit_per_email": 10**6,
            "login_limit_per_ip": 10**6,
        }
    )
    application = create_app(tuned)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application, client=(fresh_ip(), 40000))
        async with httpx.AsyncClient(transport=transport, base_url=BASE) as c:
            yield c


async def timed_login(client: httpx.AsyncClient, email: str) -> float:
    started = time.perf_counter()
    response = await client.post(f"{API}/auth/login", json={"email": email, "password": "wrong-password"})
    elapsed = time.perf_counter() - started
    assert response.status_code == 401
    return elapsed


async def test_unknown_email_and_wrong_password_take_similar_time(costly_hash_client):
    owner = await make_tenant(costly_hash_client)
    await timed_login(costly_hash_client, owner.email)
    known, unknown = [], []
    for _ in range(7):
        known.append(await timed_login(costly_hash_client, owner.email))
        unknown.append(await timed_login(costly_hash_client, unique_email()))
    ratio = statistics.median(unknown) / statistics.median(known)
    assert 0.5 <= ratio <= 2, f"unknown/known login time ratio {ratio:.2f} ({unknown} vs {known})"


class TestRefresh:
    async def test_rotates_and_the_old_token_dies_after_the_grace_window(self, clocked):
        client, clock = clocked
        owner = await make_tenant(client)
        rotated = await refresh(client, owner.refresh_token)
        assert rotated.status_code == 200, rotated.text
        pair = rotated.json()
        assert pair["refresh_token"] != owner.refresh_token
        assert pair["expires_in"] == 1800
        assert (await me(client, pair["access_token"])).status_code == 200
        clock.advance(seconds=31)
        assert_problem(await refresh(client, owner.refresh_token), 401, "invalid-refresh-token")

    async def test_a_second_generation_reuse_revokes_the_whole_family(self, client):
        owner = await make_tenant(client)
        second = (await refresh(client, owner.refresh_token)).json()
        newest = (await refresh(client, second["refresh_token"])).json()
        assert (await me(client, newest["access_token"])).status_code == 200

        assert_problem(await refresh(client, owner.refresh_token), 401)

        assert_problem(await refresh(client, newest["refresh_token"]), 401, "invalid-refresh-token")
        assert (await me(client, newest["access_token"])).status_code == 401
        assert (await me(client, owner.access_token)).status_code == 401

    async def test_reuse_after_the_grace_window_revokes_the_whole_family(self, clocked):
        client, clock = clocked
        owner = await make_tenant(client)
        successor = (await refresh(client, owner.refresh_token)).json()
        clock.advance(seconds=31)
        assert_problem(await refresh(client, owner.refresh_token), 401, "invalid-refresh-token")
        assert_problem(await refresh(client, successor["refresh_token"]), 401, "invalid-refresh-token")
        assert (await me(client, successor["access_token"])).status_code == 401

    async def test_reuse_leaves_other_sessions_alone(self, client):
        owner = await make_tenant(client)
        other = await login(client, owner.email)
        second = (await refresh(client, owner.refresh_token)).json()
        await refresh(client, second["refresh_token"])
        assert_problem(await refresh(client, owner.refresh_token), 401)
        assert (await me(client, other.access_token)).status_code == 200
        assert (await refresh(client, other.refresh_token)).status_code == 200

    @pytest.mark.parametrize("token", ["not-a-token", "A" * 64, "A" * 200])
    async def test_unknown_tokens_are_401(self, client, token):
        assert_problem(await refresh(client, token), 401, "invalid-refresh-token")

    async def test_reuse_is_audited(self, client):
        owner = await make_tenant(client)
        second = (await refresh(client, owner.refresh_token)).json()
        await refresh(client, second["refresh_token"])
        await refresh(client, owner.refresh_token)
        fresh = await login(client, owner.email)
        actions = await audit_actions(client, fresh)
        assert "auth.refresh" in actions
        assert "auth.refresh_token_reused" in actions


async def family_tokens(app, tenant_id: str, refresh_token: str) -> list[tuple[str, bool]]:
    """(token hash, live) of every refresh token in the family of `refresh_token`."""
    async with app.state.db.transaction(uuid.UUID(tenant_id)) as session:
        rows = await session.execute(
            text(
                "SELECT token_hash, revoked_at IS NULL FROM sessions WHERE family_id = "
                "(SELECT family_id FROM sessions WHERE token_hash = :h) ORDER BY created_at"
            ),
            {"h": token_digest(refresh_token)},
        )
        return [tuple(r) for r in rows]


class TestRefreshGraceWindow:
    """Two tabs (or a retried request) presenting the same refresh token: REFRESH_REUSE_GRACE_SECONDS."""

    async def test_the_same_token_again_within_the_window_gets_the_same_successor(self, app, clocked):
        client, clock = clocked
        owner = await make_tenant(client)
        first = (await refresh(client, owner.refresh_token)).json()
        clock.advance(seconds=29)
        again = await refresh(client, owner.refresh_token)
        assert again.status_code == 200, again.text
        assert again.json()["refresh_token"] == first["refresh_token"]
        assert again.json()["access_token"] != first["access_token"]
        for pair in (first, again.json()):
            assert (await me(client, pair["access_token"])).status_code == 200
        assert await family_tokens(app, owner.tenant_id, owner.refresh_token) == [
            (token_digest(owner.refresh_token), False),
            (token_digest(first["refresh_token"]), True),
        ]
        newest = await refresh(client, first["refresh_token"])
        assert newest.status_code == 200, newest.text
        assert (await me(client, newest.json()["access_token"])).status_code == 200

    async def test_concurrent_refreshes_all_succeed_and_mint_one_successor(self, app, client):
        owner = await make_tenant(client)
        answers = await asyncio.gather(*(refresh(client, owner.refresh_token) for _ in range(6)))
        assert [a.status_code for a in answers] == [200] * 6, [a.text for a in answers]
        assert len({a.json()["refresh_token"] for a in answers}) == 1
        successor = answers[0].json()["refresh_token"]
        assert await family_tokens(app, owner.tenant_id, owner.refresh_token) == [
            (token_digest(owner.refresh_token), False),
            (token_digest(successor), True),
        ]
        for answer in answers:
            assert (await me(client, answer.json()["access_token"])).status_code == 200

    async def test_concurrent_refreshes_over_real_http(self, live_server):
        async with httpx.AsyncClient(base_url=live_server) as http:
            owner = await make_tenant(http)
            answers = await asyncio.gather(*(refresh(http, owner.refresh_token) for _ in range(8)))
            assert [a.status_code for a in answers] == [200] * 8, [a.text for a in answers]
            assert len({a.json()["refresh_token"] for a in answers}) == 1

    async def test_a_logged_out_successor_is_not_handed_out_again(self, client):
        owner = await make_tenant(client)
        first = (await refresh(client, owner.refresh_token)).json()
        assert (await client.post(f"{API}/auth/logout", headers=bearer(first["access_token"]))).status_code == 204
        assert_problem(await refresh(client, owner.refresh_token), 401, "invalid-refresh-token")

    async def test_a_logged_out_token_has_no_grace(self, client):
        owner = await make_tenant(client)
        assert (await client.post(f"{API}/auth/logout", headers=owner.headers)).status_code == 204
        assert_problem(await refresh(client, owner.refresh_token), 401, "invalid-refresh-token")

    async def test_the_replay_is_audited(self, client):
        owner = await make_tenant(client)
        await refresh(client, owner.refresh_token)
        assert (await refresh(client, owner.refresh_token)).status_code == 200
        assert "auth.refresh_replayed" in await audit_actions(client, owner)


class TestLogout:
    async def test_revokes_refresh_and_access_tokens(self, client):
        owner = await make_tenant(client)
        response = await client.post(f"{API}/auth/logout", headers=owner.headers)
        assert response.status_code == 204
        assert_problem(await refresh(client, owner.refresh_token), 401)
        assert_problem(await me(client, owner.access_token), 401)

    async def test_keeps_other_sessions(self, client):
        owner = await make_tenant(client)
        other = await login(client, owner.email)
        await client.post(f"{API}/auth/logout", headers=owner.headers)
        assert (await me(client, other.access_token)).status_code == 200

    async def test_requires_a_token(self, client):
        assert_problem(await client.post(f"{API}/auth/logout"), 401)


async def forgot(client: httpx.AsyncClient, email: str) -> httpx.Response:
    return await client.post(f"{API}/auth/forgot-password", json={"email": email})


async def reset(client: httpx.AsyncClient, token: str, password: str = NEW_PASSWORD) -> httpx.Response:
    return await client.post(f"{API}/auth/reset-password", json={"token": token, "new_password": password})


class TestPasswordReset:
    async def test_same_answer_for_known_and_unknown_email(self, client, mailbox):
        owner = await make_tenant(client)
        known = await forgot(client, owner.email)
        unknown_email = unique_email("nobody")
        unknown = await forgot(client, unknown_email)
        assert known.status_code == unknown.status_code == 202
        assert known.json() == unknown.json()
        await mailbox.wait_for(owner.email, "Reset your RMS Billing password")
        assert mailbox.to(unknown_email) == []

    async def test_reset_sets_the_password_revokes_sessions_and_is_single_use(self, client, mailbox):
        owner = await make_tenant(client)
        other = await login(client, owner.email)
        await forgot(client, owner.email)
        token = token_in(await mailbox.wait_for(owner.email, "Reset your"), "reset-password")

        assert (await reset(client, token)).status_code == 204

        for account in (owner, other):
            assert_problem(await me(client, account.access_token), 401)
            assert_problem(await refresh(client, account.refresh_token), 401)
        old = await client.post(f"{API}/auth/login", json={"email": owner.email, "password": PASSWORD})
        assert_problem(old, 401, "invalid-credentials")
        await login(client, owner.email, NEW_PASSWORD)
        assert_problem(await reset(client, token, "yet-another-secret"), 400, "invalid-token")
        await login(client, owner.email, NEW_PASSWORD)

    async def test_the_address_is_told_of_the_reset(self, client, mailbox):
        owner = await make_tenant(client)
        await forgot(client, owner.email)
        assert (
            await reset(client, token_in(await mailbox.wait_for(owner.email, "Reset your"), "reset-password"))
        ).status_code == 204
        await mailbox.wait_for(owner.email, "Your RMS Billing password was changed")

    async def test_a_newer_link_replaces_the_older_one(self, client, mailbox):
        owner = await make_tenant(client)
        await forgot(client, owner.email)
        first = token_in(await mailbox.wait_for(owner.email, "Reset your"), "reset-password")
        await forgot(client, owner.email)
        await mails_to(mailbox, owner.email, 3)
        assert_problem(await reset(client, first), 400, "invalid-token")

    async def test_unknown_token_is_400(self, client):
        assert_problem(await reset(client, "A" * 64), 400, "invalid-token")

    async def test_reset_rejects_a_bad_new_password(self, client):
        assert_problem(await reset(client, "A" * 64, TOO_LONG_PASSWORD), 422, "validation-error")


async def change_password(client: httpx.AsyncClient, account: Account, current: str, new: str) -> httpx.Response:
    return await client.post(
        f"{API}/auth/change-password",
        json={"current_password": current, "new_password": new},
        headers=account.headers,
    )


class TestChangePassword:
    async def test_requires_the_current_password(self, client):
        owner = await make_tenant(client)
        assert_problem(await change_password(client, owner, "not-my-password", NEW_PASSWORD), 400, "wrong-password")
        await login(client, owner.email, PASSWORD)

    async def test_revokes_other_sessions_and_keeps_this_one(self, client):
        owner = await make_tenant(client)
        other = await login(client, owner.email)
        assert (await change_password(client, owner, PASSWORD, NEW_PASSWORD)).status_code == 204

        assert (await me(client, owner.access_token)).status_code == 200
        assert (await refresh(client, owner.refresh_token)).status_code == 200
        assert_problem(await me(client, other.access_token), 401)
        assert_problem(await refresh(client, other.refresh_token), 401)
        await login(client, owner.email, NEW_PASSWORD)

    async def test_the_address_is_told(self, client, mailbox):
        owner = await make_tenant(client)
        assert (await change_password(client, owner, PASSWORD, NEW_PASSWORD)).status_code == 204
        told = await mailbox.wait_for(owner.email, "Your RMS Billing password was changed")
        assert "/forgot-password" in told.get_body(("plain",)).get_content()

    async def test_wrong_current_passwords_are_rate_limited_per_user(self, client, settings):
        owner = await make_tenant(client)
        for _ in range(settings.password_check_limit):
            assert_problem(await change_password(client, owner, "not-my-password", NEW_PASSWORD), 400)
        assert_problem(await change_password(client, owner, PASSWORD, NEW_PASSWORD), 429, "rate-limited")
        await login(client, owner.email, PASSWORD)

    async def test_requires_authentication(self, client):
        response = await client.post(
            f"{API}/auth/change-password", json={"current_password": PASSWORD, "new_password": NEW_PASSWORD}
        )
        assert_problem(response, 401)


class TestResendVerification:
    async def test_mails_a_new_link_that_works(self, client, mailbox):
        owner = await make_tenant(client)
        await mailbox.wait_for(owner.email, "Verify your email")
        response = await client.post(f"{API}/auth/resend-verification", headers=owner.headers)
        assert response.status_code == 202
        first, second = (await mails_to(mailbox, owner.email, 2))[:2]
        assert_problem(await verify_by_link(client, first), 400, "invalid-token")
        assert (await verify_by_link(client, second)).status_code == 200
        assert (await me(client, owner.access_token)).json()["email_verified"] is True
        assert "user.verification_resent" in await audit_actions(client, owner)

    async def test_verified_user_gets_no_mail(self, client, mailbox):
        owner = await make_tenant(client)
        await verify_by_link(client, await mailbox.wait_for(owner.email, "Verify your email"))
        assert (await client.post(f"{API}/auth/resend-verification", headers=owner.headers)).status_code == 202
        await asyncio.sleep(0.2)
        assert len(mailbox.to(owner.email)) == 1

    async def test_requires_authentication(self, client):
        assert_problem(await client.post(f"{API}/auth/resend-verification"), 401)


async def accept(client: httpx.AsyncClient, token: str, password: str = PASSWORD) -> httpx.Response:
    body = {"token": token, "full_name": "Meena Iyer", "password": password}
    return await client.post(f"{API}/auth/accept-invite", json=body)


async def invite_and_accept(client: httpx.AsyncClient, mailbox, owner: Account, role: str) -> Account:
    email = unique_email("member")
    assert (await invite(client, owner, email, role)).status_code == 201
    token = token_in(await mailbox.wait_for(email, "invited you"), "accept-invite")
    response = await accept(client, token)
    assert response.status_code == 201, response.text
    tokens = response.json()
    user = (await me(client, tokens["access_token"])).json()
    return Account(email, PASSWORD, tokens["access_token"], tokens["refresh_token"], user)


class TestInvitations:
    async def test_invited_user_joins_the_inviting_tenant_with_the_role(self, client, mailbox):
        owner = await make_tenant(client)
        member = await invite_and_accept(client, mailbox, owner, "accountant")
        assert member.tenant_id == owner.tenant_id
        assert member.user["role"] == "accountant"
        assert member.user["email_verified"] is True
        assert member.email in await tenant_user_emails(client, owner)
        await login(client, member.email)

    async def test_invitation_is_single_use(self, client, mailbox):
        owner = await make_tenant(client)
        email = unique_email("member")
        await invite(client, owner, email, "viewer")
        token = token_in(await mailbox.wait_for(email, "invited you"), "accept-invite")
        assert (await accept(client, token)).status_code == 201
        assert_problem(await accept(client, token), 400, "invalid-token")

    async def test_a_member_of_this_tenant_is_409(self, client):
        owner = await make_tenant(client)
        assert_problem(await invite(client, owner, owner.email, "admin"), 409, "email-taken")

    async def test_only_managers_invite(self, client, mailbox):
        owner = await make_tenant(client)
        viewer = await invite_and_accept(client, mailbox, owner, "viewer")
        assert_problem(await invite(client, viewer, unique_email(), "viewer"), 403)

    async def test_bad_password_on_accept_is_422(self, client, mailbox):
        owner = await make_tenant(client)
        email = unique_email("member")
        await invite(client, owner, email, "viewer")
        token = token_in(await mailbox.wait_for(email, "invited you"), "accept-invite")
        assert_problem(await accept(client, token, TOO_LONG_PASSWORD), 422, "validation-error")
        assert (await accept(client, token)).status_code == 201


class TestBadInput:
    @pytest.mark.parametrize(
        "password",
        ["short", "1234567", TOO_LONG_PASSWORD, "a" * 73, "ab\x00cdefgh"],
        ids=["5-chars", "7-chars", "80-utf8-bytes", "73-ascii", "nul"],
    )
    async def test_register_rejects_bad_passwords(self, client, password):
        email = unique_email()
        response = await client.post(f"{API}/auth/register", json=register_body(email, password))
        assert_problem(response, 422, "validation-error")
        assert (await client.post(f"{API}/auth/login", json={"email": email, "password": password})).status_code != 200

    @pytest.mark.parametrize("password", ["12345678", "é" * 36, "a" * 72], ids=["8-chars", "72-utf8-bytes", "72"])
    async def test_register_accepts_passwords_at_the_limits(self, client, password):
        email = unique_email()
        assert (await client.post(f"{API}/auth/register", json=register_body(email, password))).status_code == 202
        await login(client, email, password)

    async def test_change_password_rejects_a_too_long_password(self, client):
        owner = await make_tenant(client)
        assert_problem(await change_password(client, owner, PASSWORD, TOO_LONG_PASSWORD), 422, "validation-error")
        await login(client, owner.email, PASSWORD)

    async def test_login_with_an_overlong_password_is_401_not_500(self, client):
        owner = await make_tenant(client)
        response = await client.post(f"{API}/auth/login", json={"email": owner.email, "password": PASSWORD + "é" * 40})
        assert_problem(response, 401, "invalid-credentials")

    @pytest.mark.parametrize(
        ("path", "body"),
        [
            ("/auth/register", {"tenant_id": "00000000-0000-0000-0000-000000000000"}),
            ("/auth/register", {"role": "owner"}),
            ("/auth/login", {"remember_me": True}),
        ],
    )
    async def test_unknown_fields_are_422(self, client, path, body):
        email = unique_email()
        full = (
            {**register_body(email), **body} if path == "/auth/register" else {"email": email, "password": "x", **body}
        )
        response = await client.post(f"{API}{path}", json=full)
        assert_problem(response, 422, "validation-error")
        assert (await client.post(f"{API}/auth/login", json={"email": email, "password": PASSWORD})).status_code == 401

    async def test_body_over_one_mebibyte_is_413(self, client):
        body = register_body(unique_email(), full_name="x" * (1024 * 1024))
        assert_problem(await client.post(f"{API}/auth/register", json=body), 413, "payload-too-large")

    async def test_streamed_body_over_the_limit_is_413(self, client):
        async def chunks():
            for _ in range(20):
                yield b"x" * 65536

        response = await client.post(
            f"{API}/auth/login", content=chunks(), headers={"content-type": "application/json"}
        )
        assert_problem(response, 413, "payload-too-large")


class TestAudit:
    async def test_every_auth_write_is_audited(self, client, mailbox):
        owner = await make_tenant(client)
        mail = await mailbox.wait_for(owner.email, "Verify your email")
        await verify_by_link(client, mail)
        second = await login(client, owner.email)
        rotated = (await refresh(client, second.refresh_token)).json()
        await client.post(f"{API}/auth/logout", headers=bearer(rotated["access_token"]))
        await change_password(client, owner, PASSWORD, NEW_PASSWORD)
        await invite(client, owner, unique_email("member"), "viewer")
        await forgot(client, owner.email)
        await register(client, owner.email)

        actions = await audit_actions(client, owner)
        expected = {
            "tenant.created",
            "user.created",
            "user.email_verified",
            "auth.login",
            "auth.refresh",
            "auth.logout",
            "auth.password_changed",
            "user.invited",
            "auth.password_reset_requested",
            "auth.registration_repeated",
        }
        assert expected <= set(actions), expected - set(actions)
        assert actions.count("auth.login") == 2

    async def test_audit_rows_carry_actor_and_request_metadata(self, client):
        owner = await make_tenant(client)
        response = await client.get(f"{API}/audit-logs", params={"action": "auth.login"}, headers=owner.headers)
        row = response.json()["items"][0]
        assert row["actor_user_id"] == owner.user["id"]
        assert row["ip"] and row["request_id"]
        assert "password_hash" not in str(response.json())


class Clock:
    """The runtime clock of a dedicated app, movable forward."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return utcnow() + self.offset

    def advance(self, **delta: float) -> None:
        self.offset += timedelta(**delta)


@pytest.fixture(scope="module")
async def clocked_app(settings):
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        application.state.runtime.clock = Clock()
        yield application


@pytest.fixture
async def clocked(clocked_app) -> AsyncIterator[tuple[httpx.AsyncClient, Clock]]:
    clock = clocked_app.state.runtime.clock
    clock.offset = timedelta()
    transport = httpx.ASGITransport(app=clocked_app, client=(fresh_ip(), 40000))
    async with httpx.AsyncClient(transport=transport, base_url=BASE) as c:
        yield c, clock


class TestExpiry:
    async def test_reset_link_expires_after_30_minutes(self, clocked, mailbox):
        client, clock = clocked
        owner = await make_tenant(client)
        await forgot(client, owner.email)
        token = token_in(await mailbox.wait_for(owner.email, "Reset your"), "reset-password")
        clock.advance(minutes=31)
        assert_problem(await reset(client, token), 400, "invalid-token")

    async def test_verification_link_expires_after_48_hours(self, clocked, mailbox):
        client, clock = clocked
        owner = await make_tenant(client)
        mail = await mailbox.wait_for(owner.email, "Verify your email")
        clock.advance(hours=48, minutes=1)
        assert_problem(await verify_by_link(client, mail), 400, "invalid-token")

    async def test_invitation_expires_after_7_days(self, clocked, mailbox):
        client, clock = clocked
        owner = await make_tenant(client)
        email = unique_email("member")
        await invite(client, owner, email, "viewer")
        token = token_in(await mailbox.wait_for(email, "invited you"), "accept-invite")
        clock.advance(days=7, minutes=1)
        assert_problem(await accept(client, token), 400, "invalid-token")

    async def test_an_email_change_expires_after_24_hours(self, clocked, mailbox):
        client, clock = clocked
        owner = await make_tenant(client)
        new_email = unique_email("late")
        body = {"email": new_email, "current_password": PASSWORD}
        assert (await client.patch(f"{API}/users/me", json=body, headers=owner.headers)).status_code == 200
        message = await mailbox.wait_for(new_email, "Confirm your new RMS Billing login email")
        token = message.get_body(("plain",)).get_content().split("token=", 1)[1].split()[0]
        clock.advance(hours=24, minutes=1)
        response = await client.post(f"{API}/auth/confirm-email-change", json={"token": token})
        assert_problem(response, 400, "invalid-token")
        assert (await me(client, owner.access_token)).json()["email"] == owner.email

    async def test_refresh_token_expires_after_7_days(self, clocked):
        client, clock = clocked
        owner = await make_tenant(client)
        clock.advance(days=6, hours=23)
        pair = (await refresh(client, owner.refresh_token)).json()
        clock.advance(days=7, minutes=1)
        assert_problem(await refresh(client, pair["refresh_token"]), 401, "invalid-refresh-token")


async def stored_token_hashes(app, tenant_id: str, table: str) -> list[str]:
    async with app.state.db.transaction(uuid.UUID(tenant_id)) as session:
        rows = await session.execute(text(f"SELECT token_hash FROM {table}"))
        return list(rows.scalars())


class TestTokensAreStoredHashed:
    async def test_reset_token(self, app, client, mailbox):
        owner = await make_tenant(client)
        await forgot(client, owner.email)
        token = token_in(await mailbox.wait_for(owner.email, "Reset your"), "reset-password")
        assert await stored_token_hashes(app, owner.tenant_id, "password_resets") == [token_digest(token)]

    async def test_verification_token(self, app, client, mailbox):
        owner = await make_tenant(client)
        token = token_in(await mailbox.wait_for(owner.email, "Verify your email"), "verify-email")
        assert await stored_token_hashes(app, owner.tenant_id, "email_verifications") == [token_digest(token)]

    async def test_refresh_token(self, app, client):
        owner = await make_tenant(client)
        hashes = await stored_token_hashes(app, owner.tenant_id, "sessions")
        assert token_digest(owner.refresh_token) in hashes
        assert owner.refresh_token not in hashes


async def test_the_password_minimum_counts_characters(client):
    """8 characters, as the spec says: four 2-byte characters are 8 bytes but too short."""
    body = {"email": unique_email("chars"), "password": "é" * 8, "full_name": "Ravi", "business_name": "Chars"}
    assert (await client.post(f"{API}/auth/register", json=body)).status_code == 202
    assert (
        await client.post(f"{API}/auth/login", json={"email": body["email"], "password": "é" * 8})
    ).status_code == 200
    short = {**body, "email": unique_email("chars"), "password": "é" * 4}
    assert (await client.post(f"{API}/auth/register", json=short)).status_code == 422
