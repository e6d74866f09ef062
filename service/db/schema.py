"""Create the tables from the models: the local development database and the tests use this
until migrations/ manages the schema."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from service.db.base import Base


async def create_schema(url: str, *, reset: bool = False) -> None:
    """Create every model's table (and enum type) that is missing; `reset` drops all first."""
    from service.invitations import models  # noqa: F401  (registers the table)

    engine = create_async_engine(url)
    try:
        async with engine.begin() as connection:
            if reset:
                await connection.execute(text("DROP SCHEMA public CASCADE"))
                await connection.execute(text("CREATE SCHEMA public"))
            await connection.run_sync(Base.metadata.create_all)
    finally:
        await engine.dispose()
