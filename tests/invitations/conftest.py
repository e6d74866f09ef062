"""The invitations tests' fixtures: a real server, a typed client on it, and a fresh address."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator

import pytest

from service.invitations.client import InvitationsClient
from tests.support import ServerProcess


@pytest.fixture(scope="session")
def server(database_url: str) -> Iterator[ServerProcess]:
    """A real server process; the same as tests/e2e's, which this folder cannot see."""
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
