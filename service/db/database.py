"""The connection pool, and the one way to use it during an RPC.

    async with database.connection() as connection:    # one statement: its own transaction
        invitation = await GET.one(connection, id=id)
    async with database.transaction() as connection:   # several statements, all or nothing
        ...

Every storage write of this template is a single statement (the change and its notification
together, see invitations/storage.py), so most RPCs need no explicit transaction: PostgreSQL
runs each statement atomically, and skipping BEGIN and COMMIT saves two round trips a call.
Both are bounded by the RPC's deadline (service/deadline.py), so the database work of an RPC
never outlives the client's wait (asyncpg cancels the query on the server), and a database that
cannot be reached becomes Unavailable, not INTERNAL.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

import asyncpg

from service import deadline

if TYPE_CHECKING:
    from service.db.statements import Connection
from service.errors import DeadlineExceeded, Unavailable

# What a database that is down, restarting or out of connections looks like from asyncpg.
CONNECTION_ERRORS = (
    OSError,
    asyncpg.exceptions.InternalClientError,  # a connection left in a broken state
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.CannotConnectNowError,
    asyncpg.AdminShutdownError,
    asyncpg.TooManyConnectionsError,
)


def asyncpg_dsn(url: str) -> str:
    """The service's database URL (postgresql+asyncpg://..., see config.normalised_database_url)
    as the DSN asyncpg takes."""
    return "postgresql://" + url.split("://", 1)[1]


async def _keep_session(connection: Connection) -> None:
    """Reset nothing when a connection goes back to the pool.

    asyncpg's default reset sends `RESET ALL; UNLISTEN *; ...` on every release: a round trip
    per RPC, a third of a GetInvitation's database time. This code leaves no session state on
    pooled connections (no SET, LISTEN, advisory locks or cursors: events.py listens on a
    connection of its own), and asyncpg still rolls back a transaction left open, reset or not.
    """


class Database:
    def __init__(self, url: str, *, pool_size: int = 10) -> None:
        self.dsn = asyncpg_dsn(url)
        self.pool_size = pool_size
        self._pool: asyncpg.Pool[Any] | None = None

    async def _get_pool(self) -> asyncpg.Pool[Any]:
        if self._pool is None:
            # min_size=0: no connection is made until one is needed, so a server can start
            # (and report NOT_SERVING) while the database is still down.
            self._pool = await asyncpg.create_pool(
                self.dsn,
                min_size=0,
                max_size=self.pool_size,
                reset=_keep_session,
                # Idle connections stay: closing them needs a timer re-armed on every release.
                max_inactive_connection_lifetime=0,
            )
        return self._pool

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[Connection]:
        """A pooled connection for the rest of the RPC's deadline."""
        try:
            async with asyncio.timeout_at(deadline.current()):
                pool = await self._get_pool()
                connection = await pool.acquire()
                try:
                    yield connection
                except CONNECTION_ERRORS:
                    # Broken: never hand this connection out again (asyncpg would later fail
                    # with "another operation is in progress"). A deadline is different:
                    # asyncpg then cancels the query in PostgreSQL, and the connection lives.
                    connection.terminate()
                    raise
                finally:
                    await pool.release(connection)
        except TimeoutError:
            raise DeadlineExceeded("the deadline passed before the database answered") from None
        except CONNECTION_ERRORS as error:
            raise Unavailable("the database is unavailable; retry later") from error

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Connection]:
        """A connection in a transaction: committed if the block succeeds, else rolled back."""
        async with self.connection() as connection, connection.transaction():
            yield connection

    async def ping(self) -> bool:
        """Whether the database answers a trivial query now. When it does not, the pooled
        connections are retired: after a database restart they are all dead, and RPCs should
        get fresh ones rather than find that out one failure at a time."""
        try:
            async with asyncio.timeout(1):
                pool = await self._get_pool()
                await pool.fetchval("SELECT 1")
        except (TimeoutError, *CONNECTION_ERRORS, asyncpg.PostgresError):
            if self._pool is not None:
                await self._pool.expire_connections()
            return False
        return True

    def connections(self) -> tuple[int, int]:
        """(idle, in use) connections of the pool now."""
        if self._pool is None:
            return 0, 0
        idle = self._pool.get_idle_size()
        return idle, self._pool.get_size() - idle

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
