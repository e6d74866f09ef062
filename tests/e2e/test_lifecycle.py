"""The server process's life: start-up, health, replicas, deadlines and graceful shutdown.

Through the test probe resource (tests/probe_resource.py), so this holds for any resource.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import grpc
import pytest
from google.protobuf import descriptor_pb2
from google.protobuf.wrappers_pb2 import StringValue
from grpc_health.v1 import health_pb2
from grpc_reflection.v1alpha import reflection_pb2

from service.resources import RESOURCES
from tests.probe_resource import SERVICE, ProbeClient
from tests.support import (
    PROBE_SERVER,
    MarkHold,
    ServerProcess,
    marks,
    poll,
    unique_mark,
    until_refusing_new_rpcs,
)

Code = grpc.StatusCode


async def health_updates(channel: grpc.aio.Channel) -> AsyncIterator[str]:
    watch = channel.unary_stream(
        "/grpc.health.v1.Health/Watch",
        request_serializer=health_pb2.HealthCheckRequest.SerializeToString,
        response_deserializer=health_pb2.HealthCheckResponse.FromString,
    )
    async for response in watch(health_pb2.HealthCheckRequest()):
        yield health_pb2.HealthCheckResponse.ServingStatus.Name(response.status)


async def test_sigterm_lets_in_flight_rpcs_finish_and_exits_zero(database_url: str) -> None:
    server = ServerProcess(database_url, module=PROBE_SERVER, grace_period_seconds="20").start()
    held = unique_mark()
    async with ProbeClient(server.target) as client:
        watched = await client.watch_marks()
        seen = unique_mark()
        await client.create_mark(seen)
        assert await asyncio.wait_for(anext(watched), 5) == seen
        watch_ended = asyncio.ensure_future(anext(watched, None))
        health = health_updates(client.channel)
        assert await anext(health) == "SERVING"

        async with MarkHold.holding(database_url, held) as hold:
            in_flight = asyncio.ensure_future(client.create_mark(held))  # waits for the row
            await hold.until_waiting()
            server.terminate()
            assert await asyncio.wait_for(anext(health), 5) == "NOT_SERVING"
            await asyncio.to_thread(server.wait_for, "shutting down")
            # The watch stream ends first and cleanly: it does not hold the grace period.
            assert await asyncio.wait_for(asyncio.shield(watch_ended), 5) is None
            await until_refusing_new_rpcs(server.target)
            assert not in_flight.done()
            await hold.release()
        # The row is free: the in-flight RPC completes within the grace period.
        await asyncio.wait_for(in_flight, 10)

    assert held in await marks(database_url)
    server.stop_cleanly()


async def test_rpcs_after_sigterm_are_refused_not_lost(database_url: str) -> None:
    server = ServerProcess(database_url, module=PROBE_SERVER).start()
    refused = unique_mark()
    async with ProbeClient(server.target, timeout=5) as client:
        server.terminate()
        await asyncio.to_thread(server.wait_for, "stopped")
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await client.create_mark(refused)
    assert caught.value.code() is Code.UNAVAILABLE  # a client retries that, on another replica
    assert refused not in await marks(database_url)
    assert server.process.wait(30) == 0


async def test_a_call_without_a_deadline_stops_at_the_servers_default(
    database_url: str,
) -> None:
    """A client that sets no deadline gets the server's (DEFAULT_RPC_TIMEOUT_SECONDS): its
    call ends DEADLINE_EXCEEDED, saying so, and its query stops waiting in PostgreSQL."""
    server = ServerProcess(
        database_url, module=PROBE_SERVER, default_rpc_timeout_seconds="1"
    ).start()
    value = unique_mark()
    async with (
        MarkHold.holding(database_url, value) as hold,
        ProbeClient(server.target, timeout=None) as patient,
    ):
        started = asyncio.get_running_loop().time()
        call = asyncio.ensure_future(patient.create_mark(value))
        await hold.until_waiting()
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await asyncio.wait_for(call, 10)
        assert caught.value.code() is Code.DEADLINE_EXCEEDED
        assert "no deadline was set" in str(caught.value.details())
        assert 1 <= asyncio.get_running_loop().time() - started < 5

        async def abandoned() -> bool:
            return await hold.waiting() == 0

        await poll(abandoned, within=5, what="the INSERT cancelled in PostgreSQL")
        # A call that ends in time is not touched by a deadline that passes after it.
        await patient.echo("quick")
    assert value not in await marks(database_url)
    server.stop_cleanly()


async def test_database_work_stops_at_the_clients_deadline(
    server: ServerProcess, database_url: str
) -> None:
    value = unique_mark()
    async with (
        MarkHold.holding(database_url, value) as hold,
        ProbeClient(server.target, timeout=1.0) as impatient,
    ):
        call = asyncio.ensure_future(impatient.create_mark(value))
        await hold.until_waiting()  # the server's INSERT waits on the held row
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await call
        assert caught.value.code() is Code.DEADLINE_EXCEEDED

        # The server gave up with the client: its INSERT no longer waits in PostgreSQL...
        async def abandoned() -> bool:
            return await hold.waiting() == 0

        await poll(abandoned, within=5, what="the INSERT cancelled in PostgreSQL")
    # ...so once the row is free again, the mark was not made after all.
    async with ProbeClient(server.target) as client:
        with pytest.raises(grpc.aio.AioRpcError) as missing:
            await client.get_mark(value)
    assert missing.value.code() is Code.NOT_FOUND


async def test_replicas_serve_one_database(server: ServerProcess, database_url: str) -> None:
    other = ServerProcess(database_url, module=PROBE_SERVER).start()
    value = unique_mark()
    try:
        async with (
            ProbeClient(server.target) as one,
            ProbeClient(other.target) as another,
        ):
            await one.create_mark(value)
            assert await another.get_mark(value) == value
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await another.create_mark(value)
        assert caught.value.code() is Code.ALREADY_EXISTS
    finally:
        other.stop_cleanly()


@pytest.mark.parametrize(
    ("setting", "message"),
    [("port", "cannot start: cannot listen on"), ("metrics_port", "cannot start: cannot serve")],
)
async def test_a_port_in_use_is_a_loud_startup_error(
    server: ServerProcess, database_url: str, setting: str, message: str
) -> None:
    taken = str(server.port)
    second = (
        ServerProcess(database_url, port=taken)
        if setting == "port"
        else ServerProcess(database_url, metrics_port=taken)
    )
    code = second.process.wait(30)

    assert code == 1
    assert any(
        entry.get("message", "").startswith(message) and str(server.port) in entry["message"]
        for entry in second.logs
    ), second.logs
    assert not any("Traceback" in str(entry) for entry in second.logs)


def reflection_call(
    channel: grpc.aio.Channel,
) -> grpc.aio.StreamStreamMultiCallable[
    reflection_pb2.ServerReflectionRequest, reflection_pb2.ServerReflectionResponse
]:
    return channel.stream_stream(
        "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
        request_serializer=reflection_pb2.ServerReflectionRequest.SerializeToString,
        response_deserializer=reflection_pb2.ServerReflectionResponse.FromString,
    )


async def test_reflection_lists_and_describes_every_resource(server: ServerProcess) -> None:
    requests = [
        reflection_pb2.ServerReflectionRequest(list_services=""),
        reflection_pb2.ServerReflectionRequest(file_containing_symbol=SERVICE.full_name),
    ]
    async with grpc.aio.insecure_channel(server.target) as channel:
        listed, described = [answer async for answer in reflection_call(channel)(iter(requests))]
    names = {s.name for s in listed.list_services_response.service}
    expected = {SERVICE.full_name, "grpc.health.v1.Health", *(r.name for r in RESOURCES)}
    assert expected <= names, names
    # The probe's descriptor, made in Python without protoc, is served like a generated one.
    files = [
        descriptor_pb2.FileDescriptorProto.FromString(data)
        for data in described.file_descriptor_response.file_descriptor_proto
    ]
    [service] = [s for f in files if f.package == "probe.v1" for s in f.service]
    assert [m.name for m in service.method] == [m.name for m in SERVICE.methods]


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
    async with ProbeClient(server.target) as client:
        get = client.channel.unary_unary(
            f"/{SERVICE.full_name}/GetMark",
            request_serializer=StringValue.SerializeToString,
            response_deserializer=StringValue.FromString,
        )
        with pytest.raises(grpc.aio.AioRpcError):  # no value: INVALID_ARGUMENT
            await get(StringValue(), metadata=(("x-request-id", "log-check-1"),))

    def logged() -> list[dict[str, object]]:
        return [entry for entry in server.logs if entry.get("request_id") == "log-check-1"]

    async def written() -> bool:  # the access log is written in batches
        return bool(logged())

    await poll(written, within=5, what="the RPC's access-log line")
    [line] = logged()
    assert line["message"] == "rpc"
    assert line["method"] == f"/{SERVICE.full_name}/GetMark"
    assert line["code"] == "INVALID_ARGUMENT"
    assert isinstance(line["duration_ms"], float | int)
    assert line["duration_ms"] >= 0
    assert line["level"] == "INFO"
