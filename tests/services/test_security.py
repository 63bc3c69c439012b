"""app/core/security.py: opaque tokens, access tokens and password hashing."""

import asyncio
import base64
import hashlib
import statistics
import time
import uuid
from datetime import UTC, datetime, timedelta

import bcrypt
import httpx
import pytest
from cryptography.fernet import Fernet
from pydantic import ValidationError

from app.core.config import DEV_JWT_SECRET, Settings
from app.core.security import (
    BCRYPT_MAX_BYTES,
    AccessClaims,
    AccessTokenRejected,
    create_access_token,
    decode_access_token,
    hash_password,
    new_opaque_token,
    successor_refresh_token,
    tenant_of_opaque_token,
    token_digest,
    verify_password,
)
from app.main import create_app
from tests.conftest import PASSWORD, fresh_ip
from tests.factories import API, make_tenant


def raw_bytes(token: str) -> bytes:
    return base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))


class TestOpaqueTokens:
    def test_round_trip_carries_the_tenant_id(self):
        tenant_id = uuid.uuid4()
        assert tenant_of_opaque_token(new_opaque_token(tenant_id)) == tenant_id

    def test_url_safe(self):
        token = new_opaque_token(uuid.uuid4())
        assert token.replace("-", "").replace("_", "").isalnum()

    def test_at_least_128_random_bits(self):
        tenant_id = uuid.uuid4()
        tails = {raw_bytes(new_opaque_token(tenant_id))[16:] for _ in range(1000)}
        assert len(tails) == 1000
        assert all(len(tail) * 8 >= 128 for tail in tails)
        bits = "".join(f"{byte:08b}" for tail in tails for byte in tail)
        assert 0.48 < bits.count("1") / len(bits) < 0.52

    @pytest.mark.parametrize(
        "token",
        ["", "abc", "!!!!", "é" * 64, base64.urlsafe_b64encode(b"x" * 47).decode(), "A" * 65],
        ids=["empty", "short", "punctuation", "non-ascii", "47-bytes", "49-bytes"],
    )
    def test_malformed_tokens_have_no_tenant(self, token):
        assert tenant_of_opaque_token(token) is None

    def test_a_successor_is_derived_carries_the_tenant_and_depends_on_the_secret(self, settings):
        tenant_id = uuid.uuid4()
        token = new_opaque_token(tenant_id)
        successor = successor_refresh_token(settings, token)
        assert successor == successor_refresh_token(settings, token) != token
        assert tenant_of_opaque_token(successor) == tenant_id
        assert len(raw_bytes(successor)[16:]) * 8 == 256
        assert successor != successor_refresh_token(settings, new_opaque_token(tenant_id))
        assert successor != successor_refresh_token(settings.model_copy(update={"jwt_secret": "y" * 40}), token)

    def test_digest_is_a_stable_sha256(self):
        token = new_opaque_token(uuid.uuid4())
        assert token_digest(token) == token_digest(token) == hashlib.sha256(token.encode()).hexdigest()
        assert token_digest(token) != token_digest(new_opaque_token(uuid.uuid4()))
        assert token not in token_digest(token)


