"""The server process's life: start-up, health, replicas, deadlines and graceful shutdown."""

from __future__ import annotations

import asyncio
import signal
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
import grpc
import pytest
from grpc_health.v1 import health_pb2
from grpc_reflection.v1alpha import reflection_pb2

from generated.invitations.v1 import invitations_pb2 as pb
from generated.invitations.v1.invitations_enums import InvitationEventKind, InvitationStatus, Role
from service.invitations.client import InvitationsClient
from tests.support import ServerProcess

Code = grpc.StatusCode


@asynccontextmanager
async def row_locked(database_url: str, name: str) -> AsyncIterator[None]:
    """Hold the invitation's row lock in another transaction, so writes to it wait."""
    connection = await asyncpg.connect(database_url.replace("+asyncpg", ""))
    try:
        async with connection.transaction():
            id = uuid.UUID(name.removeprefix("invitations/"))
            await connection.execute("SELECT 1 FROM invitations WHERE id = $1 FOR UPDATE", id)
            yield
    finally:
        await connection.close()


async def health_updates(channel: grpc.aio.Channel) -> AsyncIterator[str]:
    watch = channel.unary_stream(
        "/grpc.health.v1.Health/Watch",
        request_serializer=health_pb2.HealthCheckRequest.SerializeToString,
        response_deserializer=health_pb2.HealthCheckResponse.FromString,
    )
    async for response in watch(health_pb2.HealthCheckRequest()):
        yield health_pb2.HealthCheckResponse.ServingStatus.Name(response.status)


async def test_sigterm_lets_in_flight_rpcs_finish_and_exits_zero(database_url: str) -> None:
    server = ServerProcess(database_url, grace_period_seconds="20").start()
    async with InvitationsClient(server.target) as client:
        created = await client.create(f"{uuid.uuid4().hex}@example.com", Role.VIEWER)
        watch = client.watch()
        watch_started = asyncio.ensure_future(anext(watch, None))
        health = health_updates(client.channel)
        assert await anext(health) == "SERVING"

        async with row_locked(database_url, created.name):
            in_flight = asyncio.ensure_future(client.accept(created.name))  # waits for the lock
            await asyncio.sleep(0.5)
            server.process.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(anext(health), 5) == "NOT_SERVING"
            server.wait_for("shutting down")
            assert not in_flight.done()
        # The lock is gone: the in-flight accept completes within the grace period.
        accepted = await asyncio.wait_for(in_flight, 10)

        assert InvitationStatus.from_proto(accepted.status) is InvitationStatus.ACCEPTED
        assert await asyncio.wait_for(watch_started, 10) is None  # the stream ended cleanly
        server.stop_cleanly()


async def test_rpcs_after_sigterm_are_refused_not_lost(database_url: str) -> None:
    server = ServerProcess(database_url).start()
    async with InvitationsClient(server.target, timeout=5) as client:
        server.process.send_signal(signal.SIGTERM)
        server.wait_for("stopped")
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await client.create(f"{uuid.uuid4().hex}@example.com", Role.VIEWER)
    assert caught.value.code() is Code.UNAVAILABLE
    assert server.process.wait(30) == 0


async def test_database_work_stops_at_the_clients_deadline(
    server: ServerProcess, database_url: str
) -> None:
    async with InvitationsClient(server.target) as client:
        created = await client.create(f"{uuid.uuid4().hex}@example.com", Role.VIEWER)
        async with row_locked(database_url, created.name):
            slow = InvitationsClient(server.target, timeout=0.5)
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await slow.accept(created.name)
            await slow.close()
            await asyncio.sleep(0.5)
        # The server gave up with the client: the accept did not happen after the lock went.
        await asyncio.sleep(0.5)
        assert caught.value.code() is Code.DEADLINE_EXCEEDED
        still = await client.get(created.name)
        assert InvitationStatus.from_proto(still.status) is InvitationStatus.PENDING


async def test_watch_sees_changes_made_through_another_replica(
    server: ServerProcess, database_url: str
) -> None:
    other = ServerProcess(database_url).start()
    try:
        email = f"{uuid.uuid4().hex}@example.com"
        async with (
            InvitationsClient(server.target) as watcher,
            InvitationsClient(other.target) as writer,
        ):
            stream = watcher.watch()
            first = asyncio.ensure_future(anext(stream))
            await asyncio.sleep(0.3)
            created = await writer.create(email, Role.ADMIN)

            event = await asyncio.wait_for(first, 10)
        assert InvitationEventKind.from_proto(event.kind) is InvitationEventKind.CREATED
        assert event.invitation.name == created.name
    finally:
        other.stop_cleanly()


async def test_a_port_in_use_is_a_loud_startup_error(
    server: ServerProcess, database_url: str
) -> None:
    second = ServerProcess(database_url, port=str(server.port))
    code = second.process.wait(30)

    assert code == 1
    assert any(
        "cannot start" in entry.get("message", "") and str(server.port) in entry["message"]
        for entry in second.logs
    ), second.logs


async def test_reflection_lists_the_services(server: ServerProcess) -> None:
    async with grpc.aio.insecure_channel(server.target) as channel:
        reflect = channel.stream_stream(
            "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
            request_serializer=reflection_pb2.ServerReflectionRequest.SerializeToString,
            response_deserializer=reflection_pb2.ServerReflectionResponse.FromString,
        )
        call = reflect(iter([reflection_pb2.ServerReflectionRequest(list_services="")]))
        response = await anext(aiter(call))
    names = {s.name for s in response.list_services_response.service}
    assert {"invitations.v1.InvitationService", "grpc.health.v1.Health"} <= names


async def test_reflection_can_be_turned_off(database_url: str) -> None:
    server = ServerProcess(database_url, reflection="false").start()
    try:
        async with grpc.aio.insecure_channel(server.target) as channel:
            # Called as a unary call, the request is sent whole before the server answers.
            reflect = channel.unary_unary(
                "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
                request_serializer=reflection_pb2.ServerReflectionRequest.SerializeToString,
                response_deserializer=reflection_pb2.ServerReflectionResponse.FromString,
            )
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await reflect(reflection_pb2.ServerReflectionRequest(list_services=""))
        assert caught.value.code() is Code.UNIMPLEMENTED
    finally:
        server.stop_cleanly()


async def test_each_rpc_is_logged_as_one_structured_line(server: ServerProcess) -> None:
    async with InvitationsClient(server.target) as client:
        call = client.stub.GetInvitation(
            pb.GetInvitationRequest(name="bad"), metadata=(("x-request-id", "log-check-1"),)
        )
        with pytest.raises(grpc.aio.AioRpcError):
            await call
    await asyncio.sleep(0.2)
    [line] = [entry for entry in server.logs if entry.get("request_id") == "log-check-1"]
    assert line["message"] == "rpc"
    assert line["method"] == "/invitations.v1.InvitationService/GetInvitation"
    assert line["code"] == "INVALID_ARGUMENT"
    assert line["duration_ms"] >= 0
    assert line["level"] == "INFO"
