"""The benchmark harness every `python -m bench.<name>` shares.

- `bench_database()`: the embedded PostgreSQL, a database of the benchmark's own (recreated on
  entry, dropped on exit), migrated as the owner; yields its URLs.
- `ApiServer`: the API in a uvicorn subprocess on a free loopback port, as the application role.
- `LoadProcess`: one separate process that drives a `Scenario` with a fixed number of concurrent
  workers for a fixed time and returns requests/s, p50 and p99. Scenarios name their driver by
  import path ("bench.baseline:RawUserRead"), so they cross the process boundary as plain data.
- `HttpDriver`: a lean HTTP/1.1 keep-alive client (one connection per worker) so that the load
  generator, which shares the machine's CPUs with the server, costs as little as possible.
- `format_ratio` / `format_target`: a ratio with its target and PASS or MISS.
"""

import asyncio
import base64
import importlib
import json
import math
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ProcessPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

import httpx
import psutil
from sqlalchemy.engine import make_url

from app.core.config import Settings
from app.core.embedded_pg import DatabaseUrls, drop_database, embedded_urls, ensure_database, start_embedded_server
from app.core.migrations import upgrade

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "bench-password-123"
STARTUP_SECONDS = 60


# --- database ---------------------------------------------------------------------------------


@asynccontextmanager
async def bench_database(name: str = "rms_bench") -> AsyncIterator[DatabaseUrls]:
    """A migrated database on the embedded server, dropped on exit (the server stops with us)."""
    settings = Settings()
    server = start_embedded_server(ROOT / settings.embedded_pg_dir)
    await ensure_database(server, name, recreate=True)
    try:
        urls = embedded_urls(server, name, settings.app_db_role)
        await upgrade(urls)
        yield urls
    finally:
        await drop_database(server, name)


