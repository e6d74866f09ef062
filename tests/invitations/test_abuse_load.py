"""Hostile load, all at once, against the service with auth on and default limits: thousands of
streams held open and calls whose answers are never read. The service's own users still get
their answers at once, and its memory stays bounded."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Awaitable
from pathlib import Path

import grpc
import pytest
from google.protobuf import field_mask_pb2
from grpc_health.v1 import health_pb2

from generated.invitations.v1 import invitations_pb2 as pb
from generated.invitations.v1.invitations_enums import Role
from service.client import check_health, field_violations
from service.invitations.client import InvitationsClient
from tests.stalled import StalledConnection
from tests.support import JwtKeys, ServerProcess, poll, sample, scrape
from tools.probe import free_port

HEALTH_WATCH = "/grpc.health.v1.Health/Watch"
SERVICE = pb.DESCRIPTOR.services_by_name["InvitationService"].full_name
WATCH = f"/{SERVICE}/WatchInvitations"
LIST = f"/{SERVICE}/ListInvitations"
PER_CONNECTION = 100  # MAX_CALLS_PER_CONNECTION's default: an attacker opens more connections


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


async def flood(
    port: int, method: str, request: bytes, count: int, metadata: tuple[tuple[str, str], ...]
) -> list[StalledConnection]:
    """`count` calls of `method` that never read their answers, 100 per connection."""
    connections = []
    for start in range(0, count, PER_CONNECTION):
        connection = await StalledConnection("127.0.0.1", port).open()
        for _ in range(min(PER_CONNECTION, count - start)):
            connection.call(method, request, metadata)
        connections.append(connection)
    return connections


async def timed(call: Awaitable[object]) -> float:
    started = time.perf_counter()
    await call
    return (time.perf_counter() - started) * 1000


async def test_thousands_of_hostile_streams_leave_get_and_health_answering(
    database_url: str, tmp_path: Path
) -> None:
    keys = JwtKeys.generate(tmp_path)
    metrics_port = free_port()
    server = ServerProcess(
        database_url,
        auth_jwt_public_key_file=str(keys.public_file),
        metrics_port=str(metrics_port),
    ).start()
    reader = keys.token(scope="invitations.read", sub="attacker")
    user = keys.token(scope="invitations.read invitations.write", sub="user")
    attackers: list[StalledConnection] = []
    try:
        async with InvitationsClient(server.target, token=user) as client:
            created = await client.create("someone@example.com", Role.VIEWER)
            rss_before = rss_mb(server.process.pid)

            auth = (("authorization", f"Bearer {reader}"),)
            health_request = health_pb2.HealthCheckRequest().SerializeToString()
            attackers += await flood(server.port, HEALTH_WATCH, health_request, 2000, ())
            attackers += await flood(
                server.port, WATCH, pb.WatchInvitationsRequest().SerializeToString(), 2000, auth
            )
            list_request = pb.ListInvitationsRequest(page_size=50).SerializeToString()
            attackers += await flood(server.port, LIST, list_request, 200, auth)

            # What the server holds: every List call (answered, never read) and one caller's
            # 50 watch streams; the rest were refused (health's own cap: 100 watches).
            async def settled() -> bool:
                text = await asyncio.to_thread(scrape, metrics_port)
                return sample(text, "grpc_server_in_flight") == 200 + 50

            await poll(settled, 60, "the hostile calls settled")
            refused = sum(
                status == "8"  # RESOURCE_EXHAUSTED
                for connection in attackers
                for status in connection.ended.values()
            )
            assert refused == (2000 - 100) + (2000 - 50)

            get_ms = [await timed(client.get(created.name)) for _ in range(7)]
            health_ms = [await timed(check_health(client.channel)) for _ in range(7)]
            rss_after = rss_mb(server.process.pid)
            print(
                f"under attack: GetInvitation {statistics.median(get_ms):.1f} ms median "
                f"(max {max(get_ms):.1f}), health Check {statistics.median(health_ms):.1f} ms "
                f"median (max {max(health_ms):.1f}); RSS {rss_before:.0f} -> {rss_after:.0f} MB"
            )
            assert statistics.median(get_ms) < 100
            assert statistics.median(health_ms) < 100
            assert rss_after < 300
            assert (await client.get(created.name)).email == "someone@example.com"
    finally:
        for connection in attackers:
            await connection.close()
        server.stop_cleanly()


async def test_a_million_path_update_mask_is_refused_before_it_costs_anything(
    server: ServerProcess,
) -> None:
    """3 MB of update_mask paths is INVALID_ARGUMENT within milliseconds, and parsing it never
    happens: protobuf would build a million strings first."""
    request = pb.UpdateInvitationRequest(
        invitation=pb.Invitation(name="invitations/00000000-0000-4000-8000-000000000000"),
        update_mask=field_mask_pb2.FieldMask(paths=["a"] * 1_000_000),
    ).SerializeToString()
    rss_before = rss_mb(server.process.pid)
    async with grpc.aio.insecure_channel(server.target) as channel:
        update = channel.unary_unary(
            f"/{SERVICE}/UpdateInvitation", request_serializer=bytes, response_deserializer=bytes
        )
        took_ms = []
        for _ in range(3):
            started = time.perf_counter()
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await update(request)
            took_ms.append((time.perf_counter() - started) * 1000)
            assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT
            assert "the request is 3000057 bytes" in (caught.value.details() or "")
    grew = rss_mb(server.process.pid) - rss_before
    print(
        f"1M-path mask: {statistics.median(took_ms):.1f} ms median round trip, RSS +{grew:.0f} MB"
    )
    assert statistics.median(took_ms) < 50  # it took 7.9 s before sizes were checked
    assert grew < 20


async def test_a_request_with_fifty_mistakes_gets_a_bounded_answer(server: ServerProcess) -> None:
    """Fifty long unknown paths: the client still receives its error (grpc clients refuse
    trailers over 8 KiB), with the first ten violations, and the count of the rest in its
    message."""
    request = pb.UpdateInvitationRequest(
        invitation=pb.Invitation(name="invitations/00000000-0000-4000-8000-000000000000"),
        update_mask=field_mask_pb2.FieldMask(paths=[f"{n}{'z' * 1000}" for n in range(50)]),
    )
    async with InvitationsClient(server.target) as client:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await client.stub.UpdateInvitation(request)
    error = caught.value
    assert error.code() is grpc.StatusCode.INVALID_ARGUMENT
    violations = field_violations(error)
    assert [field for field, _ in violations] == [f"update_mask.paths[{n}]" for n in range(10)]
    assert (error.details() or "").endswith("(and 40 more)")
    assert len(error.details() or "") < 4096