class TestAccessTokens:
    def claims(self) -> AccessClaims:
        return AccessClaims(user_id=uuid.uuid4(), tenant_id=uuid.uuid4(), role="admin", session_id=uuid.uuid4())

    def test_round_trip(self, settings):
        claims = self.claims()
        assert decode_access_token(settings, create_access_token(settings, claims)) == claims

    def test_expires_after_the_configured_minutes(self, settings):
        past = datetime.now(UTC) - timedelta(minutes=settings.access_token_minutes, seconds=5)
        with pytest.raises(AccessTokenRejected):
            decode_access_token(settings, create_access_token(settings, self.claims(), past))
        recent = datetime.now(UTC) - timedelta(minutes=settings.access_token_minutes - 1)
        decode_access_token(settings, create_access_token(settings, self.claims(), recent))

    def test_a_token_already_verified_is_still_refused_once_it_expires(self, settings):
        """Verification is cached per token (the hot path); expiry is checked on every use."""
        issued = datetime.now(UTC) - timedelta(minutes=settings.access_token_minutes) + timedelta(seconds=1.5)
        token = create_access_token(settings, self.claims(), issued)
        decode_access_token(settings, token)  # valid, now cached
        time.sleep(2)
        with pytest.raises(AccessTokenRejected, match="expired"):
            decode_access_token(settings, token)

    def test_a_cached_token_is_still_checked_against_the_secret(self, settings):
        token = create_access_token(settings, self.claims())
        decode_access_token(settings, token)  # cached under this secret
        with pytest.raises(AccessTokenRejected):
            decode_access_token(settings.model_copy(update={"jwt_secret": "y" * 40}), token)

    def test_issued_in_the_future_beyond_the_leeway_is_refused(self, settings):
        now = datetime.now(UTC)
        ahead = now + timedelta(seconds=settings.jwt_leeway_seconds + 5)
        with pytest.raises(AccessTokenRejected, match="future"):
            decode_access_token(settings, create_access_token(settings, self.claims(), ahead), now)
        skewed = now + timedelta(seconds=settings.jwt_leeway_seconds - 5)
        decode_access_token(settings, create_access_token(settings, self.claims(), skewed), now)

    def test_another_secret_cannot_decode(self, settings):
        token = create_access_token(settings, self.claims())
        with pytest.raises(AccessTokenRejected):
            decode_access_token(settings.model_copy(update={"jwt_secret": "x" * 40}), token)

    @pytest.mark.parametrize("exp", [float("inf"), float("nan")])
    def test_an_expiry_that_is_not_a_finite_number_is_refused(self, settings, exp):
        """Signed with the secret, but `exp` is Infinity or NaN (valid for Python's JSON): such a
        token would never expire. python-jose's `int(exp)` raises OverflowError for Infinity (which
        escaped as a 500 before it was caught) and ValueError for NaN: both are a refused token."""
        from jose import jwt

        payload = jwt.get_unverified_claims(create_access_token(settings, self.claims())) | {"exp": exp}
        token = jwt.encode(payload, settings.jwt_secret, algorithm="HS256")
        with pytest.raises(AccessTokenRejected):
            decode_access_token(settings, token)

    def test_every_token_has_its_own_jti(self, settings):
        from jose import jwt

        claims = self.claims()
        ids = {jwt.get_unverified_claims(create_access_token(settings, claims))["jti"] for _ in range(50)}
        assert len(ids) == 50


PROD_PAYMENT_KEY = Fernet.generate_key().decode()


def prod_settings(**overrides) -> Settings:
    live = {"razorpay_mode": "live", "razorpay_key_id": "k", "razorpay_key_secret": "s", "razorpay_webhook_secret": "w"}
    return Settings(_env_file=None, env="prod", payment_secret_keys=PROD_PAYMENT_KEY, **live, **overrides)


class TestJwtSecretInProd:
    @pytest.mark.parametrize(
        ("secret", "reason"),
        [("x", "shorter than 32 bytes"), ("x" * 31, "shorter than 32 bytes"), (DEV_JWT_SECRET, "development default")],
        ids=["one-byte", "31-bytes", "dev-default"],
    )
    def test_weak_secrets_are_refused(self, secret, reason):
        with pytest.raises(ValidationError, match=reason):
            prod_settings(jwt_secret=secret)

    def test_the_development_default_is_refused_when_unset(self):
        with pytest.raises(ValidationError, match="development default"):
            prod_settings()

    @pytest.mark.parametrize("secret", ["x" * 32, "é" * 16], ids=["32-ascii", "32-bytes-utf8"])
    def test_32_bytes_are_enough(self, secret):
        assert prod_settings(jwt_secret=secret).jwt_secret == secret

    def test_outside_prod_a_short_secret_is_allowed(self):
        assert Settings(_env_file=None, env="dev", jwt_secret="x").jwt_secret == "x"


