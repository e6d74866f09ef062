"""The generic client with no resource of ours: the health service, and the mistakes it sees
itself. tests/invitations/test_client.py calls a resource's methods through it."""

from __future__ import annotations

import asyncio
import json

import pytest

from service.client import Client, RequestError
from tests.support import (
    ServerProcess,
    assert_a_mistake_the_client_saw,
    client_process,
    interrupt_client,
    run_client,
)

CHECK = "grpc.health.v1.Health/Check"
WATCH = "grpc.health.v1.Health/Watch"


def test_services_lists_the_health_methods(server: ServerProcess) -> None:
    result = run_client(server, "services")

    assert result.returncode == 0, result.stderr
    assert (
        "/grpc.health.v1.Health/Watch  "
        "grpc.health.v1.HealthCheckRequest -> stream grpc.health.v1.HealthCheckResponse"
    ) in result.stdout.splitlines()


def test_call_prints_the_response_as_one_json_line(server: ServerProcess) -> None:
    result = run_client(server, "call", CHECK, '{"service": ""}')

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ['{"status": "SERVING"}']
    # The default request, {}, and a leading slash:
    assert run_client(server, "call", "/" + CHECK).stdout == result.stdout


@pytest.mark.parametrize(
    ("method", "request_json", "named"),
    [
        ("Health/Chek", "{}", "grpc.health.v1.Health/Check"),
        ("Nothing/Here", "{}", "no method 'Nothing/Here'"),
        (CHECK, '{"service": ', "not JSON"),
        (CHECK, "[]", "must be a JSON object"),
        (CHECK, '{"servise": ""}', 'no field named "servise"'),
    ],
)
def test_mistakes_the_client_can_see_exit_2_naming_them(
    server: ServerProcess, method: str, request_json: str, named: str
) -> None:
    result = run_client(server, "call", method, request_json)

    assert_a_mistake_the_client_saw(result, named)


def test_an_error_from_the_server_exits_1_with_its_code(server: ServerProcess) -> None:
    unknown = run_client(server, "health", "nothing.v1.NoService")

    assert unknown.returncode == 1
    assert unknown.stderr.startswith("error: NOT_FOUND: ")
    assert run_client(server, "health").stdout == "SERVING\n"


async def test_a_stream_prints_each_message_until_interrupted(server: ServerProcess) -> None:
    async with client_process(server, "call", WATCH) as watcher:
        assert watcher.stdout is not None
        line = await asyncio.wait_for(watcher.stdout.readline(), 30)
        assert json.loads(line) == {"status": "SERVING"}

        await interrupt_client(watcher)


async def test_python_api_calls_and_streams_with_dicts(server: ServerProcess) -> None:
    async with Client(server.target) as client:
        assert await client.call(CHECK) == {"status": "SERVING"}
        assert await client.health() == "SERVING"
        updates = client.stream(WATCH, {"service": ""})
        try:
            assert await anext(updates) == {"status": "SERVING"}
        finally:
            await updates.aclose()
        with pytest.raises(RequestError, match=r"use stream\(\)"):
            await client.call(WATCH)
