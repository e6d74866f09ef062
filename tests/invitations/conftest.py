"""The invitations tests' fixtures: a typed client on the session's real server
(tests/conftest.py), and a fresh address."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest

from service.invitations.client import InvitationsClient
from tests.support import ServerProcess


@pytest.fixture
async def client(server: ServerProcess) -> AsyncIterator[InvitationsClient]:
    async with InvitationsClient(server.target) as client:
        yield client


@pytest.fixture
def email() -> str:
    """An address no other test uses."""
    return f"user-{uuid.uuid4().hex[:12]}@example.com"