class TestPasswords:
    async def test_hash_and_verify(self):
        hashed = await hash_password(PASSWORD, 4)
        assert hashed.startswith("$2b$04$")
        assert await verify_password(PASSWORD, hashed, 4)
        assert not await verify_password(PASSWORD + "x", hashed, 4)

    async def test_salted(self):
        assert await hash_password(PASSWORD, 4) != await hash_password(PASSWORD, 4)

    async def test_unknown_user_never_verifies(self):
        assert not await verify_password(PASSWORD, None, 4)

    async def test_over_72_bytes_never_matches_a_stored_hash(self):
        stored = "a" * BCRYPT_MAX_BYTES
        hashed = await hash_password(stored, 4)
        assert await verify_password(stored, hashed, 4)
        assert not await verify_password(stored + "b", hashed, 4)
        assert not await verify_password(stored + "é", hashed, 4)

    async def test_unknown_user_costs_a_full_bcrypt_check(self):
        rounds = 10
        hashed = await hash_password(PASSWORD, rounds)
        await verify_password("warm-up", None, rounds)
        known, unknown = [], []
        for _ in range(5):
            known.append(await timed(verify_password("wrong-password", hashed, rounds)))
            unknown.append(await timed(verify_password("wrong-password", None, rounds)))
        ratio = statistics.median(unknown) / statistics.median(known)
        assert 0.5 < ratio < 2, (known, unknown)

    async def test_hashing_does_not_block_the_event_loop(self):
        started = time.perf_counter()
        hashing = asyncio.ensure_future(hash_password(PASSWORD, 12))
        ticks = 0
        while not hashing.done():
            await asyncio.sleep(0.005)
            ticks += 1
        assert ticks >= 10, f"the loop ran {ticks} times in {time.perf_counter() - started:.3f}s"


async def timed(awaitable) -> float:
    started = time.perf_counter()
    await awaitable
    return time.perf_counter() - started


ROUNDS = 11


@pytest.fixture(scope="module")
async def costly_hash_client(settings):
    tuned = settings.model_copy(
        update={
            "bcrypt_rounds": ROUNDS,
            "login_limit_per_email_ip": 10**6,
            "login_limit_per_email": 10**6,
            "login_limit_per_ip": 10**6,
        }
    )
    application = create_app(tuned)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application, client=(fresh_ip(), 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
            yield c


async def health_latencies(client: httpx.AsyncClient, until: asyncio.Future) -> list[float]:
    """/health every 20 ms; each latency counts from when the request was due, so time the
    event loop spent blocked before sending it counts too (once: a late request resets the beat)."""
    latencies = []
    due = time.perf_counter()
    while not until.done():
        due = max(due + 0.02, time.perf_counter())
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
        response = await client.get(f"{API}/health")
        latencies.append(time.perf_counter() - due)
        assert response.status_code == 200
    return latencies


def concurrent_logins(client: httpx.AsyncClient, email: str, count: int) -> asyncio.Future:
    body = {"email": email, "password": PASSWORD}
    return asyncio.gather(*(client.post(f"{API}/auth/login", json=body) for _ in range(count)))


async def test_health_stays_fast_during_20_concurrent_logins(costly_hash_client):
    client = costly_hash_client
    owner = await make_tenant(client)
    await concurrent_logins(client, owner.email, 20)  # opens the pool's connections and the hashing threads
    one_bcrypt = await timed(asyncio.to_thread(bcrypt.checkpw, b"x", bcrypt.hashpw(b"y", bcrypt.gensalt(ROUNDS))))

    logins = concurrent_logins(client, owner.email, 20)
    latencies = await health_latencies(client, logins)
    slow = [round(latency, 3) for latency in latencies if latency > one_bcrypt / 2]
    assert len(latencies) >= 10
    assert len(slow) <= len(latencies) // 10, f"{len(slow)} of {len(latencies)} slow: {slow}; bcrypt {one_bcrypt:.3f}s"
    assert all(r.status_code == 200 for r in await logins)
