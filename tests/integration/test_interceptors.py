"""The request interceptor on a real grpc.aio server and socket, with a servicer that misbehaves.

The servicer serves the test probe resource's service (tests/probe_resource.py), registered
through `intercepted(...)` as the server registers every resource.
"""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import AsyncIterator
from typing import Any, cast

import grpc
import pytest
from google.protobuf import empty_pb2
from google.protobuf.wrappers_pb2 import StringValue

from service.errors import NotFound
from service.interceptors import RequestInterceptor, intercepted
from service.log import AccessLog
from tests.probe_resource import SERVICE, ProbeClient, add_to_server
from tests.support import poll

Context = grpc.aio.ServicerContext[Any, Any]


class Broken:
    """A servicer with a bug, a domain error and a self-inflicted abort; the probe's other
    methods it does not write at all."""

    async def GetMark(self, request: StringValue, context: Context) -> StringValue:  # noqa: N802
        raise RuntimeError("password=hunter2 in a stack trace")

    async def CreateMark(self, request: StringValue, context: Context) -> empty_pb2.Empty:  # noqa: N802
        raise NotFound(f"{request.value} does not exist")

    async def Echo(self, request: StringValue, context: Context) -> StringValue:  # noqa: N802
        await context.abort(grpc.StatusCode.PERMISSION_DENIED, "not yours")


@pytest.fixture
def access_log() -> AccessLog:
    return AccessLog(io.StringIO(), "json", enabled=True)


@pytest.fixture
async def client(access_log: AccessLog) -> AsyncIterator[ProbeClient]:
    server = grpc.aio.server()
    interceptor = RequestInterceptor(default_timeout=5, access_log=access_log)
    add_to_server(Broken(), cast("grpc.aio.Server", intercepted(server, interceptor)))
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    async with ProbeClient(f"127.0.0.1:{port}") as client:
        yield client
    await server.stop(None)


def access_lines(access_log: AccessLog) -> list[dict[str, Any]]:
    access_log.flush()
    stream = cast("io.StringIO", access_log.stream)
    return [json.loads(line) for line in stream.getvalue().splitlines()]


async def the_access_line(access_log: AccessLog) -> dict[str, Any]:
    """The one access line, once written: an abort sends the status to the client before the
    handler's exception reaches the interceptor, which writes the line."""

    async def written() -> bool:
        return bool(access_lines(access_log))

    await poll(written, what="the access line")
    [line] = access_lines(access_log)
    return line


async def test_a_bug_is_internal_with_no_internals_leaked(
    client: ProbeClient, caplog: pytest.LogCaptureFixture
) -> None:
    get = client.channel.unary_unary(
        f"/{SERVICE.full_name}/GetMark",
        request_serializer=StringValue.SerializeToString,
        response_deserializer=StringValue.FromString,
    )
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await get(StringValue(value="x"), metadata=(("x-request-id", "r1"),))

    assert caught.value.code() is grpc.StatusCode.INTERNAL
    assert caught.value.details() == "internal error (request id r1)"
    assert "hunter2" not in str(caught.value.trailing_metadata())
    [logged] = [r for r in caplog.records if r.getMessage() == "unhandled exception"]
    assert logged.exc_info is not None
    assert "hunter2" in str(logged.exc_info[1])


async def test_a_domain_error_becomes_its_status_code(client: ProbeClient) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await client.create_mark("marks/9")

    assert caught.value.code() is grpc.StatusCode.NOT_FOUND
    assert caught.value.details() == "marks/9 does not exist"


async def test_a_handlers_own_abort_passes_through(
    client: ProbeClient, access_log: AccessLog
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await client.echo("x")

    assert caught.value.code() is grpc.StatusCode.PERMISSION_DENIED
    assert caught.value.details() == "not yours"
    line = await the_access_line(access_log)
    assert line["method"] == f"/{SERVICE.full_name}/Echo"
    assert line["code"] == "PERMISSION_DENIED"


@pytest.mark.parametrize("method", ["DeleteMark", "WatchMarks"])
async def test_a_method_the_servicer_does_not_write_is_unimplemented(
    client: ProbeClient, access_log: AccessLog, caplog: pytest.LogCaptureFixture, method: str
) -> None:
    """Unary or streaming, a method of the proto with no code behind it is UNIMPLEMENTED,
    named in the message; never INTERNAL, never a traceback in the log."""
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await client.call(method)

    assert caught.value.code() is grpc.StatusCode.UNIMPLEMENTED
    assert f"/{SERVICE.full_name}/{method}" in str(caught.value.details())
    line = await the_access_line(access_log)
    assert line["code"] == "UNIMPLEMENTED"
    assert not [r for r in caplog.records if r.getMessage() == "unhandled exception"]


async def test_methods_given_only_as_registered_ones_are_served_through_the_interceptor(
    access_log: AccessLog,
) -> None:
    """`intercepted` serves every method through a generic handler (its docstring says why):
    a service whose code registers its methods only as registered methods is served too."""

    async def echo(request: bytes, context: Context) -> bytes:
        return request

    server = grpc.aio.server()
    interceptor = RequestInterceptor(default_timeout=5, access_log=access_log)
    handler: Any = grpc.unary_unary_rpc_method_handler(echo)  # bytes in, bytes out
    intercepted(server, interceptor).add_registered_method_handlers("t.Echo", {"Echo": handler})
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            echoed = channel.unary_unary("/t.Echo/Echo", _raw, _raw)
            assert await echoed(b"hello") == b"hello"
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await channel.unary_unary("/t.Echo/Made-up", _raw, _raw)(b"")
    finally:
        await server.stop(None)

    assert caught.value.code() is grpc.StatusCode.UNIMPLEMENTED
    line = await the_access_line(access_log)  # the interceptor's: only the method it serves
    assert (line["method"], line["code"]) == ("/t.Echo/Echo", "OK")


async def test_each_of_many_concurrent_calls_is_read_its_own_metadata(
    client: ProbeClient, access_log: AccessLog
) -> None:
    """The interceptor reads a call's metadata from grpc's handler lookup (_read_metadata):
    with 200 calls in flight at once, each still answers with the request id it sent."""
    create = client.channel.unary_unary(
        f"/{SERVICE.full_name}/CreateMark",
        request_serializer=StringValue.SerializeToString,
        response_deserializer=empty_pb2.Empty.FromString,
    )

    async def request_id_answered(sent: str) -> str:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await create(StringValue(value="marks/1"), metadata=(("x-request-id", sent),))
        answered = dict(caught.value.trailing_metadata() or ())["x-request-id"]
        assert isinstance(answered, str)
        return answered

    sent = [f"call-{n}" for n in range(200)]
    answered = await asyncio.gather(*(request_id_answered(request_id) for request_id in sent))

    assert answered == sent
    await poll(lambda: _logged(access_log, 200), what="200 access lines")
    assert sorted(line["request_id"] for line in access_lines(access_log)) == sorted(sent)


def _raw(data: bytes) -> bytes:
    return data


async def _logged(access_log: AccessLog, count: int) -> bool:
    access_log.flush()
    return len(cast("io.StringIO", access_log.stream).getvalue().splitlines()) >= count
