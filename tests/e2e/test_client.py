"""The generic client with no resource of ours: the health service, and the mistakes it sees
itself. tests/invitations/test_client.py calls a resource's methods through it."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys

import pytest

from service.client import Client, RequestError
from tests.support import ServerProcess
from tools.codegen import ROOT

CHECK = "grpc.health.v1.Health/Check"
WATCH = "grpc.health.v1.Health/Watch"


def command(server: ServerProcess, *args: str) -> list[str]:
    return [sys.executable, "-m", "service.client", "--target", server.target, *args]


def run(server: ServerProcess, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command(server, *args), cwd=ROOT, capture_output=True, text=True, timeout=60, check=False
    )


def test_services_lists_the_health_methods(server: ServerProcess) -> None:
    result = run(server, "services")

    assert result.returncode == 0, result.stderr
    assert (
        "/grpc.health.v1.Health/Watch  "
        "grpc.health.v1.HealthCheckRequest -> stream grpc.health.v1.HealthCheckResponse"
    ) in result.stdout.splitlines()


def test_call_prints_the_response_as_one_json_line(server: ServerProcess) -> None:
    result = run(server, "call", CHECK, '{"service": ""}')

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ['{"status": "SERVING"}']
    assert run(server, "call", "/" + CHECK).stdout == result.stdout  # default {}, leading slash


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
    result = run(server, "call", method, request_json)

    assert result.returncode == 2
    assert result.stderr.startswith("error: ")
    assert named in result.stderr
    assert "Traceback" not in result.stderr


def test_an_error_from_the_server_exits_1_with_its_code(server: ServerProcess) -> None:
    unknown = run(server, "health", "nothing.v1.NoService")

    assert unknown.returncode == 1
    assert unknown.stderr.startswith("error: NOT_FOUND: ")
    assert run(server, "health").stdout == "SERVING\n"


async def test_a_stream_prints_each_message_until_interrupted(server: ServerProcess) -> None:
    watcher = await asyncio.create_subprocess_exec(
        *command(server, "call", WATCH),
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert watcher.stdout is not None
    assert watcher.stderr is not None
    try:
        line = await asyncio.wait_for(watcher.stdout.readline(), 30)
        assert json.loads(line) == {"status": "SERVING"}

        watcher.send_signal(signal.SIGINT)  # Ctrl-C
        assert await asyncio.wait_for(watcher.wait(), 10) == 130
        assert "Traceback" not in (await watcher.stderr.read()).decode()
    finally:
        if watcher.returncode is None:
            watcher.kill()
            await watcher.wait()


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
