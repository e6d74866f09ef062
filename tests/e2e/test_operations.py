"""Running it: metrics, several worker processes on one port, and bad input in bulk.

Through the test probe resource (tests/probe_resource.py), so this holds for any resource; bad
input goes to every resource served.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import socket
import time
from collections.abc import Callable
from pathlib import Path

import grpc
import pytest
from google.protobuf import message_factory
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message
from google.protobuf.wrappers_pb2 import StringValue

from service.resources import RESOURCES
from tests.probe_resource import RESOURCE as PROBE
from tests.probe_resource import SERVICE, ProbeClient
from tests.support import PROBE_SERVER, ServerProcess, sample, scrape, unique_mark
from tools.probe import free_port


async def test_metrics_count_rpcs_by_method_and_code(database_url: str) -> None:
    metrics_port = free_port()
    server = ServerProcess(
        database_url, module=PROBE_SERVER, metrics_port=str(metrics_port)
    ).start()
    try:
        async with ProbeClient(server.target) as client:
            for _ in range(3):
                await client.create_mark(unique_mark())
            with contextlib.suppress(grpc.aio.AioRpcError):
                await client.get_mark(unique_mark())
        text = scrape(metrics_port)
    finally:
        server.stop_cleanly()

    create = f"/{SERVICE.full_name}/CreateMark"
    get = f"/{SERVICE.full_name}/GetMark"
    assert sample(text, "grpc_server_handled_total", grpc_method=create, grpc_code="OK") == 3
    assert sample(text, "grpc_server_handled_total", grpc_method=get, grpc_code="NOT_FOUND") == 1
    assert sample(text, "grpc_server_handling_seconds_count", grpc_method=create) == 3
    assert sample(text, "grpc_server_in_flight") == 0
    assert sample(text, "db_pool_connections", state="idle") >= 1
    assert sample(text, "db_pool_connections", state="in_use") == 0


def two_workers(database_url: str) -> ServerProcess:
    """`serve --workers 2` of the probe server on a free port, once both workers serve."""
    port = free_port()
    server = ServerProcess(
        database_url, module=PROBE_SERVER, args=("--workers", "2"), port=str(port)
    )
    server.wait_for("workers started")
    server.wait_for("serving")
    server.wait_for("serving")  # both workers
    server.port = port
    return server


async def test_workers_share_one_port_and_stop_together(database_url: str) -> None:
    server = two_workers(database_url)
    made = [unique_mark() for _ in range(20)]
    # The workers run this entry point too: they serve the probe resource, not only the service's.
    async with ProbeClient(server.target) as client:
        await asyncio.gather(*(client.create_mark(mark) for mark in made))
        assert await asyncio.gather(*(client.get_mark(mark) for mark in made)) == made
    assert server.stop() == 0
    assert sum(entry.get("message") == "stopped" for entry in server.logs) == 2
    assert server.logs[-1]["message"] == "workers stopped"


def workers_of(pid: int) -> set[int]:
    return {int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()}


def wait_until(condition: Callable[[], bool], within: float, what: str) -> None:
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, f"{what}: not within {within} s"
        time.sleep(0.02)


async def test_a_dead_worker_is_replaced_and_orphans_free_the_port(database_url: str) -> None:
    server = two_workers(database_url)
    port = server.port
    parent = server.process.pid
    first, second = sorted(workers_of(parent))

    os.kill(first, signal.SIGKILL)
    server.wait_for("worker died; starting another", timeout=3)
    server.wait_for("serving", timeout=10)
    [replacement] = workers_of(parent) - {second}
    assert replacement != first
    async with ProbeClient(server.target) as client:  # the port still serves
        mark = unique_mark()
        await client.create_mark(mark)

    os.kill(parent, signal.SIGKILL)  # no one left to forward a SIGTERM to the workers

    def port_free() -> bool:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                return False
            return True

    wait_until(port_free, 3, "the orphaned workers leaving the port")


async def test_workers_refuse_a_port_that_is_already_held(
    server: ServerProcess, database_url: str
) -> None:
    other = ServerProcess(database_url, args=("--workers", "2"), port=str(server.port))
    assert other.process.wait(30) == 1
    assert any("is in use" in entry.get("message", "") for entry in other.logs), other.logs


def unary_methods() -> list[tuple[str, Descriptor]]:
    """(path, request type) of every unary method served: the probe's and every resource's."""
    return [
        (f"/{resource.name}/{method.name}", method.input_type)
        for resource in [PROBE, *RESOURCES]
        for method in resource.service.methods
        if not method.server_streaming
    ]


FILLERS: dict[int, object] = {
    FieldDescriptor.CPPTYPE_STRING: "sample-1",
    FieldDescriptor.CPPTYPE_BOOL: True,
    FieldDescriptor.CPPTYPE_ENUM: 1,
    FieldDescriptor.CPPTYPE_DOUBLE: 1.5,
    FieldDescriptor.CPPTYPE_FLOAT: 1.5,
}


def filled(descriptor: Descriptor, depth: int = 0) -> Message:
    """A request with every field set (messages two deep): valid bytes to spoil."""
    message = message_factory.GetMessageClass(descriptor)()
    for field in descriptor.fields:
        if field.message_type is not None:
            if depth < 2 and not field.message_type.GetOptions().map_entry:
                nested = filled(field.message_type, depth + 1)
                target = getattr(message, field.name)
                if field.is_repeated:
                    target.add().CopyFrom(nested)
                else:
                    target.CopyFrom(nested)
            continue
        value = FILLERS.get(field.cpp_type, 5)
        if field.type == FieldDescriptor.TYPE_BYTES:
            value = b"sample"
        if field.is_repeated:
            getattr(message, field.name).append(value)
        elif field.containing_oneof is None or not message.HasField(field.containing_oneof.name):
            setattr(message, field.name, value)
    return message


def malformed_bodies(seeds: list[bytes], count: int, seed: int = 20261128) -> list[bytes]:
    """Random bytes, and valid requests with bytes flipped, cut short or run on."""
    rng = random.Random(seed)
    bodies = []
    for n in range(count):
        kind = n % 4
        if kind == 0:
            bodies.append(rng.randbytes(rng.randrange(0, 64)))
        else:
            body = bytearray(rng.choice(seeds))
            if kind == 1 and body:
                for _ in range(rng.randrange(1, 4)):
                    body[rng.randrange(len(body))] = rng.randrange(256)
            elif kind == 2:
                body = body[: rng.randrange(len(body) + 1)]
            else:
                body += rng.randbytes(rng.randrange(1, 16))
            bodies.append(bytes(body))
    return bodies


def test_ten_thousand_malformed_requests_get_no_internal_or_unknown(
    server: ServerProcess,
) -> None:
    """Generated bad bytes sent to every unary method served: a deliberate status code for
    each."""
    methods = unary_methods()
    seeds = [filled(request).SerializeToString() for _, request in methods]
    bodies = malformed_bodies(seeds, 10_000)

    async def fire() -> dict[grpc.StatusCode, int]:
        codes: dict[grpc.StatusCode, int] = {}
        async with grpc.aio.insecure_channel(server.target) as channel:
            calls = [
                channel.unary_unary(path, request_serializer=bytes, response_deserializer=bytes)
                for path, _ in methods
            ]
            semaphore = asyncio.Semaphore(64)

            async def one(n: int, body: bytes) -> None:
                async with semaphore:
                    try:
                        await calls[n % len(calls)](body, timeout=10)
                        code = grpc.StatusCode.OK
                    except grpc.aio.AioRpcError as error:
                        code = error.code()
                codes[code] = codes.get(code, 0) + 1

            await asyncio.gather(*(one(n, body) for n, body in enumerate(bodies)))
        return codes

    codes = asyncio.run(fire())
    assert sum(codes.values()) == 10_000
    assert grpc.StatusCode.INTERNAL not in codes, codes
    assert grpc.StatusCode.UNKNOWN not in codes, codes
    assert grpc.StatusCode.INVALID_ARGUMENT in codes, codes  # the bad ones were read as such


async def test_a_request_over_max_request_bytes_is_refused_unparsed(
    server: ServerProcess,
) -> None:
    # 300 KiB, over the 256 KiB default: a million empty strings in a repeated field would cost
    # the parser far more than that, so size is checked first.
    huge = StringValue(value="x" * 300 * 1024)
    async with ProbeClient(server.target) as client:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await client.call("Echo", huge)
        assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT
        assert "this server takes 262144" in (caught.value.details() or "")
        assert await client.echo("x" * 200 * 1024) == "x" * 200 * 1024
