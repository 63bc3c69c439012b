"""The embedded PostgreSQL stops with the last process using it: on SIGTERM to `python -m app serve`
(what kill, docker stop and systemd send), and after a process that died without saying so left its
pid in the handle file. Each test runs the real CLI as a subprocess on a server of its own."""

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
