"""Clients that fill the API's capacity cannot take the probes with it: calls beyond the limits
are RESOURCE_EXHAUSTED at once, and the health check keeps answering."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import grpc
import pytest
from google.protobuf import empty_pb2
from google.protobuf.wrappers_pb2 import StringValue
from grpc_health.v1 import health_pb2

from service.client import check_health
from tests.probe_resource import SERVICE, ProbeClient
from tests.stalled import StalledConnection
from tests.support import (
    PROBE_SERVER,
    JwtKeys,
    MarkHold,
    ServerProcess,
    poll,
    sample,
    scrape,
    unique_mark,
)

Code = grpc.StatusCode
MAX_RPCS, MAX_STREAMS, MAX_HEALTH_WATCHES = 3, 2, 3  # the streams, and one unary call


@pytest.fixture
def server(database_url: str) -> Iterator[ServerProcess]:
    server = ServerProcess(
        database_url,
        module=PROBE_SERVER,
        max_concurrent_rpcs=str(MAX_RPCS),
        max_concurrent_streams=str(MAX_STREAMS),
        max_health_watches=str(MAX_HEALTH_WATCHES),
    ).start()
    yield server
    server.stop_cleanly()


async def health_answers_at_once(channel: grpc.aio.Channel) -> None:
    started = time.perf_counter()
    assert await check_health(channel) == "SERVING"
    # 100 ms on an idle machine; the bound leaves room for a loaded one.
    assert time.perf_counter() - started < 1.0


def _raw(data: bytes) -> bytes:
    return data


async def open_stream(
    channel: grpc.aio.Channel,
    method: str,
    request: bytes,
    metadata: tuple[tuple[str, str], ...] = (),
) -> grpc.aio.UnaryStreamCall[bytes, bytes]:
    """A server stream, open once its headers arrived; the caller's to cancel."""
    call = channel.unary_stream(method, request_serializer=_raw, response_deserializer=_raw)(
        request, metadata=metadata
    )
    await call.initial_metadata()
    return call


async def test_beyond_the_limits_calls_are_refused_and_health_still_answers(
    server: ServerProcess, database_url: str
) -> None:
    watch_marks = f"/{SERVICE.full_name}/WatchMarks"
    empty = empty_pb2.Empty().SerializeToString()
    async with (
        grpc.aio.insecure_channel(server.target) as channel,
        ProbeClient(server.target) as client,
    ):
        streams = [await open_stream(channel, watch_marks, empty) for _ in range(MAX_STREAMS)]
        one_stream_more = await open_stream(channel, watch_marks, empty)
        assert await one_stream_more.code() is Code.RESOURCE_EXHAUSTED
        assert "streams at once" in (await one_stream_more.details() or "")
        await health_answers_at_once(channel)

        held = unique_mark()
        async with MarkHold.holding(database_url, held) as hold:
            waiting = asyncio.ensure_future(client.create_mark(held))
            await hold.until_waiting()
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await client.get_mark(unique_mark())
            assert caught.value.code() is Code.RESOURCE_EXHAUSTED
            assert "RPCs at once" in (caught.value.details() or "")
            await health_answers_at_once(channel)
            await hold.release()
        await waiting  # the held call was never dropped

        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await client.get_mark(unique_mark())
        assert caught.value.code() is Code.NOT_FOUND  # capacity is back
        for stream in streams:
            stream.cancel()


async def test_health_watch_streams_are_capped_and_check_still_answers(
    server: ServerProcess,
) -> None:
    watch = "/grpc.health.v1.Health/Watch"
    request = health_pb2.HealthCheckRequest().SerializeToString()
    async with grpc.aio.insecure_channel(server.target) as channel:
        open_ = [await open_stream(channel, watch, request) for _ in range(MAX_HEALTH_WATCHES)]
        one_more = await open_stream(channel, watch, request)

        assert await one_more.code() is Code.RESOURCE_EXHAUSTED
        await health_answers_at_once(channel)
        open_[0].cancel()

        async def another_is_accepted() -> bool:
            call = await open_stream(channel, watch, request)
            accepted = (await call.read()) is not grpc.aio.EOF
            call.cancel()
            return accepted

        deadline = time.monotonic() + 10
        while not await another_is_accepted():
            assert time.monotonic() < deadline, "a closed watch never freed its place"


# Clients that never read ----------------------------------------------------------------------

ECHO = f"/{SERVICE.full_name}/Echo"
WATCH_MARKS = f"/{SERVICE.full_name}/WatchMarks"
# An echo whose answer cannot go out while the client's window is 0.
UNREAD = StringValue(value="x" * 20_000).SerializeToString()


def in_flight(metrics_port: int) -> float:
    return sample(scrape(metrics_port), "grpc_server_in_flight")


def in_flight_is(metrics_port: int, count: int) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return await asyncio.to_thread(in_flight, metrics_port) == count

    return check


