"""The connection pool, and the one way to use it during an RPC.

    async with database.connection() as connection:    # one statement: its own transaction
        invitation = await GET.one(connection, id=id)
    async with database.transaction() as connection:   # several statements, all or nothing
        ...

Every storage write of this template is a single statement (the change and its notification
together, see invitations/storage.py), so most RPCs need no explicit transaction: PostgreSQL
runs each statement atomically, and skipping BEGIN and COMMIT saves two round trips a call.
A database that cannot be reached becomes Unavailable, not INTERNAL. Neither needs a deadline
of its own: an RPC's task is cancelled at its deadline (service/interceptors.py), and asyncpg,
cancelled mid-query, cancels the query in PostgreSQL too, so the database work of an RPC never
outlives the client's wait.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

import asyncpg

if TYPE_CHECKING:
    from service.db.statements import Connection
from service.errors import Unavailable

logger = logging.getLogger(__name__)
SESSION_LEFT = "a pooled connection was released with session state left on it; closed it"

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

    asyncpg's default reset sends `SELECT pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *;
    RESET ALL` on every release: a round trip per RPC, measured at +65 us of CPU and -31% of
    throughput on a loop of pooled primary-key reads. This code leaves no session state on
    pooled connections (no SET, LISTEN, advisory locks or cursors: events.py listens on a
    connection of its own), asyncpg still rolls back a transaction left open, and
    development and the tests check that it stays so (_check_session).
    """


# Every kind of session state a connection can carry from one RPC into the next, by name.
# A setting SET back to its value is none (asyncpg's type introspection does that with jit);
# asyncpg's own prepared statements (protocol-level, not from SQL) are its cache, not state.
SESSION_STATE = """
SELECT array_remove(ARRAY[
    (SELECT 'SET ' || string_agg(name, ', ' ORDER BY name)
       FROM pg_settings WHERE source = 'session' AND setting IS DISTINCT FROM reset_val),
    (SELECT 'advisory locks' WHERE EXISTS (
       SELECT FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid())),
    (SELECT 'LISTEN ' || string_agg(channel, ', ' ORDER BY channel)
       FROM pg_listening_channels() AS channel),
    (SELECT 'cursors ' || string_agg(name, ', ' ORDER BY name)
       FROM pg_cursors WHERE is_holdable),
    (SELECT 'temporary tables ' || string_agg(relname, ', ' ORDER BY relname)
       FROM pg_class WHERE relnamespace = pg_my_temp_schema() AND relkind IN ('r', 'p')),
    (SELECT 'prepared statements ' || string_agg(name, ', ' ORDER BY name)
       FROM pg_prepared_statements WHERE from_sql)
], NULL)
"""


async def _check_session(connection: Connection) -> None:
    """Development and tests (DATABASE_SESSION_CHECK): a connection that goes back to the pool
    with session state on it is logged as an error naming the state, and closed, so the next
    RPC gets a clean one. One round trip per release, like asyncpg's reset; the test suite
    fails a test whose server logs it."""
    left: list[str] = await connection.fetchval(SESSION_STATE)
    if left:
        logger.error(
            SESSION_LEFT,
            extra={"fields": {"state": left, "hint": "undo it before the connection is released"}},
        )
        connection.terminate()  # the pool connects again on the next acquire


class _Lease:
    """One use of a pooled connection (Database.connection): a connection that broke is
    terminated, never pooled again, and a database out of reach is Unavailable.

    A class rather than an @asynccontextmanager: this runs on every RPC, and the generator's
    machinery costs 4 us more a use (measured with uvloop).
    """

    __slots__ = ("_connection", "_database", "_pool")
    _pool: asyncpg.Pool[asyncpg.Record]
    _connection: asyncpg.pool.PoolConnectionProxy[asyncpg.Record]

    def __init__(self, database: Database) -> None:
        self._database = database

    async def __aenter__(self) -> Connection:
        try:
            # The pool, once made, without a coroutine call: this runs on every RPC.
            self._pool = self._database._pool or await self._database._get_pool()
            self._connection = await self._pool.acquire()
        except CONNECTION_ERRORS as error:
            raise Unavailable("the database is unavailable; retry later") from error
        return self._connection

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: object
    ) -> None:
        connection = self._connection
        if isinstance(error, CONNECTION_ERRORS):
            # Broken: never hand this connection out again (asyncpg would later fail with
            # "another operation is in progress"). A cancelled query is different: asyncpg
            # cancels it in PostgreSQL too, and the connection lives. A connection that
            # PostgreSQL closed, asyncpg has already taken back (its proxy is detached, and
            # terminate() would say so): nothing is left to terminate.
            with contextlib.suppress(asyncpg.InterfaceError):
                connection.terminate()
        try:
            await self._pool.release(connection)
        except CONNECTION_ERRORS as failed:
            if error is None:
                raise Unavailable("the database is unavailable; retry later") from failed
        if isinstance(error, CONNECTION_ERRORS):
            raise Unavailable("the database is unavailable; retry later") from error


class Database:
    def __init__(self, url: str, *, pool_size: int = 10, session_check: bool = False) -> None:
        self.dsn = asyncpg_dsn(url)
        self.pool_size = pool_size
        self.session_check = session_check
        self._pool: asyncpg.Pool[asyncpg.Record] | None = None

    async def _get_pool(self) -> asyncpg.Pool[asyncpg.Record]:
        if self._pool is None:
            # min_size=0: no connection is made until one is needed, so a server can start
            # (and report NOT_SERVING) while the database is still down.
            self._pool = await asyncpg.create_pool(
                self.dsn,
                min_size=0,
                max_size=self.pool_size,
                reset=_check_session if self.session_check else _keep_session,
                # Idle connections stay: closing them needs a timer re-armed on every release.
                max_inactive_connection_lifetime=0,
            )
        return self._pool

    def connection(self) -> _Lease:
        """A pooled connection for the rest of the RPC's deadline: `async with`."""
        return _Lease(self)

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
