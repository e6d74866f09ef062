"""Clients that fill the API's capacity cannot take the probes with it: calls beyond the limits
are RESOURCE_EXHAUSTED at once, and the health check keeps answering."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import grpc
import pytest
from google.protobuf import empty_pb2
from grpc_health.v1 import health_pb2

from service.client import check_health
from tests.probe_resource import SERVICE, ProbeClient
from tests.support import PROBE_SERVER, MarkHold, ServerProcess, unique_mark

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
    channel: grpc.aio.Channel, method: str, request: bytes
) -> grpc.aio.UnaryStreamCall[bytes, bytes]:
    """A server stream, open once its headers arrived; the caller's to cancel."""
    call = channel.unary_stream(method, request_serializer=_raw, response_deserializer=_raw)(
        request
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
