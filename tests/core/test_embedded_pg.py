"""The embedded PostgreSQL stops with the last process using it: on SIGTERM to `python -m app serve`
(what kill, docker stop and systemd send), and after a process that died without saying so left its
pid in the handle file. Each test runs the real CLI as a subprocess on a server of its own."""

import http.client
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest

from app.core.embedded_pg import HANDLE_FILE
from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]
# Settings the subprocess must not inherit (the suite may itself run on TEST_DATABASE_URL).
INHERITED = ("DATABASE_URL", "DATABASE_ADMIN_URL", "TEST_DATABASE_URL", "TEST_DATABASE_ADMIN_URL", "ENV", "PORT")


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("embedded")


@pytest.fixture(scope="module")
def pg_dir(workdir) -> Iterator[Path]:
    """One data directory for the module (initdb once); whatever runs on it is stopped afterwards."""
    path = workdir / "postgres"
    yield path
    postmaster = postmaster_pid(path)
    if postmaster is not None and running(postmaster):  # a failed test left it: smart shutdown
        psutil.Process(postmaster).terminate()


def cli_env(pg_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in INHERITED}
    return env | {"EMBEDDED_PG_DIR": str(pg_dir), "PYTHONPATH": str(ROOT), "LOG_LEVEL": "WARNING"} | extra


def postmaster_pid(pg_dir: Path) -> int | None:
    try:
        return int((pg_dir / "postmaster.pid").read_text().splitlines()[0])
    except (FileNotFoundError, IndexError, ValueError):
        return None


def running(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def wait_until_gone(pid: int, seconds: float = 20.0) -> bool:
    deadline = time.monotonic() + seconds
    while running(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def handles(pg_dir: Path) -> list[int]:
    path = pg_dir / HANDLE_FILE
    return json.loads(path.read_text() or "[]") if path.exists() else []


def dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_a_stale_handle_does_not_keep_the_server_running(pg_dir, workdir):
    """A process killed before its exit hooks ran stays in the handle file; the next process to
    use the server forgets it, and stops the server when it leaves as the last one."""
    for stale in ([], [dead_pid()]):  # the first run makes the data directory
        if stale:
            (pg_dir / HANDLE_FILE).write_text(json.dumps(stale))
        done = subprocess.run(
            [sys.executable, "-m", "app", "create-roles"],
            cwd=workdir,
            env=cli_env(pg_dir),
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert done.returncode == 0, done.stderr
        postmaster = postmaster_pid(pg_dir)
        assert postmaster is None or wait_until_gone(postmaster, 10), f"with {stale}: the server outlived its user"
        assert handles(pg_dir) == []


def test_sigterm_to_serve_stops_the_worker_and_the_embedded_server(pg_dir, workdir):
    port = free_port()
    serve = subprocess.Popen(
        [sys.executable, "-m", "app", "serve", "--no-demo"],
        cwd=workdir,
        env=cli_env(pg_dir, PORT=str(port)),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 180
        while True:
            assert serve.poll() is None, serve.stderr.read()
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "serve did not answer /health"
            time.sleep(0.2)
        postmaster = postmaster_pid(pg_dir)
        assert postmaster is not None and running(postmaster)
        children = psutil.Process(serve.pid).children(recursive=True)  # the job worker
        assert handles(pg_dir) == [serve.pid]

        serve.send_signal(signal.SIGTERM)
        serve.wait(timeout=60)
    finally:
        if serve.poll() is None:
            serve.kill()
            serve.wait()
    assert wait_until_gone(postmaster), "the embedded PostgreSQL is still running"
    assert all(wait_until_gone(child.pid, 5) for child in children), "the worker is still running"
    assert handles(pg_dir) == []
    assert serve.returncode == 128 + signal.SIGTERM  # a shutdown by unwinding, not death by the signal


def listening_workers(serve: psutil.Process, port: int) -> list[psutil.Process]:
    """The children of `serve` that accept on its port: uvicorn's worker processes."""
    return [child for child in serve.children() if listens(child, port)]


def listens(process: psutil.Process, port: int) -> bool:
    try:
        return any(c.status == psutil.CONN_LISTEN and c.laddr.port == port for c in process.net_connections("tcp"))
    except psutil.NoSuchProcess:  # a child that has just exited
        return False


def answering_worker(workers: list[psutil.Process], port: int) -> int | None:
    """Sends GET /health on a new connection; the pid of the worker holding the other end of it."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", "/health")
        response = connection.getresponse()
        response.read()
        assert response.status == 200
        client_port = connection.sock.getsockname()[1]
        for worker in workers:  # the connection is still open: its server end belongs to one worker
            if any(c.raddr and c.raddr.port == client_port for c in worker.net_connections("tcp")):
                return worker.pid
        return None
    finally:
        connection.close()


def test_serve_with_two_workers_answers_from_both_and_starts_the_rest_once(pg_dir, workdir):
    """WEB_CONCURRENCY=2: two uvicorn workers share the port and both answer; the embedded PostgreSQL
    (its handle file names the parent alone), migrations and the job worker stay the parent's, once.
    SIGTERM stops them all."""
    port = free_port()
    serve = subprocess.Popen(
        [sys.executable, "-m", "app", "serve", "--no-demo"],
        cwd=workdir,
        env=cli_env(pg_dir, PORT=str(port), WEB_CONCURRENCY="2"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        parent = psutil.Process(serve.pid)
        deadline = time.monotonic() + 180
        while len(workers := listening_workers(parent, port)) < 2 or not ready(port):
            assert serve.poll() is None, serve.stderr.read()
            assert time.monotonic() < deadline, f"serve did not answer /health with two workers: {workers}"
            time.sleep(0.2)
        assert len(workers) == 2
        postmaster = postmaster_pid(pg_dir)
        assert postmaster is not None and running(postmaster)
        children = parent.children(recursive=True)
        job_workers = [c for c in children if c.cmdline()[-2:] == ["app", "worker"]]
        assert len(job_workers) == 1, [c.cmdline() for c in children]
        assert handles(pg_dir) == [serve.pid]  # the workers connect by URL, not through the embedded server

        seen: set[int | None] = set()
        deadline = time.monotonic() + 60
        while seen != {w.pid for w in workers}:  # the kernel hands each new connection to either worker
            assert time.monotonic() < deadline, f"only {seen} answered of {[w.pid for w in workers]}"
            seen.add(answering_worker(workers, port))
            assert None not in seen, "a connection was answered by no worker of serve"

        serve.send_signal(signal.SIGTERM)
        serve.wait(timeout=60)
    finally:
        if serve.poll() is None:
            serve.kill()
            serve.wait()
    assert wait_until_gone(postmaster), "the embedded PostgreSQL is still running"
    assert all(wait_until_gone(child.pid, 5) for child in children), "a worker is still running"
    assert handles(pg_dir) == []
    assert serve.returncode == 0  # uvicorn's supervisor handles the signal and returns; serve unwinds


def ready(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200
    except httpx.TransportError:
        return False
