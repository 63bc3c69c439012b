"""A real HTTP receiver for outbound webhook tests: http.server in a thread on 127.0.0.1. It
verifies each request's Standard Webhooks signature with its own implementation (written from the
specification, not the app's code), records what it got, and answers what the test asks (a status
per request, or a delay longer than the sender's timeout)."""

import base64
import hashlib
import hmac
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

TOLERANCE_SECONDS = 5 * 60


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    signature_valid: bool

    @property
    def json(self) -> Any:
        return json.loads(self.body)


def verify(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """The Standard Webhooks check: `v1,` signatures over `{id}.{timestamp}.{body}` with the
    base64-decoded part of `whsec_...`, any one matching, the timestamp within 5 minutes."""
    msg_id, timestamp = headers.get("webhook-id", ""), headers.get("webhook-timestamp", "")
    if (
        not secret.startswith("whsec_")
        or not msg_id
        or not timestamp.isdigit()
        or abs(time.time() - int(timestamp)) > TOLERANCE_SECONDS
    ):
        return False
    key = base64.b64decode(secret.split("_", 1)[1])
    expected = base64.b64encode(hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest())
    for candidate in headers.get("webhook-signature", "").split(" "):
        version, _, signature = candidate.partition(",")
        if version == "v1" and hmac.compare_digest(signature.encode(), expected):
            return True
    return False


@dataclass
class Receiver:
    secret: str = ""
    received: list[Received] = field(default_factory=list)
    # Answers for the next requests, in order (then 200): an int status, ("sleep", seconds), or
    # ("redirect", url): a 302 to url.
    script: list[Any] = field(default_factory=list)
    port: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    def events(self) -> list[dict[str, Any]]:
        return [r.json for r in self.received]


def start() -> tuple[Receiver, ThreadingHTTPServer]:
    receiver = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            headers = {k.lower(): v for k, v in self.headers.items()}
            with receiver.lock:
                answer = receiver.script.pop(0) if receiver.script else 200
                receiver.received.append(Received(headers, body, verify(receiver.secret, headers, body)))
            location = None
            if isinstance(answer, tuple) and answer[0] == "redirect":
                answer, location = 302, answer[1]
            elif isinstance(answer, tuple):
                time.sleep(answer[1])
                answer = 200
            try:
                self.send_response(answer)
                if location:
                    self.send_header("location", location)
                self.send_header("content-length", "2")
                self.end_headers()
                self.wfile.write(b"ok")
            except OSError:
                pass  # the sender gave up (timeout)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    receiver.port = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return receiver, server
