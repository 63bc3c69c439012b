"""Async Alembic environment. The URL comes from `config.attributes["url"]` (set by the app's
migrate command and the tests) or, for plain `alembic` commands, from the app's settings."""

import asyncio
from logging.config import fileConfig

from sqlalchemy.ext.asyncio import create_async_engine

from alembic import context
from app.models import Base

config = context.config
if config.config_file_name is not None and not config.attributes.get("url"):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = Base.metadata


async def _url() -> str:
    url = config.attributes.get("url")
    if url:
        return url
    from app.core.bootstrap import resolve_urls
    from app.core.config import get_settings

    return (await resolve_urls(get_settings())).admin


def _run(connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


async def _run_async() -> None:
    engine = create_async_engine(await _url(), hide_parameters=True)
    async with engine.connect() as connection:
        await connection.run_sync(_run)
    await engine.dispose()


if context.is_offline_mode():
    context.configure(url=asyncio.run(_url()), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    asyncio.run(_run_async())
