"""A real server process on a real socket, against the session's real PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support import ServerProcess


@pytest.fixture(scope="session")
def server(database_url: str) -> Iterator[ServerProcess]:
    server = ServerProcess(database_url, reflection="true").start()
    yield server
    server.stop_cleanly()
