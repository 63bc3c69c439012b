"""An https delivery connects to the checked address yet verifies TLS against the URL's host name:
SNI and the certificate's name check use the host, never the IP, and verification stays on.

A real TLS server on 127.0.0.1 presents a certificate for `webhooks.test` issued by a test CA; the
sender's trust store (certifi's bundle, what httpx loads) is pointed at that CA for these tests."""

import ssl
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import certifi
import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from app.services.platform.webhook_delivery import post
from app.services.platform.webhook_targets import Target

HOST = "webhooks.test"


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _certificates(directory: Path) -> tuple[Path, Path, Path]:
    """A test CA and a server certificate for HOST: (ca.pem, server.pem, server.key)."""
    now = datetime.now(UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(_name("Webhook test CA"))
        .issuer_name(_name("Webhook test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(True, False, False, False, False, True, True, False, False), critical=True
        )  # digital signature, certificate and CRL signing
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    server = (
        x509.CertificateBuilder()
        .subject_name(_name(HOST))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(HOST)]), critical=False)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    paths = directory / "ca.pem", directory / "server.pem", directory / "server.key"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(server.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return paths


class Seen:
    def __init__(self) -> None:
        self.sni: list[str | None] = []
        self.hosts: list[str | None] = []


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, Path, Seen]]:
    ca, cert, key = _certificates(tmp_path_factory.mktemp("tls"))
    seen = Seen()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("content-length", "0")))
            seen.hosts.append(self.headers.get("host"))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    context.sni_callback = lambda _sock, name, _ctx: seen.sni.append(name)  # type: ignore[assignment,func-returns-value]
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1], ca, seen
    server.shutdown()
    server.server_close()


def target(port: int, host: str = HOST) -> Target:
    return Target(url=f"https://{host}:{port}/hooks", scheme="https", host=host, port=port, address="127.0.0.1")


async def test_the_certificate_is_checked_against_the_host_not_the_address(tls_server, monkeypatch):
    port, ca, seen = tls_server
    monkeypatch.setattr(certifi, "where", lambda: str(ca))  # trust the test CA (only)
    assert await post(target(port), {"content-type": "application/json"}, b"{}", 5) == 204
    assert seen.sni[-1] == HOST and seen.hosts[-1] == f"{HOST}:{port}"
    # a certificate that does not name the URL's host is refused, though the address is the same
    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        await post(target(port, "other.test"), {}, b"{}", 5)
    assert seen.hosts == [f"{HOST}:{port}"]


async def test_an_untrusted_certificate_is_refused(tls_server):
    port, _, seen = tls_server
    before = len(seen.hosts)
    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        await post(target(port), {}, b"{}", 5)  # the real trust store: the test CA is unknown
    assert len(seen.hosts) == before
