"""Users of a tenant: roles, invitations, profile, deactivation, the last owner, pagination."""

import asyncpg
import httpx
import pytest

from app.core.roles import _asyncpg_dsn
from tests.api.v1.http_checks import all_pages, assert_no_secrets, assert_problem
from tests.api.v1.members import add_member, invite, mailed_token
from tests.conftest import PASSWORD, unique_email
from tests.factories import API, Account, login, make_tenant

MEMBER_ROLES = ("viewer", "accountant")


async def get_user(client: httpx.AsyncClient, actor: Account, user_id: str) -> dict:
    response = await client.get(f"{API}/users/{user_id}", headers=actor.headers)
    assert response.status_code == 200, response.text
    return response.json()


async def patch_user(client: httpx.AsyncClient, actor: Account, user_id: str, **body) -> httpx.Response:
    return await client.patch(f"{API}/users/{user_id}", json=body, headers=actor.headers)


async def me(client: httpx.AsyncClient, account: Account) -> httpx.Response:
    return await client.get(f"{API}/users/me", headers=account.headers)


async def user_actions(client: httpx.AsyncClient, owner: Account, user_id: str) -> list[dict]:
    params = {"entity_type": "user", "entity_id": user_id, "limit": 100}
    response = await client.get(f"{API}/audit-logs", params=params, headers=owner.headers)
    assert response.status_code == 200, response.text
    return response.json()["items"]


class TestRoles:
    @pytest.mark.parametrize("role", MEMBER_ROLES)
    async def test_members_cannot_manage_users(self, client, mailbox, role):
        owner = await make_tenant(client)
        member = await add_member(client, mailbox, owner, role)
        owner_id = owner.user["id"]
        invitation = (await invite(client, owner, unique_email("pending"), "viewer")).json()
        attempts = [
            await client.get(f"{API}/users", headers=member.headers),
            await client.get(f"{API}/users/{owner_id}", headers=member.headers),
            await invite(client, member, unique_email(), "viewer"),
            await patch_user(client, member, owner_id, role="viewer"),
            await patch_user(client, member, member.user["id"], role="admin"),
            await client.delete(f"{API}/users/{owner_id}", headers=member.headers),
            await client.get(f"{API}/users/invitations", headers=member.headers),
            await client.delete(f"{API}/users/invitations/{invitation['id']}", headers=member.headers),
        ]
        for response in attempts:
            assert_problem(response, 403, "role-forbidden")
        assert (await get_user(client, owner, owner_id))["role"] == "owner"
        assert (await get_user(client, owner, member.user["id"]))["role"] == role
        pending = await client.get(f"{API}/users/invitations", params={"pending": "true"}, headers=owner.headers)
        assert [i["id"] for i in pending.json()["items"]] == [invitation["id"]]

    @pytest.mark.parametrize("manager_role", ["owner", "admin"])
    async def test_owners_and_admins_manage_users(self, client, mailbox, manager_role):
        owner = await make_tenant(client)
        manager = owner if manager_role == "owner" else await add_member(client, mailbox, owner, "admin")
        member = await add_member(client, mailbox, manager, "accountant")
        listed = await client.get(f"{API}/users", headers=manager.headers)
        assert listed.status_code == 200
        assert member.user["id"] in {u["id"] for u in listed.json()["items"]}
        changed = await patch_user(client, manager, member.user["id"], role="viewer")
        assert changed.status_code == 200, changed.text
        assert changed.json()["role"] == "viewer"
        (row,) = [r for r in await user_actions(client, owner, member.user["id"]) if r["action"] == "user.updated"]
        assert (row["before"]["role"], row["after"]["role"]) == ("accountant", "viewer")
        assert row["actor_user_id"] == manager.user["id"]

    async def test_an_admin_cannot_grant_or_take_the_owner_role(self, client, mailbox):
        owner = await make_tenant(client)
        admin = await add_member(client, mailbox, owner, "admin")
        member = await add_member(client, mailbox, owner, "viewer")
        assert_problem(await invite(client, admin, unique_email(), "owner"), 403, "owner-only")
        assert_problem(await patch_user(client, admin, member.user["id"], role="owner"), 403, "owner-only")
        assert_problem(await patch_user(client, admin, admin.user["id"], role="owner"), 403, "owner-only")
        assert_problem(await patch_user(client, admin, owner.user["id"], role="viewer"), 403, "owner-only")
        assert_problem(await client.delete(f"{API}/users/{owner.user['id']}", headers=admin.headers), 403, "owner-only")
        assert (await get_user(client, owner, member.user["id"]))["role"] == "viewer"
        assert (await get_user(client, owner, owner.user["id"]))["is_active"] is True

    async def test_an_owner_can_make_another_owner(self, client, mailbox):
        owner = await make_tenant(client)
        member = await add_member(client, mailbox, owner, "admin")
        response = await patch_user(client, owner, member.user["id"], role="owner")
        assert response.status_code == 200 and response.json()["role"] == "owner"


