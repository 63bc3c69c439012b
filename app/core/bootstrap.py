"""Where the database is: DATABASE_URL/DATABASE_ADMIN_URL, or the embedded server."""

from sqlalchemy.engine import make_url

from app.core.config import Settings
from app.core.embedded_pg import DatabaseUrls, embedded_urls, ensure_database, start_embedded_server

_server = None


async def resolve_urls(settings: Settings) -> DatabaseUrls:
    """The runtime and admin URLs; starts the embedded server (once per process) if needed."""
    global _server
    if settings.database_url:
        return DatabaseUrls(app=settings.database_url, admin=settings.database_admin_url or settings.database_url)
    if _server is None:
        _server = start_embedded_server(settings.embedded_pg_dir)
    await ensure_database(_server, settings.embedded_db_name)
    return embedded_urls(_server, settings.embedded_db_name, settings.app_db_role)


def app_role_name(urls: DatabaseUrls) -> str:
    return make_url(urls.app).username or ""
