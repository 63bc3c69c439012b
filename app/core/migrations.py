"""Apply migrations as the owner role, then (re)grant the application role."""

import asyncio
from functools import lru_cache
from pathlib import Path

from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.ext.asyncio import AsyncEngine

from alembic import command
from app.core.embedded_pg import DatabaseUrls
from app.core.roles import create_app_role

ROOT = Path(__file__).resolve().parents[2]


def alembic_config(url: str) -> Config:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "alembic"))
    config.attributes["url"] = url
    return config


async def upgrade(urls: DatabaseUrls, revision: str = "head") -> None:
    await asyncio.to_thread(command.upgrade, alembic_config(urls.admin), revision)
    await create_app_role(urls.admin, urls.app)


async def downgrade(urls: DatabaseUrls, revision: str = "base") -> None:
    await asyncio.to_thread(command.downgrade, alembic_config(urls.admin), revision)


@lru_cache
def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config("")).get_current_head()


async def current_revision(engine: AsyncEngine) -> str | None:
    async with engine.connect() as conn:
        return await conn.run_sync(lambda sync: MigrationContext.configure(sync).get_current_revision())
