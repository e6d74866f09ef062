"""Start from an empty database (tests and benchmarks); the schema itself comes from migrations/."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine


async def drop_everything(url: str) -> None:
    """Drop and recreate the public schema: every table, type and Alembic's version table."""
    engine = create_async_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.execute(text("DROP SCHEMA public CASCADE"))
            await connection.execute(text("CREATE SCHEMA public"))
    finally:
        await engine.dispose()
