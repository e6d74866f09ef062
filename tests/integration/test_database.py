"""service/db/database.py against the real PostgreSQL: transactions commit or roll back as a
whole, and a connection that goes back to the pool with session state on it is caught."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator

import asyncpg
import pytest

from service.db.database import SESSION_LEFT, Database, asyncpg_dsn
from service.errors import Unavailable
from tools.probe import free_port


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    """One pooled connection, so every block below gets the connection the one before used."""
    database = Database(database_url, pool_size=1, session_check=True)
    async with database.connection() as connection:
        await connection.execute("CREATE SCHEMA IF NOT EXISTS database_test")
        await connection.execute("DROP TABLE IF EXISTS database_test.rows")
        await connection.execute("CREATE TABLE database_test.rows (value text)")
    yield database
    async with database.connection() as connection:
        await connection.execute("DROP SCHEMA database_test CASCADE")
    await database.close()


async def _rows(database: Database) -> list[str]:
    async with database.connection() as connection:
        return [r["value"] for r in await connection.fetch("SELECT value FROM database_test.rows")]


async def test_a_transaction_commits_every_statement_when_its_block_succeeds(
    database: Database,
) -> None:
    async with database.transaction() as connection:
        await connection.execute("INSERT INTO database_test.rows VALUES ('one')")
        await connection.execute("INSERT INTO database_test.rows VALUES ('two')")
    assert sorted(await _rows(database)) == ["one", "two"]


async def test_a_transaction_keeps_nothing_when_its_block_raises(database: Database) -> None:
    async def fail_halfway() -> None:
        async with database.transaction() as connection:
            await connection.execute("INSERT INTO database_test.rows VALUES ('one')")
            raise LookupError("the second step failed")

    with pytest.raises(LookupError):
        await fail_halfway()
    assert await _rows(database) == []


async def _backend(database: Database) -> int:
    async with database.connection() as connection:
        pid: int = await connection.fetchval("SELECT pg_backend_pid()")
        return pid


async def test_a_clean_connection_is_reused_and_nothing_is_logged(
    database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    first = await _backend(database)
    async with database.transaction() as connection:  # transaction-scoped state is no leak
        await connection.execute("SET LOCAL statement_timeout = 1234")
        await connection.execute("SELECT pg_advisory_xact_lock(42)")
    assert await _backend(database) == first
    assert SESSION_LEFT not in caplog.messages


@pytest.mark.parametrize(
    ("statements", "named"),
    [
        (["SET statement_timeout = 1234"], "SET statement_timeout"),
        (["SELECT set_config('application_name', 'left', false)"], "SET application_name"),
        (["SELECT pg_advisory_lock(42)"], "advisory locks"),
        (["LISTEN left_behind"], "LISTEN left_behind"),
        (["DECLARE held CURSOR WITH HOLD FOR SELECT 1"], "cursors held"),
        (["CREATE TEMPORARY TABLE scratch (x int)"], "temporary tables scratch"),
        (["PREPARE planned AS SELECT 1"], "prepared statements planned"),
    ],
)
async def test_session_state_left_on_a_connection_is_logged_and_never_reaches_the_next_block(
    database: Database, caplog: pytest.LogCaptureFixture, statements: list[str], named: str
) -> None:
    caplog.set_level(logging.ERROR, "service.db.database")
    first = await _backend(database)
    async with database.connection() as connection:
        for statement in statements:
            await connection.execute(statement)

    [logged] = [r for r in caplog.records if r.getMessage() == SESSION_LEFT]
    assert vars(logged)["fields"]["state"] == [named]
    # The connection was closed: the next block runs on a new session, with none of it.
    assert await _backend(database) != first
    async with database.connection() as connection:
        assert await connection.fetchval("SHOW statement_timeout") == "0"
        assert await connection.fetchval("SELECT count(*) FROM pg_listening_channels()") == 0
        assert await connection.fetchval("SELECT count(*) FROM pg_cursors WHERE is_holdable") == 0
    assert len([r for r in caplog.records if r.getMessage() == SESSION_LEFT]) == 1


# Cancellation and outages ------------------------------------------------------------------------


async def test_a_cancelled_block_stops_its_query_and_keeps_the_connection(
    database: Database,
) -> None:
    """An RPC's task is cancelled at its deadline, or when its client goes away: the query
    stops in PostgreSQL, the cancellation reaches the caller as one, and the pool's one
    connection is still there for the next block."""
    querying = asyncio.Event()

    async def slow() -> None:
        async with database.connection() as connection:
            querying.set()  # this task runs on into the query before the test resumes
            await connection.execute("SELECT pg_sleep(30)")

    started = time.perf_counter()
    task = asyncio.ensure_future(slow())
    await querying.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    async with database.connection() as connection:
        assert await connection.fetchval("SELECT 1") == 1
    assert time.perf_counter() - started < 10


async def test_a_connection_postgresql_closes_mid_block_is_unavailable_and_replaced(
    database: Database, database_url: str
) -> None:
    """asyncpg takes a connection the server closed back into the pool at once: the block
    still ends Unavailable (a client retries that), not with asyncpg's complaint about a
    released connection, and the next block gets a live one."""
    other = await asyncpg.connect(asyncpg_dsn(database_url))
    lost = asyncio.Event()
    backends: list[int] = []

    async def closed_under_it() -> None:
        async with database.connection() as connection:
            backends.append(await connection.fetchval("SELECT pg_backend_pid()"))
            connection.add_termination_listener(lambda _: lost.set())
            await other.execute("SELECT pg_terminate_backend($1)", backends[0])
            await asyncio.wait_for(lost.wait(), 10)  # asyncpg saw it go and took it back
            await connection.fetchval("SELECT 1")

    try:
        with pytest.raises(Unavailable):
            await closed_under_it()
    finally:
        await other.close()
    assert await _backend(database) != backends[0]


async def test_a_database_out_of_reach_is_unavailable() -> None:
    database = Database(f"postgresql+asyncpg://nobody@127.0.0.1:{free_port()}/none")
    with pytest.raises(Unavailable):
        async with database.connection():
            pytest.fail("connected to a port where nothing listens")
    await database.close()
