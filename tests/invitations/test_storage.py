"""Storage against the real PostgreSQL: enum columns and change events carry every value."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import pytest

from generated.invitations.v1.invitations_enums import InvitationEventKind, InvitationStatus, Role
from service.db.database import Database, asyncpg_dsn
from service.invitations import storage
from service.invitations.domain import CHANNEL, Event, InvitationChanges, NewInvitation


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url, pool_size=2)
    yield database
    await database.close()


async def test_every_enum_value_is_stored_read_back_and_published(
    database: Database, database_url: str
) -> None:
    events: list[Event] = []
    arrived = asyncio.Event()

    def on_notification(*args: object) -> None:
        events.append(storage.parse_event(str(args[-1])))
        arrived.set()

    listener = await asyncpg.connect(asyncpg_dsn(database_url))
    await listener.add_listener(CHANNEL, on_notification)
    written = []
    for role in (r for r in Role if r.value):
        for status in (s for s in InvitationStatus if s.value):
            async with database.transaction() as connection:
                new = NewInvitation(f"{role.name}.{status.name}@storage.test", role, None)
                created = await storage.insert_invitation(connection, new)
                changed = await storage.update_invitation(
                    connection, created.id, InvitationChanges(status=status)
                )
                assert changed is not None
                read = await storage.get_invitation(connection, created.id)
            assert read is not None
            assert (read.role, read.status) == (role, status)
            written += [created, changed]

    def received() -> list[Event]:
        return [e for e in events if e.invitation.email.endswith("@storage.test")]

    async with asyncio.timeout(10):  # notifications arrive on the listener's connection
        while len(received()) < len(written):
            arrived.clear()
            await arrived.wait()
    await listener.close()

    mine = received()
    assert [e.invitation for e in mine] == written
    assert {e.kind for e in mine} == {InvitationEventKind.CREATED, InvitationEventKind.UPDATED}


async def test_the_database_enum_types_hold_the_proto_values(database: Database) -> None:
    async with database.connection() as connection:
        rows = await connection.fetch(
            "SELECT t.typname, e.enumlabel FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid"
            " ORDER BY t.typname, e.enumsortorder"
        )
    labels: dict[str, list[str]] = {}
    for name, label in rows:
        labels.setdefault(name, []).append(label)

    assert labels["invitation_role"] == ["VIEWER", "EDITOR", "ADMIN"]
    assert labels["invitation_status"] == ["PENDING", "ACCEPTED", "DECLINED", "REVOKED"]


async def test_the_unspecified_value_is_never_written(database: Database) -> None:
    async def insert_unspecified() -> None:
        async with database.transaction() as connection:
            new = NewInvitation("unspecified@storage.test", Role.UNSPECIFIED, None)
            await storage.insert_invitation(connection, new)

    with pytest.raises(ValueError, match="cannot be stored"):
        await insert_unspecified()
