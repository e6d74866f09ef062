"""The engine, and the one way to touch the database: a transaction per RPC.

    async with database.transaction() as connection:
        ...  # SQLAlchemy Core statements; committed on exit, rolled back on any exception

The transaction is bounded by the RPC's deadline (service/deadline.py), so the database work of
an RPC never outlives the client's wait, and database outages become Unavailable, not INTERNAL.

Storage uses SQLAlchemy Core on an AsyncConnection rather than the ORM session: the same typed
models and statements, without the identity map and unit-of-work bookkeeping that cost more
CPU per request than PostgreSQL does (see README, Benchmarks).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import exc, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from service import deadline
from service.errors import DeadlineExceeded, Unavailable


class Database:
    def __init__(self, url: str, *, pool_size: int = 10) -> None:
        self.url = url
        self.engine: AsyncEngine = create_async_engine(
            url, pool_size=pool_size, max_overflow=0, pool_recycle=3600
        )

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncConnection]:
        """One transaction, committed if the block succeeds, within the RPC's deadline."""
        try:
            async with asyncio.timeout_at(deadline.current()), self.engine.begin() as connection:
                yield connection
        except TimeoutError:
            raise DeadlineExceeded("the deadline passed before the database answered") from None
        except (OSError, exc.InterfaceError, exc.OperationalError) as error:
            raise Unavailable("the database is unavailable; retry later") from error
        except exc.DBAPIError as error:
            if error.connection_invalidated:
                raise Unavailable("the database connection was lost; retry") from error
            raise

    async def ping(self) -> bool:
        """Whether the database answers a trivial query now."""
        try:
            async with asyncio.timeout(2), self.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        except (TimeoutError, OSError, exc.SQLAlchemyError):
            return False
        return True

    async def close(self) -> None:
        await self.engine.dispose()
