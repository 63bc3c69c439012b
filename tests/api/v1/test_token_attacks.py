"""Forged, tampered and malformed access tokens are all 401 on an authenticated route."""

import base64
import json
import time
import uuid

import pytest
from jose import jwt

from app.core.security import JWT_ALGORITHM
from tests.factories import API, Account, make_tenant

OTHER_KEY = "another-secret-that-is-long-enough-0123456789"


def b64(data: dict | bytes) -> str:
    raw = data if isinstance(data, bytes) else json.dumps(data).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def claims_of(account: Account) -> dict:
    return jwt.get_unverified_claims(account.access_token)


def sign(claims: dict, key: str, algorithm: str = JWT_ALGORITHM) -> str:
    return jwt.encode(claims, key, algorithm=algorithm)


def unsigned(claims: dict) -> str:
    return f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(claims)}."


def edit_payload(token: str, **changes) -> str:
    """Change claims in place and keep the original signature."""
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return f"{header}.{b64({**claims, **changes})}.{signature}"


def without(claims: dict, name: str) -> dict:
    return {k: v for k, v in claims.items() if k != name}


@pytest.fixture
async def owner(client) -> Account:
    return await make_tenant(client)


async def status_with(client, token: str) -> int:
    response = await client.get(f"{API}/users/me", headers={"Authorization": f"Bearer {token}"})
    if response.status_code == 401:
        body = response.json()
        assert body["code"] == "unauthorized"
        assert response.headers["www-authenticate"] == "Bearer"
    return response.status_code


async def test_a_token_rebuilt_with_the_real_key_is_accepted(client, owner, settings):
    """The control: the helpers below build tokens the API takes when nothing is wrong."""
    assert await status_with(client, sign(claims_of(owner), settings.jwt_secret)) == 200


class TestSignature:
    async def test_alg_none(self, client, owner):
        assert await status_with(client, unsigned(claims_of(owner))) == 401

    @pytest.mark.parametrize("alg", ["none", "None", "NONE"])
    async def test_alg_none_with_the_original_signature(self, client, owner, alg):
        _, payload, signature = owner.access_token.split(".")
        token = f"{b64({'alg': alg, 'typ': 'JWT'})}.{payload}.{signature}"
        assert await status_with(client, token) == 401

    async def test_signed_with_another_key(self, client, owner):
        assert await status_with(client, sign(claims_of(owner), OTHER_KEY)) == 401

    @pytest.mark.parametrize("alg", ["HS384", "HS512"])
    async def test_other_algorithm_with_the_right_key(self, client, owner, settings, alg):
        assert await status_with(client, sign(claims_of(owner), settings.jwt_secret, alg)) == 401

    async def test_signature_stripped(self, client, owner):
        header, payload, _ = owner.access_token.split(".")
        assert await status_with(client, f"{header}.{payload}.") == 401


class TestClaims:
    async def test_expired(self, client, owner, settings):
        now = int(time.time())
        claims = {**claims_of(owner), "iat": now - 3600, "exp": now - 1}
        assert await status_with(client, sign(claims, settings.jwt_secret)) == 401

    async def test_issued_in_the_future_beyond_the_leeway(self, client, owner, settings):
        now = int(time.time())
        minted_ahead = {**claims_of(owner), "iat": now + 3600, "exp": now + 3600 + 1800}
        assert await status_with(client, sign(minted_ahead, settings.jwt_secret)) == 401
        skewed = {**claims_of(owner), "iat": now + settings.jwt_leeway_seconds - 10}
        assert await status_with(client, sign(skewed, settings.jwt_secret)) == 200

    @pytest.mark.parametrize("name", ["exp", "sub", "tenant_id", "role", "sid", "jti", "iat", "iss", "aud"])
    async def test_missing_claim(self, client, owner, settings, name):
        assert await status_with(client, sign(without(claims_of(owner), name), settings.jwt_secret)) == 401

    async def test_wrong_audience(self, client, owner, settings):
        claims = {**claims_of(owner), "aud": "someone-else"}
        assert await status_with(client, sign(claims, settings.jwt_secret)) == 401

    async def test_wrong_issuer(self, client, owner, settings):
        claims = {**claims_of(owner), "iss": "evil-issuer"}
        assert await status_with(client, sign(claims, settings.jwt_secret)) == 401

    @pytest.mark.parametrize(
        "changes",
        [{"sub": "not-a-uuid"}, {"sid": "not-a-uuid"}, {"tenant_id": 42}, {"exp": "tomorrow"}, {"iat": "now"}],
        ids=["sub", "sid", "tenant_id", "exp", "iat"],
    )
    async def test_malformed_claim_values(self, client, owner, settings, changes):
        assert await status_with(client, sign({**claims_of(owner), **changes}, settings.jwt_secret)) == 401


class TestTampering:
    async def test_tenant_id_resigned_with_a_wrong_key(self, client, owner):
        other = await make_tenant(client)
        claims = {**claims_of(owner), "tenant_id": other.tenant_id}
        assert await status_with(client, sign(claims, OTHER_KEY)) == 401

    async def test_tenant_id_edited_without_resigning(self, client, owner):
        other = await make_tenant(client)
        assert await status_with(client, edit_payload(owner.access_token, tenant_id=other.tenant_id)) == 401

    @pytest.mark.parametrize(
        "changes",
        [{"role": "owner"}, {"sub": str(uuid.uuid4())}, {"exp": 4102444800}, {"sid": str(uuid.uuid4())}],
        ids=["role", "sub", "exp", "sid"],
    )
    async def test_any_claim_edited_without_resigning(self, client, owner, changes):
        assert await status_with(client, edit_payload(owner.access_token, **changes)) == 401


class TestGarbage:
    @pytest.mark.parametrize(
        "token",
        ["garbage", "a.b.c", "a.b", "....", "eyJhbGciOiJIUzI1NiJ9.e30.", "x" * 5000],
        ids=["word", "three-parts", "two-parts", "dots", "empty-claims", "huge"],
    )
    async def test_is_401(self, client, token):
        assert await status_with(client, token) == 401

    async def test_non_ascii_bytes_are_401(self, client):
        response = await client.get(f"{API}/users/me", headers={"Authorization": "Bearer é.é.é".encode()})
        assert response.status_code == 401

    async def test_no_header_is_401(self, client):
        response = await client.get(f"{API}/users/me")
        assert response.status_code == 401

    async def test_other_scheme_is_401(self, client, owner):
        response = await client.get(f"{API}/users/me", headers={"Authorization": f"Basic {owner.access_token}"})
        assert response.status_code == 401
