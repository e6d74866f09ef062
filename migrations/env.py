"""Alembic environment: the models' metadata, against the service's database.

The URL comes from the caller (service/db/migrations.py passes it in the config's attributes)
or from DATABASE_URL. Each migration runs in its own transaction, so an enum value added by one
revision can be used by the next in the same `upgrade head` (PostgreSQL refuses a value added
in the same, uncommitted transaction), and a failing revision rolls back alone, leaving the
database at the revision before it.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy import pool
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from service.config import normalised_database_url
from service.db import enum_migrations
from service.db.base import load_models

config = context.config
# Tests pass metadata of their own (tests/integration/test_enum_migrations.py).
target_metadata = (
    config.attributes["metadata"] if "metadata" in config.attributes else load_models()
)
enum_migrations.install()


def _url() -> str:
    url = config.attributes.get("url") or os.environ.get("DATABASE_URL")
    if not url:
        raise SystemExit("DATABASE_URL is not set (or run migrations through make)")
    return normalised_database_url(str(url))


def _render_item(type_: str, item: Any, autogen_context: AutogenContext) -> str | Literal[False]:
    """Write column types as plain SQLAlchemy types, never as this project's classes."""
    return enum_migrations.render_item(type_, item, autogen_context)


# Schemas the models use, and the default one: autogenerate looks at those (a model in schema
# "billing" is compared with what is there), and at no other, so it never offers to drop what
# others keep alongside. The default schema is always looked at: when its last model goes (a
# resource removed), the next migration drops its table.
_schemas = {None, *(table.schema for table in target_metadata.tables.values())}


def _include_name(name: str | None, type_: str, parent_names: Any) -> bool:
    return type_ != "schema" or name in _schemas


def _configure(**options: Any) -> None:
    context.configure(
        target_metadata=target_metadata,
        render_item=_render_item,
        include_schemas=True,
        include_name=_include_name,
        compare_server_default=True,
        transaction_per_migration=True,
        **options,
    )


def run_migrations_offline() -> None:
    _configure(url=_url(), literal_binds=True, dialect_opts={"paramstyle": "named"})
    with context.begin_transaction():
        context.run_migrations()


def _run_online(connection: Connection) -> None:
    _configure(connection=connection)
    with context.begin_transaction():
        context.run_migrations()


async def run_migrations_online() -> None:
    engine = create_async_engine(_url(), poolclass=pool.NullPool)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run_online)
    finally:
        await engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    asyncio.run(run_migrations_online())
