"""Running it: metrics, and several worker processes on one port.

Through the test probe resource (tests/probe_resource.py), so this holds for any resource. Bad
input in bulk is in tests/e2e/test_abuse.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
from pathlib import Path

import grpc

from tests.probe_resource import SERVICE, ProbeClient
from tests.support import PROBE_SERVER, ServerProcess, poll, sample, scrape, unique_mark
from tools.probe import free_port


async def test_metrics_count_rpcs_by_method_and_code(database_url: str) -> None:
    server = ServerProcess(database_url, module=PROBE_SERVER, with_metrics=True).start()
    metrics_port = server.metrics_port
    try:
        async with ProbeClient(server.target) as client:
            for _ in range(3):
                await client.create_mark(unique_mark())
            with contextlib.suppress(grpc.aio.AioRpcError):
                await client.get_mark(unique_mark())

        # A call counts until grpc has sent its last byte, which can be just after the
        # client has read it.
        async def none_in_flight() -> bool:
            page = await asyncio.to_thread(scrape, metrics_port)
            return sample(page, "grpc_server_in_flight") == 0

        await poll(none_in_flight, 5, "no RPC in flight")
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

    async def port_free() -> bool:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                return False
            return True

    await poll(port_free, 3, "the orphaned workers leaving the port")


async def test_workers_refuse_a_port_that_is_already_held(
    server: ServerProcess, database_url: str
) -> None:
    other = ServerProcess(database_url, args=("--workers", "2"), port=str(server.port))
    assert other.process.wait(30) == 1
    assert any("is in use" in entry.get("message", "") for entry in other.logs), other.logs
