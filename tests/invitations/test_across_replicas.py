"""Invitations' own behaviour across server processes (moves to tests/invitations/ with the
rest of the example resource's tests; the server's infrastructure is tested through the probe
resource in test_lifecycle.py)."""

from __future__ import annotations

import asyncio
import uuid

from generated.invitations.v1.invitations_enums import InvitationEventKind, Role
from service.invitations.client import InvitationsClient
from tests.support import ServerProcess


async def test_watch_sees_changes_made_through_another_replica(
    server: ServerProcess, database_url: str
) -> None:
    other = ServerProcess(database_url).start()
    try:
        email = f"{uuid.uuid4().hex}@example.com"
        async with (
            InvitationsClient(server.target) as watcher,
            InvitationsClient(other.target) as writer,
            watcher.watch() as events,  # entered once subscribed
        ):
            created = await writer.create(email, Role.ADMIN)
            event = await asyncio.wait_for(anext(events), 10)
        assert InvitationEventKind.from_proto(event.kind) is InvitationEventKind.CREATED
        assert event.invitation.name == created.name
    finally:
        other.stop_cleanly()
