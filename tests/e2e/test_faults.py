"""The worst days: the database goes away under load, and a shutdown with hundreds of RPCs.

Through the test probe resource (tests/probe_resource.py), so this holds for any resource.
"""

from __future__ import annotations

import asyncio
import urllib.request
from collections.abc import Awaitable, Callable, Iterator

import grpc
import pytest

from service import healthcheck
from service.db import migrations
from tests.probe_resource import ProbeClient
from tests.support import (
    PROBE_SERVER,
    MarkHold,
    ServerProcess,
    marks,
    poll,
    unique_mark,
    until_refusing_new_rpcs,
)
from tools.postgres import TcpPostgres

Code = grpc.StatusCode
ALLOWED_DURING_OUTAGE = {Code.OK, Code.UNAVAILABLE, Code.DEADLINE_EXCEEDED}


@pytest.fixture
def postgres() -> Iterator[TcpPostgres]:
    with TcpPostgres() as database:
        migrations.upgrade(database.url)
        yield database


def health(target: str) -> str:
    return healthcheck.check(target, timeout=0.5)


def health_is(target: str, status: str) -> Callable[[], Awaitable[bool]]:
    async def answers() -> bool:
        return await asyncio.to_thread(health, target) == status

    return answers


def answered(
    outcomes: list[tuple[str, Code]], codes: set[Code], since: int
) -> Callable[[], Awaitable[bool]]:
    """Whether a write answered with one of `codes` is among the outcomes after `since`."""

    async def seen() -> bool:
        return any(code in codes for _, code in outcomes[since:])

    return seen


def test_a_database_outage_under_load_fails_fast_and_heals(postgres: TcpPostgres) -> None:
    server = ServerProcess(postgres.url, module=PROBE_SERVER, grace_period_seconds="5").start()
    outcomes: list[tuple[str, Code]] = []

    async def outage() -> None:
        """Stop PostgreSQL once writes go through, until clients and health checks have seen
        it gone; then start it again, until they see it back."""
        await poll(answered(outcomes, {Code.OK}, 0), 10, "writes acknowledged before the outage")
        await asyncio.to_thread(postgres.stop)
        stopped = len(outcomes)
        await asyncio.to_thread(server.wait_for, "database does not answer")
        await poll(health_is(server.target, "NOT_SERVING"), 10, "health NOT_SERVING")
        failed = {Code.UNAVAILABLE, Code.DEADLINE_EXCEEDED}
        await poll(answered(outcomes, failed, stopped), 10, "the outage felt by a client")
        await asyncio.to_thread(postgres.start)
        started = len(outcomes)
        await asyncio.to_thread(server.wait_for, "database is back")
        await poll(health_is(server.target, "SERVING"), 10, "health SERVING again")
        await poll(answered(outcomes, {Code.OK}, started), 10, "writes acknowledged again")

    async def scenario() -> None:
        over = asyncio.Event()
        async with ProbeClient(server.target, timeout=1.0) as client:

            async def worker() -> None:
                while not over.is_set():
                    mark = unique_mark()
                    try:
                        await client.create_mark(mark)
                        outcomes.append((mark, Code.OK))
                    except grpc.aio.AioRpcError as error:
                        outcomes.append((mark, error.code()))
                        # not a wait: a client's back-off after a failed call, as clients do
                        await asyncio.sleep(0.05)

            load = asyncio.gather(*(worker() for _ in range(8)))
            try:
                await outage()
            finally:
                over.set()
                await load

    try:
        asyncio.run(scenario())
    finally:
        server.stop_cleanly()

    codes = {code for _, code in outcomes}
    errors = [e.get("exception", "")[-600:] for e in server.logs if e.get("level") == "ERROR"]
    assert codes <= ALLOWED_DURING_OUTAGE, (codes, errors)
    acknowledged = {mark for mark, code in outcomes if code is Code.OK}
    stored = asyncio.run(marks(postgres.url))
    assert acknowledged <= stored, f"{len(acknowledged - stored)} acknowledged writes are missing"


def test_sigterm_with_hundreds_of_rpcs_in_flight_fails_none(postgres: TcpPostgres) -> None:
    server = ServerProcess(
        postgres.url,
        module=PROBE_SERVER,
        grace_period_seconds="30",
        with_metrics=True,
        max_calls_per_connection="1000",  # all 500 on the client's one connection
    ).start()
    metrics_port = server.metrics_port
    count = 500

    def in_flight() -> float:
        with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5) as r:
            for line in r.read().decode().splitlines():
                if line.startswith("grpc_server_in_flight "):
                    return float(line.split()[1])
        return 0.0

    async def scenario() -> list[Code]:
        values = [unique_mark() for _ in range(count)]
        async with (
            ProbeClient(server.target, timeout=60) as client,
            MarkHold.holding(postgres.url, *values) as hold,
        ):

            async def create(value: str) -> Code:
                try:
                    await client.create_mark(value)
                except grpc.aio.AioRpcError as error:
                    return error.code()
                return Code.OK

            # Every one waits: on its held row, or for a pooled connection behind those.
            calls = [asyncio.ensure_future(create(value)) for value in values]

            async def all_arrived() -> bool:
                return await asyncio.to_thread(in_flight) >= count

            await poll(all_arrived, 30, f"{count} RPCs in flight")
            await hold.until_waiting()
            server.terminate()
            await until_refusing_new_rpcs(server.target)
            assert not any(call.done() for call in calls)
            await hold.release()  # let them through
            codes = list(await asyncio.gather(*calls))
        assert set(values) <= await marks(postgres.url)
        return codes

    codes = asyncio.run(scenario())
    assert server.process.wait(60) == 0
    assert codes == [Code.OK] * count
    assert server.logs[-1]["message"] == "stopped"
