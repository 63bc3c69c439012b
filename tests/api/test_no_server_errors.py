"""Requests that answered 500 on main: each is now a clear answer, and an unexpected error no
longer costs the client its keep-alive connection."""

import socket

from app.main import create_app
from tests.api.v1.invoicing import Party, gstin, line, make_company, make_customer
from tests.conftest import free_port, serve_in_thread
from tests.factories import API, make_tenant


async def test_an_invoice_of_a_thousand_crore_has_its_amount_in_words(client):
    """848 x ₹99,99,999.9999 + 18 % = ₹1,000.64 crore: num2words stops below 1,000 crore."""
    owner = await make_tenant(client)
    customer = await make_customer(client, owner, gstin=gstin("29"), billing_address={"state_code": "29"})
    party = Party(owner, await make_company(client, owner), customer)
    invoice = await party.invoice(client, line(unit_price="9999999.9999", quantity="848", gst_rate="18"))
    assert invoice["total"] == "10006400000.00"  # rounded to the rupee
    assert invoice["amount_in_words"] == "Rupees One Thousand Crore Sixty-Four Lakh Only"
    again = await client.get(f"{API}/invoices/{invoice['id']}", headers=party.account.headers)
    assert again.json()["amount_in_words"] == invoice["amount_in_words"]


def _receive(sock: socket.socket) -> bytes:
    chunk = sock.recv(65536)
    if not chunk:
        raise ConnectionError("the server closed the connection")
    return chunk


def _exchange(sock: socket.socket, path: str) -> bytes:
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: t\r\n\r\n".encode())
    data = b""
    while b"\r\n\r\n" not in data:
        data += _receive(sock)
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(int(h.split(b":")[1]) for h in head.split(b"\r\n") if h.lower().startswith(b"content-length"))
    while len(body) < length:
        body += _receive(sock)
    return head


def test_an_unexpected_error_is_a_500_that_keeps_the_connection(settings):
    """One socket, three requests: the 500 in the middle does not close it."""
    app = create_app(settings)

    async def boom() -> None:
        raise RuntimeError("an unexpected bug")

    app.add_api_route("/boom", boom)
    port = free_port()
    server, thread = serve_in_thread(app, port)
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            assert _exchange(sock, "/health").startswith(b"HTTP/1.1 200")
            failed = _exchange(sock, "/boom")
            assert _exchange(sock, "/health").startswith(b"HTTP/1.1 200")
        assert failed.startswith(b"HTTP/1.1 500")
        assert b"application/problem+json" in failed and b"x-request-id" in failed.lower()
    finally:
        server.should_exit = True
        thread.join(timeout=15)
