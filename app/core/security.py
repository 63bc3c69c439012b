"""Passwords (bcrypt, off the event loop), access tokens (JWT HS256) and opaque tokens.

Opaque tokens (refresh, verification, reset, invitation) carry the tenant id in their first 16
bytes so the server can bind the tenant before looking the token up; the other 32 bytes are
random (256 bits). Only a SHA-256 of the whole token is stored.
"""

import asyncio
import base64
import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache

import bcrypt
from jose import JWTError, jwt

from app.core.config import Settings

JWT_ALGORITHM = "HS256"
BCRYPT_MAX_BYTES = 72
REQUIRED_CLAIMS = ("sub", "tenant_id", "role", "sid", "iat", "exp", "iss", "aud", "jti")


class AccessTokenRejected(Exception):
    pass


@dataclass(frozen=True)
class AccessClaims:
    user_id: uuid.UUID
    tenant_id: uuid.UUID
    role: str
    session_id: uuid.UUID


async def hash_password(password: str, rounds: int) -> str:
    salt = bcrypt.gensalt(rounds)
    hashed = await asyncio.to_thread(bcrypt.hashpw, password.encode(), salt)
    return hashed.decode()


async def verify_password(password: str, password_hash: str | None, rounds: int) -> bool:
    """Constant work whether or not the user exists: unknown users check against a dummy hash.

    A candidate over bcrypt's 72 bytes can never match a stored password (those are at most 72
    bytes); it is still checked, truncated, so that it costs the same time.
    """
    target = (password_hash or _dummy_hash(rounds)).encode()
    candidate = password.encode()
    matches = await asyncio.to_thread(bcrypt.checkpw, candidate[:BCRYPT_MAX_BYTES], target)
    return matches and password_hash is not None and len(candidate) <= BCRYPT_MAX_BYTES


@lru_cache
def _dummy_hash(rounds: int) -> str:
    return bcrypt.hashpw(secrets.token_bytes(16), bcrypt.gensalt(rounds)).decode()


def create_access_token(settings: Settings, claims: AccessClaims, now: datetime | None = None) -> str:
    now = now or datetime.now(UTC)
    payload = {
        "sub": str(claims.user_id),
        "tenant_id": str(claims.tenant_id),
        "role": claims.role,
        "sid": str(claims.session_id),
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(minutes=settings.access_token_minutes)).timestamp()),
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "jti": secrets.token_hex(16),
    }
    return jwt.encode(payload, settings.jwt_secret, algorithm=JWT_ALGORITHM)


def decode_access_token(settings: Settings, token: str, now: datetime | None = None) -> AccessClaims:
    """Verify and read an access token. Besides the signature and every claim, its `iat` may not
    lie in the future beyond JWT_LEEWAY_SECONDS of clock skew (a token minted ahead of time, or
    by a clock that is wrong, would otherwise outlive its stated lifetime).

    What does not depend on the time (signature, algorithm, issuer, audience, required claims) is
    checked once per token (_verified, cached: a client sends the same token for its whole life);
    expiry and `iat` are checked on every call. Only tokens that passed are cached."""
    try:
        verified = _verified(token, settings.jwt_secret, settings.jwt_audience, settings.jwt_issuer)
    except (JWTError, ValueError, TypeError, AttributeError, KeyError, OverflowError) as exc:  # exp: Infinity
        raise AccessTokenRejected(str(exc)) from exc
    claims, issued_at, expires_at = verified
    if expires_at < datetime.now(UTC).timestamp():  # python-jose's rule (no leeway), wall clock
        raise AccessTokenRejected("Signature has expired.")
    if issued_at > (now or datetime.now(UTC)).timestamp() + settings.jwt_leeway_seconds:
        raise AccessTokenRejected("issued in the future")
    return claims


@lru_cache(maxsize=4096)
def _verified(token: str, secret: str, audience: str, issuer: str) -> tuple[AccessClaims, float, float]:
    """The claims of a token whose signature and time-independent claims verify, with its iat and
    exp; raises otherwise (nothing is cached then)."""
    options = {f"require_{claim}": True for claim in ("exp", "iat", "iss", "aud", "sub", "jti")}
    options["verify_exp"] = False  # checked by the caller on every use
    header = jwt.get_unverified_header(token)
    if header.get("alg") != JWT_ALGORITHM:
        raise AccessTokenRejected("unexpected algorithm")
    payload = jwt.decode(token, secret, algorithms=[JWT_ALGORITHM], audience=audience, issuer=issuer, options=options)
    if any(claim not in payload for claim in REQUIRED_CLAIMS):
        raise AccessTokenRejected("missing claim")
    issued_at, expires_at = payload["iat"], payload["exp"]
    for name, value in (("iat", issued_at), ("exp", expires_at)):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise AccessTokenRejected(f"{name} is not a number")
    claims = AccessClaims(
        user_id=uuid.UUID(payload["sub"]),
        tenant_id=uuid.UUID(payload["tenant_id"]),
        role=str(payload["role"]),
        session_id=uuid.UUID(payload["sid"]),
    )
    return claims, issued_at, expires_at


def new_opaque_token(tenant_id: uuid.UUID) -> str:
    raw = tenant_id.bytes + secrets.token_bytes(32)
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def successor_refresh_token(settings: Settings, refresh_token: str) -> str:
    """The refresh token that rotating `refresh_token` gives: the same tenant prefix and 256 bits of
    HMAC-SHA256 under the server's secret, so the same successor can be handed out again when the
    rotated token is presented a second time within the reuse grace window (only hashes are stored,
    so it could not be read back). Unpredictable without JWT_SECRET, like a random one."""
    tenant_id = tenant_of_opaque_token(refresh_token)
    if tenant_id is None:
        raise ValueError("not an opaque token")
    tail = hmac.new(settings.jwt_secret.encode(), b"refresh-successor\x00" + refresh_token.encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(tenant_id.bytes + tail.digest()).rstrip(b"=").decode()


def tenant_of_opaque_token(token: str) -> uuid.UUID | None:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (ValueError, TypeError):
        return None
    if len(raw) != 48:
        return None
    return uuid.UUID(bytes=raw[:16])


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
