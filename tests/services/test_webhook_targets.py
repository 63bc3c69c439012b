"""The SSRF guard's address rules, URL rules and the Standard Webhooks signature (no database)."""

import ipaddress
import random
from datetime import timedelta

import pytest

from app.core.config import Settings
from app.services.platform.webhook_delivery import RETRY_SCHEDULE, retry_delay
from app.services.platform.webhook_targets import TargetRefused, is_public, new_secret, parse, resolve, secret_key, sign

REFUSED = [
    "127.0.0.1",
    "127.255.0.9",
    "10.0.0.1",
    "172.31.255.255",
    "192.168.0.10",
    "169.254.169.254",  # cloud metadata
    "100.64.0.1",  # CGNAT
    "100.127.255.254",
    "0.0.0.0",
    "224.0.0.251",
    "239.255.255.250",
    "240.0.0.1",
    "255.255.255.255",
    "192.0.2.5",
    "198.18.0.1",
    "::",
    "::1",
    "::ffff:127.0.0.1",  # IPv4-mapped loopback
    "::ffff:169.254.169.254",
    "::ffff:10.0.0.1",
    "::127.0.0.1",  # IPv4-compatible
    "64:ff9b::a00:1",  # NAT64 of 10.0.0.1
    "2002:7f00:1::",  # 6to4 of 127.0.0.1
    "fe80::1",
    "fc00::1",
    "fd00:ec2::254",  # AWS metadata over IPv6
    "ff02::1",
    "2001:db8::1",
]
PUBLIC = ["93.184.215.14", "8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808"]


@pytest.mark.parametrize("address", REFUSED)
def test_non_public_addresses_are_refused(address):
    assert not is_public(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_pass(address):
    assert is_public(ipaddress.ip_address(address))


def settings(**overrides) -> Settings:
    return Settings(env="test", **overrides)


@pytest.mark.parametrize(
    "url",
    ["ftp://example.com/", "https://user:pw@example.com/", "https:///nohost", "https://example.com:0/", "javascript:1"],
)
def test_bad_urls(url):
    with pytest.raises(TargetRefused) as refused:
        parse(url, settings())
    assert refused.value.kind == "invalid"


def test_https_only_in_prod():
    prod = Settings.model_construct(env="prod", webhook_allow_private_targets=False)
    with pytest.raises(TargetRefused):
        parse("http://93.184.215.14/hook", prod)
    assert parse("https://93.184.215.14/hook", prod).hostname == "93.184.215.14"


def test_private_targets_cannot_be_allowed_in_prod():
    # (the validator alone: a prod Settings needs every other prod setting too)
    with pytest.raises(ValueError, match="WEBHOOK_ALLOW_PRIVATE_TARGETS"):
        Settings.model_construct(env="prod", webhook_allow_private_targets=True)._no_private_webhooks_in_prod()
    Settings.model_construct(env="prod", webhook_allow_private_targets=False)._no_private_webhooks_in_prod()


async def test_resolution_connects_to_the_checked_address():
    target = await resolve("https://93.184.215.14:8443/x?y=1", settings())
    assert (target.address, target.port, target.host, target.scheme) == (
        "93.184.215.14",
        8443,
        "93.184.215.14",
        "https",
    )
    with pytest.raises(TargetRefused) as refused:
        await resolve("http://localhost:8000/x", settings())
    assert refused.value.kind == "refused"
    allowed = await resolve("http://localhost:8000/x", settings(webhook_allow_private_targets=True))
    assert ipaddress.ip_address(allowed.address).is_loopback


def test_signature_matches_the_standard_webhooks_test_vector():
    # The specification's reference vector (standard-webhooks libraries' tests).
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    body = b'{"test": 2432232314}'
    assert sign(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body) == (
        "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    )


def test_new_secrets():
    secrets = {new_secret() for _ in range(20)}
    assert len(secrets) == 20
    assert all(s.startswith("whsec_") and len(secret_key(s)) >= 24 for s in secrets)


def test_backoff_grows_with_bounded_jitter():
    rng = random.Random(7)
    for attempt in range(1, 12):
        base = RETRY_SCHEDULE[min(attempt, len(RETRY_SCHEDULE)) - 1]
        delay = retry_delay(attempt, rng=rng)
        assert base * 0.8 <= delay <= base * 1.2
    assert retry_delay(1, rng=rng) < timedelta(seconds=7) and retry_delay(50, rng=rng) > timedelta(hours=7)