class TestLastOwner:
    @pytest.mark.parametrize("change", [{"role": "admin"}, {"is_active": False}, {"role": "viewer", "is_active": True}])
    async def test_the_last_active_owner_cannot_be_demoted_or_deactivated(self, client, change):
        owner = await make_tenant(client)
        assert_problem(await patch_user(client, owner, owner.user["id"], **change), 409, "last-owner")
        after = await get_user(client, owner, owner.user["id"])
        assert (after["role"], after["is_active"]) == ("owner", True)

    async def test_the_last_active_owner_cannot_be_deleted(self, client):
        owner = await make_tenant(client)
        response = await client.delete(f"{API}/users/{owner.user['id']}", headers=owner.headers)
        assert_problem(response, 409, "last-owner")
        assert (await me(client, owner)).status_code == 200

    async def test_an_inactive_owner_does_not_count(self, client, mailbox):
        owner = await make_tenant(client)
        second = await add_member(client, mailbox, owner, "admin")
        assert (await patch_user(client, owner, second.user["id"], role="owner")).status_code == 200
        assert (await patch_user(client, owner, second.user["id"], is_active=False)).status_code == 200
        assert_problem(await patch_user(client, owner, owner.user["id"], role="admin"), 409, "last-owner")

    async def test_with_two_owners_one_can_step_down(self, client, mailbox):
        owner = await make_tenant(client)
        second = await add_member(client, mailbox, owner, "admin")
        assert (await patch_user(client, owner, second.user["id"], role="owner")).status_code == 200
        response = await patch_user(client, owner, owner.user["id"], role="admin")
        assert response.status_code == 200 and response.json()["role"] == "admin"
        assert_problem(await patch_user(client, second, second.user["id"], role="admin"), 409, "last-owner")


class TestDeactivate:
    async def test_delete_deactivates_and_the_users_tokens_stop_working(self, client, mailbox):
        owner = await make_tenant(client)
        member = await add_member(client, mailbox, owner, "accountant")
        assert (await me(client, member)).status_code == 200

        response = await client.delete(f"{API}/users/{member.user['id']}", headers=owner.headers)
        assert response.status_code == 200, response.text
        assert response.json()["is_active"] is False
        assert_no_secrets(response)

        assert_problem(await me(client, member), 401)
        refreshed = await client.post(f"{API}/auth/refresh", json={"refresh_token": member.refresh_token})
        assert_problem(refreshed, 401)
        login_again = await client.post(f"{API}/auth/login", json={"email": member.email, "password": PASSWORD})
        assert_problem(login_again, 401)
        still_listed = await get_user(client, owner, member.user["id"])
        assert still_listed["is_active"] is False
        (row,) = [r for r in await user_actions(client, owner, member.user["id"]) if r["action"] == "user.updated"]
        assert (row["before"]["is_active"], row["after"]["is_active"]) == (True, False)

    async def test_a_deactivated_user_can_be_reactivated(self, client, mailbox):
        owner = await make_tenant(client)
        member = await add_member(client, mailbox, owner, "viewer")
        await client.delete(f"{API}/users/{member.user['id']}", headers=owner.headers)
        assert (await patch_user(client, owner, member.user["id"], is_active=True)).status_code == 200
        assert (await login(client, member.email)).user["is_active"] is True
        assert_problem(await me(client, member), 401)

    async def test_an_unknown_user_is_404(self, client):
        owner = await make_tenant(client)
        missing = "01890a5d-ac96-774b-bcce-b302099a8057"
        assert_problem(await client.delete(f"{API}/users/{missing}", headers=owner.headers), 404, "not-found")
        assert_problem(await patch_user(client, owner, missing, role="viewer"), 404, "not-found")


