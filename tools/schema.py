"""Start from an empty database (tests and benchmarks); the schema itself comes from migrations/."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine


async def drop_everything(url: str) -> None:
    """Drop every schema (public is recreated): every table, type and Alembic's version table."""
    engine = create_async_engine(url)
    try:
        async with engine.begin() as connection:
            schemas = await connection.execute(
                text(
                    "SELECT nspname FROM pg_namespace WHERE nspname NOT LIKE 'pg\\_%'"
                    " AND nspname <> 'information_schema'"
                )
            )
            quote = connection.dialect.identifier_preparer.quote
            for (schema,) in schemas.all():
                await connection.execute(text(f"DROP SCHEMA {quote(schema)} CASCADE"))
            await connection.execute(text("CREATE SCHEMA public"))
    finally:
        await engine.dispose()


def rebuild(url: str) -> None:
    """An empty database, then every migration: the schema production gets."""
    import asyncio

    from service.db import migrations

    asyncio.run(drop_everything(url))
    migrations.upgrade(url)
