"""What one RPC does to its database session never reaches the next: the servers of the
tests (and of development) check every connection going back to the pool, and the suite fails
a test whose server logs session state left behind (tests/conftest.py)."""

from __future__ import annotations

from typing import Any

import pytest

from service.db.database import SESSION_LEFT
from tests.probe_resource import ProbeClient
from tests.support import PROBE_SERVER, ServerProcess


@pytest.mark.leaves_session_state
async def test_a_set_left_by_one_rpc_is_logged_and_not_seen_by_the_next(
    database_url: str,
) -> None:
    # One pooled connection: without the check, the second call would get the first's session.
    server = ServerProcess(
        database_url,
        module=PROBE_SERVER,
        probe_resource="leaking-session-state",
        database_pool_size="1",
    ).start()
    async with ProbeClient(server.target) as client:
        assert await client.echo("first") == "0"
        assert await client.echo("second") == "0"

    def left_behind(logs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [entry for entry in logs if entry.get("message") == SESSION_LEFT]

    # The server logs before it answers, but its log reaches this test through a reader thread.
    server.wait_for_log(lambda logs: len(left_behind(logs)) >= 2, 10, "two session-state errors")
    left = left_behind(server.logs)
    assert [entry["state"] for entry in left] == [["SET statement_timeout"]] * 2
    assert all(entry["level"] == "ERROR" for entry in left)
    server.stop_cleanly()