class TestMe:
    async def test_changes_the_name(self, client):
        owner = await make_tenant(client)
        padded = await client.patch(f"{API}/users/me", json={"full_name": "  Ravi K. Sharma "}, headers=owner.headers)
        assert padded.status_code == 422  # the spec's pattern refuses blank ends; nothing is trimmed silently
        response = await client.patch(f"{API}/users/me", json={"full_name": "Ravi K. Sharma"}, headers=owner.headers)
        assert response.status_code == 200, response.text
        assert response.json()["full_name"] == "Ravi K. Sharma"
        assert (await me(client, owner)).json()["full_name"] == "Ravi K. Sharma"
        (row,) = [r for r in await user_actions(client, owner, owner.user["id"]) if r["action"] == "user.updated"]
        assert (row["before"]["full_name"], row["after"]["full_name"]) == ("Ravi Sharma", "Ravi K. Sharma")

    @pytest.mark.parametrize(
        "body",
        [
            {"role": "viewer"},
            {"tenant_id": "01890a5d-ac96-774b-bcce-b302099a8057"},
            {"id": "01890a5d-ac96-774b-bcce-b302099a8057"},
            {"is_active": False},
            {"email_verified_at": "2026-01-01T00:00:00Z"},
            {"password_hash": "$2b$12$abcdefghijklmnopqrstuv"},
            {"full_name": "Fine", "role": "owner"},
        ],
    )
    async def test_fields_a_user_may_not_set_are_rejected(self, client, body):
        owner = await make_tenant(client)
        before = (await me(client, owner)).json()
        assert_problem(await client.patch(f"{API}/users/me", json=body, headers=owner.headers), 422, "validation-error")
        assert (await me(client, owner)).json() == before

    @pytest.mark.parametrize("body", [{"tenant_id": "01890a5d-ac96-774b-bcce-b302099a8057"}, {"email": "x@y.in"}])
    async def test_managers_cannot_set_other_fields_of_a_user_either(self, client, mailbox, body):
        owner = await make_tenant(client)
        member = await add_member(client, mailbox, owner, "viewer")
        before = await get_user(client, owner, member.user["id"])
        assert_problem(await patch_user(client, owner, member.user["id"], **body), 422, "validation-error")
        extra = {"email": unique_email(), "role": "viewer", "tenant_id": owner.tenant_id}
        assert_problem(await client.post(f"{API}/users/invite", json=extra, headers=owner.headers), 422)
        assert await get_user(client, owner, member.user["id"]) == before


async def change_email(client: httpx.AsyncClient, account: Account, email: str, **body) -> httpx.Response:
    body = {"email": email, "current_password": account.password, **body}
    return await client.patch(f"{API}/users/me", json=body, headers=account.headers)


