"""A real server process on a real socket, against the session's real PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator

import pytest

from service.invitations.client import InvitationsClient
from tests.support import ServerProcess


@pytest.fixture(scope="session")
def server(database_url: str) -> Iterator[ServerProcess]:
    server = ServerProcess(database_url, reflection="true").start()
    yield server
    server.stop_cleanly()


@pytest.fixture
async def client(server: ServerProcess) -> AsyncIterator[InvitationsClient]:
    async with InvitationsClient(server.target) as client:
        yield client


@pytest.fixture
def email() -> str:
    """An address no other test uses."""
    return f"user-{uuid.uuid4().hex[:12]}@example.com"
