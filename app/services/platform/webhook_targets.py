"""Where a webhook may be sent (SSRF guard) and how it is signed (Standard Webhooks).

A target URL is checked twice: when an endpoint is saved, and before every delivery attempt. The
host is resolved (in a thread, like every blocking lookup) and EVERY address it resolves to must be
public: private (RFC 1918, unique-local), loopback, link-local (169.254/16 holds the cloud metadata
services), CGNAT (100.64/10), multicast, reserved/unspecified, benchmarking, documentation and
IPv4-mapped/NAT64/6to4 forms of those are refused. The delivery then connects to the very address
that was checked (the URL's host stays in the Host header and TLS SNI/certificate check), so a DNS
answer that changes between the check and the connection (DNS rebinding) cannot redirect it.
WEBHOOK_ALLOW_PRIVATE_TARGETS lifts the address rule (a local receiver in tests; refused in prod).
"""

import asyncio
import base64
import hashlib
import hmac
import ipaddress
import secrets
import socket
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

from app.core.config import Settings

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32
RESOLVE_TIMEOUT_SECONDS = 5.0

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Networks no webhook may reach, beyond what the ipaddress module's flags catch.
BLOCKED_NETWORKS = [
    ipaddress.ip_network(n)
    for n in (
        "0.0.0.0/8",  # "this network"
        "10.0.0.0/8",
        "100.64.0.0/10",  # CGNAT (RFC 6598)
        "127.0.0.0/8",
        "169.254.0.0/16",  # link-local: 169.254.169.254 is the AWS/GCP/Azure metadata service
        "172.16.0.0/12",
        "192.0.0.0/24",  # IETF protocol assignments
        "192.0.2.0/24",
        "192.88.99.0/24",  # 6to4 relay anycast
        "192.168.0.0/16",
        "198.18.0.0/15",  # benchmarking
        "198.51.100.0/24",
        "203.0.113.0/24",
        "224.0.0.0/4",  # multicast
        "240.0.0.0/4",  # reserved, broadcast
        "::/128",
        "::1/128",
        "64:ff9b:1::/48",  # local-use NAT64
        "100::/64",  # discard-only
        "2001::/23",  # IETF protocol assignments
        "2001:db8::/32",
        "fc00::/7",  # unique local
        "fe80::/10",  # link-local
        "fec0::/10",  # site-local (deprecated)
        "ff00::/8",  # multicast
        "fd00:ec2::254/128",  # AWS metadata over IPv6 (inside fc00::/7 already; named for clarity)
    )
]


class TargetRefused(Exception):
    """A URL a webhook may not be sent to; the message says why (shown to the tenant)."""

    def __init__(self, message: str, *, kind: str = "refused") -> None:
        super().__init__(message)
        self.kind = kind  # invalid (the URL itself), unresolvable, refused (a non-public address)


def embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for (IPv4-mapped, IPv4-compatible, NAT64, 6to4)."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    packed = address.packed
    if address in ipaddress.ip_network("64:ff9b::/96") or (
        packed[:12] == bytes(12) and address.packed[12:] != bytes(4)
    ):
        return ipaddress.IPv4Address(packed[12:])
    return None


def is_public(address: IPAddress) -> bool:
    if isinstance(address, ipaddress.IPv6Address):
        if address.scope_id:
            return False
        inner = embedded_ipv4(address)
        if inner is not None:  # an IPv6 spelling of an IPv4 address is judged as that address
            return is_public(inner)
    if any(address in network for network in BLOCKED_NETWORKS if network.version == address.version):
        return False
    return address.is_global and not (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
    )


@dataclass(frozen=True)
class Target:
    """A checked URL and the address to connect to."""

    url: str
    scheme: str
    host: str  # as in the URL (IDNA-encoded), for Host and SNI
    port: int
    address: str  # the checked IP address


def parse(url: str, settings: Settings) -> SplitResult:
    """The URL's parts, or TargetRefused for what no webhook URL may be (a scheme, credentials,
    a missing host). Only https with ENV=prod."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise TargetRefused("The URL is not valid.", kind="invalid") from exc
    allowed = ("https",) if settings.env == "prod" else ("https", "http")
    if parts.scheme not in allowed:
        raise TargetRefused(f"The URL must use {' or '.join(allowed)}.", kind="invalid")
    if not parts.hostname:
        raise TargetRefused("The URL has no host.", kind="invalid")
    if parts.username is not None or parts.password is not None:
        raise TargetRefused("The URL may not carry credentials.", kind="invalid")
    if port == 0:
        raise TargetRefused("The URL's port is not valid.", kind="invalid")
    return parts


async def resolve(url: str, settings: Settings) -> Target:
    """Resolve the URL's host and check every address it resolves to (TargetRefused otherwise)."""
    parts = parse(url, settings)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        literal: IPAddress | None = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        addresses: list[IPAddress] = [literal]
    else:
        try:
            ascii_host = host.encode("idna").decode("ascii")
        except UnicodeError as exc:
            raise TargetRefused("The URL's host name is not valid.", kind="invalid") from exc
        loop = asyncio.get_running_loop()
        try:
            infos = await asyncio.wait_for(
                loop.getaddrinfo(ascii_host, port, type=socket.SOCK_STREAM), RESOLVE_TIMEOUT_SECONDS
            )
        except (OSError, TimeoutError, UnicodeError) as exc:
            raise TargetRefused(f"The host {host} could not be resolved.", kind="unresolvable") from exc
        addresses = []
        for info in infos:
            try:
                addresses.append(ipaddress.ip_address(str(info[4][0]).split("%")[0]))
            except ValueError:
                continue
        host = ascii_host
        if not addresses:
            raise TargetRefused(f"The host {host} could not be resolved.", kind="unresolvable")
    if not settings.webhook_allow_private_targets:
        refused = [a for a in addresses if not is_public(a)]
        if refused:
            raise TargetRefused(
                f"The host resolves to a private or reserved address ({refused[0]}); webhooks go to public "
                "addresses only."
            )
    return Target(url=url, scheme=parts.scheme, host=host, port=port, address=str(addresses[0]))


# --- Standard Webhooks signing ------------------------------------------------------------------


def new_secret() -> str:
    """`whsec_` + base64 of 32 random bytes (Standard Webhooks; 24 to 64 bytes are allowed)."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def secret_key(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX))


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` header: `v1,` + base64 HMAC-SHA256 of `id.timestamp.body`."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()