async def test_unread_responses_count_until_sent_and_one_connection_cannot_take_them_all(
    database_url: str,
) -> None:
    server = ServerProcess(
        database_url,
        module=PROBE_SERVER,
        with_metrics=True,
        max_calls_per_connection="20",
        max_concurrent_rpcs="30",
    ).start()
    metrics = server.metrics_port
    stalled = [await StalledConnection("127.0.0.1", server.port).open() for _ in range(2)]
    try:
        first = [stalled[0].call(ECHO, UNREAD) for _ in range(25)]

        # The server allows 20 calls at once on a connection: the client cannot start 5 more.
        assert stalled[0].h2.remote_settings.max_concurrent_streams == 20
        assert stalled[0].refused == 5
        await poll(in_flight_is(metrics, 20), 10, "20 in flight")
        assert all(stalled[0].status(stream) is None for stream in first if stream > 0)

        # Unread responses count against the process's 30 calls: 10 more fill it.
        second = [stalled[1].call(ECHO, UNREAD) for _ in range(10)]
        await poll(in_flight_is(metrics, 30), 10, "30 in flight")
        async with ProbeClient(server.target) as client:
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await client.echo("one more")
            assert caught.value.code() is Code.RESOURCE_EXHAUSTED
            await health_answers_at_once(client.channel)

            # A client that goes away frees every place it held.
            for connection in stalled:
                await connection.close()
            await poll(in_flight_is(metrics, 0), 5, "places back")
            assert await client.echo("again") == "again"
        assert all(stalled[1].status(stream) is None for stream in second)  # never answered
    finally:
        server.stop_cleanly()
    assert not [entry for entry in server.logs if entry["level"] == "ERROR"]


async def test_a_connection_that_never_reads_is_closed_after_its_age_and_grace(
    database_url: str,
) -> None:
    server = ServerProcess(
        database_url,
        module=PROBE_SERVER,
        with_metrics=True,
        max_connection_age_seconds="1",
        max_connection_age_grace_seconds="1",
    ).start()
    metrics = server.metrics_port
    stalled = await StalledConnection("127.0.0.1", server.port).open()
    try:
        for _ in range(10):
            stalled.call(ECHO, UNREAD)
        await poll(in_flight_is(metrics, 10), 10, "10 in flight")

        # Age 1 s (grpc adds up to 10%), then 1 s of grace: the server closes the connection.
        await poll(in_flight_is(metrics, 0), 6, "the unread calls freed")
        await asyncio.wait_for(stalled.closed.wait(), 2)
    finally:
        await stalled.close()
        server.stop_cleanly()


async def test_one_caller_cannot_hold_every_stream(database_url: str, tmp_path: Path) -> None:
    keys = JwtKeys.generate(tmp_path)
    server = ServerProcess(
        database_url,
        module=PROBE_SERVER,
        auth_jwt_public_key_file=str(keys.public_file),
        max_streams_per_caller="3",
    ).start()
    greedy = (("authorization", f"Bearer {keys.token(scope='probe.read', sub='greedy')}"),)
    other = (("authorization", f"Bearer {keys.token(scope='probe.read', sub='other')}"),)
    empty = empty_pb2.Empty().SerializeToString()
    try:
        async with grpc.aio.insecure_channel(server.target) as channel:
            held = [await open_stream(channel, WATCH_MARKS, empty, greedy) for _ in range(3)]
            refused = await open_stream(channel, WATCH_MARKS, empty, greedy)
            assert await refused.code() is Code.RESOURCE_EXHAUSTED
            assert "this caller has 3 streams open" in (await refused.details() or "")

            others = await open_stream(channel, WATCH_MARKS, empty, other)
            assert not others.done()  # another caller still gets a stream

            held.pop().cancel()

            async def place_back() -> bool:
                call = await open_stream(channel, WATCH_MARKS, empty, greedy)
                accepted = not call.done()
                call.cancel()
                return accepted

            await poll(place_back, 5, "the closed stream's place back")
            for call in (*held, others):
                call.cancel()
    finally:
        server.stop_cleanly()


async def test_stalled_watch_clients_that_vanish_leave_nothing_behind(
    database_url: str,
) -> None:
    server = ServerProcess(database_url, module=PROBE_SERVER, with_metrics=True).start()
    metrics = server.metrics_port
    stalled = [await StalledConnection("127.0.0.1", server.port).open() for _ in range(5)]
    empty = empty_pb2.Empty().SerializeToString()
    for connection in stalled:
        connection.call(WATCH_MARKS, empty)
    await poll(in_flight_is(metrics, 5), 10, "5 watches")
    async with ProbeClient(server.target) as client:
        for _ in range(20):  # events the stalled watchers cannot take: their writes block
            await client.create_mark(unique_mark())
    for connection in stalled:
        await connection.close()
    await poll(in_flight_is(metrics, 0), 5, "in flight back to 0")

    started = time.monotonic()
    assert server.stop() == 0
    took = time.monotonic() - started
    assert took < 2.0, f"SIGTERM took {took:.2f} s"
    assert not [entry for entry in server.logs if entry["level"] == "ERROR"]
