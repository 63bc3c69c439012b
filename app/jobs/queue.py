"""The procrastinate App. Its tables live in the `procrastinate` schema (migration 0007); it
connects as the application role (never the owner) with psycopg 3, search_path set to that schema.

The App is built once with an unconnected connector so tasks can be declared at import time;
`connected(url)` plugs in the real connection for a worker or for deferring jobs."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from procrastinate import App, PsycopgConnector
from psycopg.conninfo import make_conninfo
from sqlalchemy.engine import make_url

SCHEMA = "procrastinate"
# libpq parameters kept from a SQLAlchemy URL's query string (asyncpg spells sslmode `ssl`)
_LIBPQ_QUERY_KEYS = {
    "host",
    "port",
    "sslmode",
    "sslrootcert",
    "sslcert",
    "sslkey",
    "application_name",
    "connect_timeout",
}
_SSL_MODES = {"true": "require", "false": "disable"}

job_app = App(connector=PsycopgConnector(), import_paths=["app.jobs.tasks"])


def conninfo(url: str) -> str:
    """A libpq connection string for a SQLAlchemy URL (postgresql+asyncpg://... as in DATABASE_URL)."""
    parsed = make_url(url)
    params = {
        "host": parsed.host,
        "port": parsed.port,
        "user": parsed.username,
        "password": parsed.password,
        "dbname": parsed.database,
    }
    for key, value in parsed.query.items():
        value = value if isinstance(value, str) else value[-1]
        if key == "ssl":
            key, value = "sslmode", _SSL_MODES.get(value.lower(), value)
        if key in _LIBPQ_QUERY_KEYS:
            params[key] = value
    present = {key: str(value) for key, value in params.items() if value is not None}
    return make_conninfo(**present, options=f"-c search_path={SCHEMA}")


@asynccontextmanager
async def connected(url: str, *, max_connections: int = 4) -> AsyncIterator[App]:
    """The App connected to the database at `url` (the application role) while the block runs."""
    connector = PsycopgConnector(conninfo=conninfo(url), min_size=1, max_size=max_connections)
    with job_app.replace_connector(connector) as app:
        async with app.open_async():
            yield app