def asyncpg_dsn(url: str) -> str:
    """A SQLAlchemy URL (postgresql+asyncpg://...) as a DSN asyncpg accepts."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


# --- the API under test -----------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ApiServer:
    """`uvicorn app.asgi:app --workers N` in a subprocess, connected as the application role: the
    worker processes `python -m app serve` starts with WEB_CONCURRENCY=N (`worker_processes()`).

    Access logging is off and LOG_LEVEL is WARNING: the figures measure the app, not log I/O.
    Its output goes to a file, shown if it fails to start.
    """

    def __init__(self, database_url: str, *, workers: int = 1, env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.workers = workers
        self._tmp = tempfile.TemporaryDirectory(prefix="rms-bench-")
        self._log_path = Path(self._tmp.name) / "server.log"
        self._env = {
            **{k: v for k, v in os.environ.items() if k != "DATABASE_ADMIN_URL"},
            "ENV": "dev",
            "DATABASE_URL": database_url,
            "SMTP_HOST": "",  # mail goes to files in a temporary OUTBOX_DIR
            "JWT_SECRET": secrets.token_urlsafe(32),
            "BCRYPT_ROUNDS": "4",
            "LOG_LEVEL": "WARNING",
            "OUTBOX_DIR": str(Path(self._tmp.name) / "outbox"),
            **(env or {}),
        }
        self._process: asyncio.subprocess.Process | None = None

    @property
    def jwt_secret(self) -> str:
        """The server's JWT_SECRET (its cursors' key derives from it)."""
        return self._env["JWT_SECRET"]

    async def __aenter__(self) -> "ApiServer":
        command = [
            sys.executable,
            "-m",
            "uvicorn",
            "app.asgi:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--workers",
            str(self.workers),
            "--log-level",
            "warning",
            "--no-access-log",
        ]
        with self._log_path.open("wb") as log:
            self._process = await asyncio.create_subprocess_exec(
                *command, cwd=ROOT, env=self._env, stdout=log, stderr=subprocess.STDOUT
            )
        try:
            async with asyncio.timeout(STARTUP_SECONDS):
                await self._wait_healthy()
        except BaseException as exc:
            tail = self.log_tail()
            await self.stop()
            if isinstance(exc, TimeoutError):
                raise RuntimeError(f"the API did not answer /health within {STARTUP_SECONDS} s:\n{tail}") from None
            raise
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, *_: object) -> None:
        if exc_type is not None and (tail := self.log_tail()):
            print(f"--- the API's log (last lines) ---\n{tail}", file=sys.stderr)
        await self.stop()

    async def _wait_healthy(self) -> None:
        async with httpx.AsyncClient(base_url=self.base_url, timeout=2.0) as client:
            while True:
                if self._process.returncode is not None:
                    raise RuntimeError(f"the API exited with {self._process.returncode}:\n{self.log_tail()}")
                try:
                    if (await client.get("/health")).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)

    def worker_processes(self) -> list[psutil.Process]:
        """The processes that serve requests: uvicorn itself with one worker, else its children
        that accept on the port (not the supervisor, nor multiprocessing's resource tracker)."""
        parent = psutil.Process(self._process.pid)
        if self.workers == 1:
            return [parent]
        return [child for child in parent.children() if _listens(child, self.port)]

    async def wait_for_workers(self, seconds: float = STARTUP_SECONDS) -> list[psutil.Process]:
        """All `workers` worker processes, once each has started accepting."""
        deadline = time.monotonic() + seconds
        while len(found := self.worker_processes()) < self.workers:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{len(found)} of {self.workers} API workers started:\n{self.log_tail()}")
            await asyncio.sleep(0.2)
        return found

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self._log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    async def stop(self) -> None:
        if self._process is not None and self._process.returncode is None:
            self._process.terminate()
            try:
                async with asyncio.timeout(15):
                    await self._process.wait()
            except TimeoutError:
                self._process.kill()
                await self._process.wait()
        self._process = None
        self._tmp.cleanup()


def _listens(process: psutil.Process, port: int) -> bool:
    try:
        return any(c.status == psutil.CONN_LISTEN and c.laddr.port == port for c in process.net_connections("tcp"))
    except psutil.Error:
        return False


@dataclass(frozen=True)
class Login:
    email: str
    access_token: str
    claims: dict[str, Any]

    @property
    def auth_header(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}


async def register_and_login(base_url: str, email: str | None = None) -> Login:
    """A new tenant and its owner, through the API; returns the owner's access token."""
    email = email or f"bench-{secrets.token_hex(6)}@example.com"
    async with httpx.AsyncClient(base_url=base_url, timeout=30.0) as client:
        body = {"email": email, "password": PASSWORD, "full_name": "Bench Owner", "business_name": "Bench Traders"}
        response = await client.post("/api/v1/auth/register", json=body)
        response.raise_for_status()
        response = await client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
        response.raise_for_status()
    token = response.json()["access_token"]
    return Login(email=email, access_token=token, claims=unverified_claims(token))


def unverified_claims(token: str) -> dict[str, Any]:
    """The JWT payload, not verified (the bench only needs the ids the server put there)."""
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


# --- load: scenarios, drivers, measurement ----------------------------------------------------


class Driver(Protocol):
    """One kind of operation. Built in the load process from a Scenario's options."""

    async def open(self, concurrency: int) -> None: ...

    async def request(self, worker: int, seq: int) -> None:
        """One operation; raises if it failed."""

    async def close(self) -> None: ...


@dataclass(frozen=True)
class Scenario:
    name: str
    driver: str  # "module:Class", built as Class(**options) in the load process
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Result:
    name: str
    concurrency: int
    seconds: float
    requests: int
    errors: int
    first_error: str | None
    p50_ms: float
    p99_ms: float

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds > 0 else 0.0


class HttpError(RuntimeError):
    pass


class _HttpConnection:
    """HTTP/1.1 over one keep-alive connection: a request, then its whole response."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def exchange(self, payload: bytes) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        try:
            self.writer.write(payload)
            head = await self.reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            headers = {}
            for line in head[:-4].split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                headers[name.strip().lower()] = value.strip()
            if b"content-length" in headers:
                body = await self.reader.readexactly(int(headers[b"content-length"]))
            elif headers.get(b"transfer-encoding", b"").lower() == b"chunked":
                body = await self._read_chunked()
            else:
                body = b""
            if headers.get(b"connection", b"").lower() == b"close":
                await self.close()
            return status, body
        except BaseException:
            await self.close()
            raise

    async def _read_chunked(self) -> bytes:
        chunks = []
        while size := int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16):
            chunks.append(await self.reader.readexactly(size + 2))
        await self.reader.readuntil(b"\r\n")
        return b"".join(chunk[:-2] for chunk in chunks)

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None
            self.reader = None


class HttpDriver:
    """A fixed request, expected to answer `expect`. Subclass and override `payload` for
    requests that vary (an Idempotency-Key per request, a different body per worker)."""

    def __init__(
        self,
        url: str,
        method: str = "GET",
        headers: dict[str, str] | None = None,
        json_body: Any = None,
        expect: int = 200,
    ) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.target = parts.path + (f"?{parts.query}" if parts.query else "")
        self.method, self.headers, self.json_body, self.expect = method, headers or {}, json_body, expect
        self._payload = self.encode(self.method, self.target, self.headers, self.json_body)
        self._connections: list[_HttpConnection] = []

    def encode(self, method: str, target: str, headers: dict[str, str], json_body: Any = None) -> bytes:
        body = b"" if json_body is None else json.dumps(json_body).encode()
        lines = [f"{method} {target} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        if json_body is not None:
            lines.append("Content-Type: application/json")
        if body or method not in ("GET", "HEAD", "DELETE"):
            lines.append(f"Content-Length: {len(body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body

    def payload(self, worker: int, seq: int) -> bytes:
        return self._payload

    def check(self, status: int, body: bytes) -> None:
        if status != self.expect:
            raise HttpError(f"{self.method} {self.target}: {status} (expected {self.expect}): {body[:200]!r}")

    async def open(self, concurrency: int) -> None:
        self._connections = [_HttpConnection(self.host, self.port) for _ in range(concurrency)]

    async def request(self, worker: int, seq: int) -> None:
        status, body = await self._connections[worker].exchange(self.payload(worker, seq))
        self.check(status, body)

    async def close(self) -> None:
        for connection in self._connections:
            await connection.close()


def _percentile(ordered: list[float], q: float) -> float:
    """Nearest-rank percentile of an ascending list."""
    if not ordered:
        return math.nan
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


async def _measure(driver: Driver, name: str, concurrency: int, seconds: float, warmup: float) -> Result:
    """`concurrency` workers, each a closed loop (next request when the last answers), for
    warmup + seconds. Counted: requests that started after the warm-up."""
    await driver.open(concurrency)
    latencies: list[float] = []
    errors: list[BaseException] = []
    clock = time.perf_counter
    started = clock()
    measure_from, deadline = started + warmup, started + warmup + seconds

    async def worker(index: int) -> None:
        seq = 0
        while (begin := clock()) < deadline:
            try:
                await driver.request(index, seq)
            except Exception as exc:
                if begin >= measure_from:
                    errors.append(exc)
                await asyncio.sleep(0.01)  # a failing target must not turn this into a busy loop
            else:
                if begin >= measure_from:
                    latencies.append(clock() - begin)
            seq += 1

    try:
        await asyncio.gather(*(worker(i) for i in range(concurrency)))
        elapsed = clock() - measure_from
    finally:
        await driver.close()
    latencies.sort()
    return Result(
        name=name,
        concurrency=concurrency,
        seconds=elapsed,
        requests=len(latencies),
        errors=len(errors),
        first_error=repr(errors[0])[:300] if errors else None,
        p50_ms=_percentile(latencies, 0.50) * 1000,
        p99_ms=_percentile(latencies, 0.99) * 1000,
    )


def _build_driver(scenario: Scenario) -> Driver:
    module, _, attr = scenario.driver.partition(":")
    factory: Callable[..., Driver] = getattr(importlib.import_module(module), attr)
    return factory(**scenario.options)


def _run_in_load_process(scenario: Scenario, concurrency: int, seconds: float, warmup: float) -> Result:
    try:
        import uvloop
    except ImportError:  # the same loop for every scenario either way
        runner = asyncio.run
    else:
        runner = uvloop.run
    return runner(_measure(_build_driver(scenario), scenario.name, concurrency, seconds, warmup))


class LoadProcess:
    """A separate (spawned) process that runs scenarios one after another."""

    def __init__(self, *, concurrency: int, seconds: float, warmup: float) -> None:
        self.concurrency, self.seconds, self.warmup = concurrency, seconds, warmup
        self._pool = ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn"))

    async def run(self, scenario: Scenario) -> Result:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            self._pool, _run_in_load_process, scenario, self.concurrency, self.seconds, self.warmup
        )

    def __enter__(self) -> "LoadProcess":
        return self

    def __exit__(self, *_: object) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


# --- report -----------------------------------------------------------------------------------


def format_results(results: list[Result]) -> str:
    width = max(len(r.name) for r in results)
    lines = [f"{'scenario':<{width}}  {'requests':>9}  {'req/s':>9}  {'p50 ms':>8}  {'p99 ms':>8}  {'errors':>6}"]
    for r in results:
        lines.append(
            f"{r.name:<{width}}  {r.requests:>9}  {r.rps:>9.1f}  {r.p50_ms:>8.2f}  {r.p99_ms:>8.2f}  {r.errors:>6}"
        )
    for r in results:
        if r.first_error:
            lines.append(f"  first error in {r.name}: {r.first_error}")
    return "\n".join(lines)


def verdict(ratio: float, target: str) -> str:
    """PASS or MISS of `ratio` against a target written "≥ 0.5", "≤ 1.10" or "< 10"."""
    op, bound = target[0], float(target[1:])
    checks = {"≥": ratio >= bound, "≤": ratio <= bound, "<": ratio < bound, ">": ratio > bound}
    return "PASS" if math.isfinite(ratio) and checks[op] else "MISS"


def format_target(label: str, ratio: float, detail: str, target: str | None = None) -> str:
    """One ratio line: the value, its target and PASS/MISS (or "info" without a target), and how
    it was computed."""
    judged = f"{'target ' + target:<14} {verdict(ratio, target)}" if target else f"{'(no target)':<14} info"
    return f"{label:<60} {ratio:6.2f}   {judged}   ({detail})"


def format_ratio(label: str, numerator: Result, denominator: Result, target: str | None = None) -> str:
    """numerator ÷ denominator by throughput."""
    ratio = numerator.rps / denominator.rps if denominator.rps else math.nan
    return format_target(label, ratio, f"{numerator.rps:.1f} / {denominator.rps:.1f} req/s", target)


def format_tail(label: str, result: Result, target: str | None = "≤ 5") -> str:
    """p99 ÷ p50 latency of one scenario: how far the slowest 1 % stray from the median."""
    ratio = result.p99_ms / result.p50_ms if result.p50_ms else math.nan
    return format_target(label, ratio, f"{result.p99_ms:.1f} / {result.p50_ms:.1f} ms", target)
