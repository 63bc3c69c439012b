"""Plain async factories that build tenants and users through the HTTP API."""

import asyncio
import re
from dataclasses import dataclass

import httpx

from app.core.database import drain_background_tasks
from tests.conftest import MAILBOXES, PASSWORD, unique_email

API = "/api/v1"


@dataclass
class Account:
    email: str
    password: str
    access_token: str
    refresh_token: str
    user: dict

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}

    @property
    def tenant_id(self) -> str:
        return self.user["tenant_id"]


async def login(client: httpx.AsyncClient, email: str, password: str = PASSWORD) -> Account:
    response = await client.post(f"{API}/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    tokens = response.json()
    me = await client.get(f"{API}/users/me", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert me.status_code == 200, me.text
    return Account(email, password, tokens["access_token"], tokens["refresh_token"], me.json())


async def make_tenant(client: httpx.AsyncClient, *, business_name: str = "Sharma Traders") -> Account:
    """Register a tenant and log its owner in."""
    email = unique_email("owner")
    body = {"email": email, "password": PASSWORD, "full_name": "Ravi Sharma", "business_name": business_name}
    response = await client.post(f"{API}/auth/register", json=body)
    assert response.status_code == 202, response.text
    return await login(client, email)


async def verify_email(client: httpx.AsyncClient, account: Account) -> Account:
    """Verify the account's email (inviting and paying need it) with a link mailed now: asked for
    again, so that it is valid under whatever clock the test set."""
    me = await client.get(f"{API}/users/me", headers=account.headers)
    assert me.status_code == 200, me.text
    account.user = me.json()
    if account.user["email_verified"]:
        return account
    mailbox, subject = MAILBOXES[0], "Verify your email"
    sent = len([m for m in mailbox.to(account.email) if subject in m["Subject"]])
    resent = await client.post(f"{API}/auth/resend-verification", headers=account.headers)
    assert resent.status_code == 202, resent.text
    for _ in range(200):
        await drain_background_tasks()
        mails = [m for m in mailbox.to(account.email) if subject in m["Subject"]]
        if len(mails) > sent:
            break
        await asyncio.sleep(0.05)
    token = re.findall(r"\?token=([A-Za-z0-9_-]+)", mails[-1].get_body(("plain",)).get_content())[-1]
    response = await client.post(f"{API}/auth/verify-email", json={"token": token})
    assert response.status_code == 200, response.text
    account.user = response.json()
    return account
