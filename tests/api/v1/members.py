"""Users of other roles: the owner (email verified) invites, the invitee accepts the mailed link."""

import re

import httpx

from tests.conftest import PASSWORD, unique_email
from tests.factories import API, Account, login, verify_email


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def invite(client: httpx.AsyncClient, inviter: Account, email: str, role: str) -> httpx.Response:
    """Invite as `inviter`, whose email is verified first (an unverified inviter is refused: test_users)."""
    await verify_email(client, inviter)
    return await client.post(f"{API}/users/invite", json={"email": email, "role": role}, headers=inviter.headers)


async def mailed_token(mailbox, email: str, subject: str) -> str:
    """The `?token=` of the newest link in the text part of the mail to `email`."""
    message = await mailbox.wait_for(email, subject)
    text = message.get_body(("plain",)).get_content()
    tokens = re.findall(r"\?token=([A-Za-z0-9_-]+)", text)
    assert tokens, f"no token link in {text!r}"
    return tokens[-1]


async def add_member(client: httpx.AsyncClient, mailbox, inviter: Account, role: str) -> Account:
    """Invite a user with `role` into the inviter's tenant, accept, and log them in."""
    email = unique_email(role)
    response = await invite(client, inviter, email, role)
    assert response.status_code == 201, response.text
    token = await mailed_token(mailbox, email, "invited")
    body = {"token": token, "full_name": f"{role.title()} User", "password": PASSWORD}
    accepted = await client.post(f"{API}/auth/accept-invite", json=body)
    assert accepted.status_code == 201, accepted.text
    return await login(client, email)
