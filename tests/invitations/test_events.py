"""The event hub against the real PostgreSQL: a watch never misses a write that commits after
it is opened, however it falls against the end of the last one (whose end stops the LISTEN)."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest

from generated.invitations.v1.invitations_enums import Role
from service.db.database import Database, asyncpg_dsn
from service.invitations import storage
from service.invitations.domain import NewInvitation
from service.invitations.events import EventHub
from tests.support import poll


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url, pool_size=2)
    yield database
    await database.close()


@pytest.fixture
async def hub(database_url: str) -> AsyncIterator[EventHub]:
    hub = EventHub(asyncpg_dsn(database_url))
    await hub.start()
    yield hub
    await hub.close()


async def _one_turn() -> None:
    """Let every task that is ready run once (the hub's UNLISTEN starts, then waits on the
    database), and come back: an order of events, not a length of time."""
    loop = asyncio.get_running_loop()
    turned = loop.create_future()
    loop.call_soon(turned.set_result, None)
    await turned


async def _listening(database_url: str) -> bool:
    """Whether the hub of this process LISTENs now, as PostgreSQL shows its connection."""
    connection = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        last = await connection.fetchval(
            "SELECT query FROM pg_stat_activity WHERE application_name = $1",
            f"invitations events, pid {os.getpid()}",
        )
    finally:
        await connection.close()
    return bool(last == 'LISTEN "invitations"')


async def _hears_a_write(hub: EventHub, database: Database) -> None:
    email = f"{uuid.uuid4().hex[:12]}@events.test"
    async with hub.subscribe() as events:
        async with database.connection() as connection:
            await storage.insert_invitation(connection, NewInvitation(email, Role.VIEWER, None))
        async with asyncio.timeout(5):
            async for event in events:
                if event.invitation.email == email:
                    return


@pytest.mark.parametrize("opened", ["before", "while", "after"])
async def test_a_watch_opened_as_the_last_one_ends_hears_the_next_write(
    hub: EventHub, database: Database, database_url: str, opened: str
) -> None:
    """Opened before the last watch's UNLISTEN starts (nothing awaited between them), while it
    runs, or once it has."""
    for _ in range(3):
        async with hub.subscribe():
            pass
        if opened == "while":
            await _one_turn()
        elif opened == "after":

            async def stopped() -> bool:
                return not await _listening(database_url)

            await poll(stopped, within=5, what="UNLISTEN")
        await _hears_a_write(hub, database)


async def test_a_write_nobody_watches_is_not_heard_by_a_later_watch(
    hub: EventHub, database: Database
) -> None:
    unheard = f"{uuid.uuid4().hex[:12]}@events.test"
    heard = f"{uuid.uuid4().hex[:12]}@events.test"
    async with database.connection() as connection:
        await storage.insert_invitation(connection, NewInvitation(unheard, Role.VIEWER, None))
    async with hub.subscribe() as events:
        async with database.connection() as connection:
            await storage.insert_invitation(connection, NewInvitation(heard, Role.EDITOR, None))
        async with asyncio.timeout(5):
            first = await anext(events)
    assert first.invitation.email == heard