async def confirm_email_change(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.post(f"{API}/auth/confirm-email-change", json={"token": token})


async def cancel_email_change(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.post(f"{API}/auth/cancel-email-change", json={"token": token})


async def login_status(client: httpx.AsyncClient, email: str) -> int:
    response = await client.post(f"{API}/auth/login", json={"email": email, "password": PASSWORD})
    return response.status_code


CONFIRM = "Confirm your new RMS Billing login email"
NOTICE = "Your RMS Billing login email is about to change"
CHANGED = "Your RMS Billing login email was changed"
TAKEN = "Someone tried to move an RMS Billing login to this address"


def text_of(message) -> str:
    return message.get_body(("plain",)).get_content()


class TestEmailChange:
    """Issue 8 §2: a stolen access token alone must not be able to take the account over."""

    @pytest.mark.parametrize("password", [None, "not-my-password"], ids=["missing", "wrong"])
    async def test_needs_the_current_password_and_changes_nothing_without_it(self, client, mailbox, password):
        owner = await make_tenant(client)
        new_email = unique_email("thief")
        body = {"email": new_email} if password is None else {"email": new_email, "current_password": password}
        response = await client.patch(f"{API}/users/me", json=body, headers=owner.headers)
        assert_problem(response, 400, "wrong-password")
        assert (await me(client, owner)).json()["email"] == owner.email
        assert await login_status(client, owner.email) == 200
        await client.post(f"{API}/auth/forgot-password", json={"email": owner.email})
        await mailbox.wait_for(owner.email, "Reset your")
        assert mailbox.to(new_email) == []
        assert not [m for m in mailbox.to(owner.email) if NOTICE in m["Subject"]]

    async def test_the_old_email_logs_in_until_the_new_one_confirms(self, client, mailbox):
        owner = await make_tenant(client)
        new_email = unique_email("renamed")

        response = await change_email(client, owner, new_email.upper())
        assert response.status_code == 200, response.text
        assert (response.json()["email"], response.json()["email_verified"]) == (owner.email, False)
        assert await login_status(client, owner.email) == 200
        assert await login_status(client, new_email) == 401

        notice = text_of(await mailbox.wait_for(owner.email, NOTICE))
        assert new_email in notice and "/cancel-email-change?token=" in notice
        token = await mailed_token(mailbox, new_email, CONFIRM)
        confirmed = await confirm_email_change(client, token)
        assert confirmed.status_code == 200, confirmed.text
        assert (confirmed.json()["email"], confirmed.json()["email_verified"]) == (new_email, True)

        assert (await login(client, new_email)).user["id"] == owner.user["id"]
        assert await login_status(client, owner.email) == 401
        assert new_email in text_of(await mailbox.wait_for(owner.email, CHANGED))
        assert_problem(await confirm_email_change(client, token), 400, "invalid-token")

    @pytest.mark.parametrize("how", ["reset", "change"])
    async def test_a_password_reset_or_change_ends_a_pending_email_change(self, client, mailbox, how):
        """The thief asked for a change with a stolen token and password; the owner then resets (or
        changes) the password: the thief's confirmation link must die with the old password."""
        owner = await make_tenant(client)
        thief_email = unique_email("thief")
        assert (await change_email(client, owner, thief_email)).status_code == 200
        token = await mailed_token(mailbox, thief_email, CONFIRM)
        if how == "reset":
            await client.post(f"{API}/auth/forgot-password", json={"email": owner.email})
            reset_token = await mailed_token(mailbox, owner.email, "Reset your")
            body = {"token": reset_token, "new_password": "a-new-password-123"}
            assert (await client.post(f"{API}/auth/reset-password", json=body)).status_code == 204
        else:
            body = {"current_password": PASSWORD, "new_password": "a-new-password-123"}
            changed = await client.post(f"{API}/auth/change-password", json=body, headers=owner.headers)
            assert changed.status_code == 204, changed.text
        assert_problem(await confirm_email_change(client, token), 400, "invalid-token")
        assert await login_status(client, thief_email) == 401

    async def test_the_global_email_map_follows(self, client, mailbox):
        """Forgot-password and register find the account under its new address only."""
        owner = await make_tenant(client)
        new_email = unique_email("renamed")
        await change_email(client, owner, new_email)
        assert (await confirm_email_change(client, await mailed_token(mailbox, new_email, CONFIRM))).status_code == 200
        await client.post(f"{API}/auth/forgot-password", json={"email": new_email})
        await mailbox.wait_for(new_email, "Reset your")
        fresh = {"email": owner.email, "password": PASSWORD, "full_name": "New Person", "business_name": "New Co"}
        assert (await client.post(f"{API}/auth/register", json=fresh)).status_code == 202
        newcomer = await login(client, owner.email)
        assert newcomer.tenant_id != owner.tenant_id

    async def test_confirming_logs_out_every_other_session(self, client, mailbox):
        owner = await make_tenant(client)
        other = await login(client, owner.email)
        new_email = unique_email("renamed")
        await change_email(client, owner, new_email)
        assert (await confirm_email_change(client, await mailed_token(mailbox, new_email, CONFIRM))).status_code == 200
        assert_problem(await me(client, other), 401)
        assert (
            await client.post(f"{API}/auth/refresh", json={"refresh_token": other.refresh_token})
        ).status_code == 401
        assert (await me(client, owner)).status_code == 200

    async def test_links_mailed_to_the_old_address_die_with_the_change(self, client, mailbox):
        owner = await make_tenant(client)
        verify_token = await mailed_token(mailbox, owner.email, "Verify")
        new_email = unique_email("renamed")
        await change_email(client, owner, new_email)
        assert (await confirm_email_change(client, await mailed_token(mailbox, new_email, CONFIRM))).status_code == 200
        stale = await client.post(f"{API}/auth/verify-email", json={"token": verify_token})
        assert_problem(stale, 400, "invalid-token")

    async def test_the_old_address_can_cancel_and_that_logs_out_everywhere(self, client, mailbox):
        owner = await make_tenant(client)
        other = await login(client, owner.email)
        new_email = unique_email("thief")
        await change_email(client, owner, new_email)
        cancel_token = await mailed_token(mailbox, owner.email, NOTICE)

        assert (await cancel_email_change(client, cancel_token)).status_code == 204

        for account in (owner, other):
            assert_problem(await me(client, account), 401)
        assert_problem(await confirm_email_change(client, await mailed_token(mailbox, new_email, CONFIRM)), 400)
        assert_problem(await cancel_email_change(client, cancel_token), 400, "invalid-token")
        assert await login_status(client, owner.email) == 200
        assert await login_status(client, new_email) == 401
        fresh = await login(client, owner.email)
        actions = [r["action"] for r in await user_actions(client, fresh, owner.user["id"])]
        assert {"user.email_change_requested", "user.email_change_cancelled"} <= set(actions)

    async def test_a_newer_request_replaces_the_older_one(self, client, mailbox):
        owner = await make_tenant(client)
        first, second = unique_email("first"), unique_email("second")
        await change_email(client, owner, first)
        await change_email(client, owner, second)
        assert_problem(await confirm_email_change(client, await mailed_token(mailbox, first, CONFIRM)), 400)
        assert (await confirm_email_change(client, await mailed_token(mailbox, second, CONFIRM))).status_code == 200
        assert (await me(client, owner)).json()["email"] == second

    async def test_an_address_with_an_account_gets_the_same_answer_and_is_told(self, client, mailbox):
        owner = await make_tenant(client)
        other = await make_tenant(client)
        taken = await change_email(client, owner, other.email)
        free = await change_email(client, owner, unique_email("free"))
        assert taken.status_code == free.status_code == 200
        assert taken.json() == free.json()
        assert taken.headers.get("content-length") == free.headers.get("content-length")

        told = text_of(await mailbox.wait_for(other.email, TAKEN))
        assert "token=" not in told
        assert (await me(client, owner)).json()["email"] == owner.email
        assert (await login(client, other.email)).user["id"] == other.user["id"]

    async def test_a_member_of_the_same_tenant_is_not_revealed_either(self, client, mailbox):
        owner = await make_tenant(client)
        member = await add_member(client, mailbox, owner, "viewer")
        response = await change_email(client, owner, member.email)
        assert response.status_code == 200, response.text
        await mailbox.wait_for(member.email, TAKEN)

    async def test_the_same_email_in_another_case_is_no_change(self, client, mailbox):
        owner = await make_tenant(client)
        response = await change_email(client, owner, owner.email.upper())
        assert response.status_code == 200
        assert response.json()["email"] == owner.email
        await mailbox.wait_for(owner.email, "Verify")
        assert len(mailbox.to(owner.email)) == 1

    async def test_wrong_passwords_are_rate_limited_per_user(self, client, settings):
        owner = await make_tenant(client)
        for _ in range(settings.password_check_limit):
            response = await change_email(client, owner, unique_email(), current_password="not-my-password")
            assert_problem(response, 400, "wrong-password")
        limited = await change_email(client, owner, unique_email())
        assert_problem(limited, 429, "rate-limited")
        assert limited.headers["retry-after"].isdigit()

    async def test_confirm_and_cancel_take_tokens_by_post_only(self, client):
        for path in ("confirm-email-change", "cancel-email-change"):
            assert (await client.get(f"{API}/auth/{path}", params={"token": "A" * 64})).status_code == 405
            assert_problem(await client.post(f"{API}/auth/{path}", json={"token": "A" * 64}), 400, "invalid-token")


class TestListUsers:
    async def test_pages_cover_every_user_once_and_end_with_a_null_cursor(self, client, mailbox):
        owner = await make_tenant(client)
        for role in ("admin", "accountant", "viewer", "viewer"):
            await add_member(client, mailbox, owner, role)
        seen, pages = await all_pages(client, owner, f"{API}/users", limit=2)
        assert len(pages) == 3 and [len(p) for p in pages] == [2, 2, 1]
        assert len(seen) == len(set(seen)) == 5
        everyone = await client.get(f"{API}/users", params={"limit": 100}, headers=owner.headers)
        assert seen == [u["id"] for u in everyone.json()["items"]]

    async def test_filters_by_role_and_activity(self, client, mailbox):
        owner = await make_tenant(client)
        viewer = await add_member(client, mailbox, owner, "viewer")
        await add_member(client, mailbox, owner, "accountant")
        await client.delete(f"{API}/users/{viewer.user['id']}", headers=owner.headers)
        viewers = await client.get(f"{API}/users", params={"role": "viewer"}, headers=owner.headers)
        assert [u["id"] for u in viewers.json()["items"]] == [viewer.user["id"]]
        active = await client.get(f"{API}/users", params={"is_active": "true"}, headers=owner.headers)
        assert {u["role"] for u in active.json()["items"]} == {"owner", "accountant"}

    @pytest.mark.parametrize("limit", ["0", "-1", "101", "99999999999999999999", "ten"])
    async def test_limit_out_of_range_is_422(self, client, limit):
        owner = await make_tenant(client)
        response = await client.get(f"{API}/users", params={"limit": limit}, headers=owner.headers)
        assert_problem(response, 422, "validation-error")

    @pytest.mark.parametrize("cursor", ["not a cursor!", "", "a.b"])
    async def test_a_malformed_cursor_is_422(self, client, cursor):
        owner = await make_tenant(client)
        assert_problem(await client.get(f"{API}/users", params={"cursor": cursor}, headers=owner.headers), 422)

    async def test_responses_never_carry_hashes(self, client, mailbox, database_urls):
        owner = await make_tenant(client)
        member = await add_member(client, mailbox, owner, "viewer")
        responses = [
            await client.get(f"{API}/users", headers=owner.headers),
            await client.get(f"{API}/users/{member.user['id']}", headers=owner.headers),
            await me(client, owner),
            await client.patch(f"{API}/users/me", json={"full_name": "New Name"}, headers=owner.headers),
            await patch_user(client, owner, member.user["id"], role="accountant"),
            await client.get(f"{API}/audit-logs", params={"limit": 100}, headers=owner.headers),
            await client.get(f"{API}/tenants/me", headers=owner.headers),
        ]
        secrets = await stored_hashes(database_urls.admin, [owner.user["id"], member.user["id"]])
        assert len(secrets) >= 4
        for response in responses:
            assert response.status_code == 200, response.text
            assert_no_secrets(response)
            assert not [s for s in secrets if s in response.text], response.request.url


async def stored_hashes(admin_url: str, user_ids: list[str]) -> list[str]:
    conn = await asyncpg.connect(_asyncpg_dsn(admin_url))
    try:
        rows = await conn.fetch(
            "SELECT password_hash AS h FROM users WHERE id = ANY($1::uuid[]) "
            "UNION ALL SELECT token_hash FROM sessions WHERE user_id = ANY($1::uuid[]) "
            "UNION ALL SELECT token_hash FROM email_verifications WHERE user_id = ANY($1::uuid[])",
            user_ids,
        )
    finally:
        await conn.close()
    return [r["h"] for r in rows]
