"""The event hub against the real PostgreSQL: it LISTENs only while someone watches, and a watch
never misses a write that commits after it is opened, however it falls against the last one's
end."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest

from generated.invitations.v1.invitations_enums import Role
from service.db.database import Database, asyncpg_dsn
from service.invitations import storage
from service.invitations.domain import NewInvitation
from service.invitations.events import EventHub


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


async def test_a_watch_opened_as_the_last_one_ends_hears_the_next_write(
    hub: EventHub, database: Database
) -> None:
    # The second watch opens before the first one's UNLISTEN starts (no await between them),
    # while it runs, and after.
    for step in range(12):
        async with hub.subscribe():
            pass
        if step:
            await asyncio.sleep((step - 1) * 0.001)
        email = f"{uuid.uuid4().hex[:12]}@events.test"
        async with hub.subscribe() as events:
            async with database.connection() as connection:
                await storage.insert_invitation(connection, NewInvitation(email, Role.VIEWER, None))
            async with asyncio.timeout(5):
                async for event in events:
                    if event.invitation.email == email:
                        break


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
