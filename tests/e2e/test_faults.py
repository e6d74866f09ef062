"""The worst days: the database goes away under load, and a shutdown with hundreds of RPCs.

Through the test probe resource (tests/probe_resource.py), so this holds for any resource.
"""

from __future__ import annotations

import asyncio
import time
import urllib.request
from collections.abc import Iterator

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
    unique_mark,
    until_refusing_new_rpcs,
)
from tools.postgres import TcpPostgres
from tools.probe import free_port

Code = grpc.StatusCode
ALLOWED_DURING_OUTAGE = {Code.OK, Code.UNAVAILABLE, Code.DEADLINE_EXCEEDED}


@pytest.fixture
def postgres() -> Iterator[TcpPostgres]:
    with TcpPostgres() as database:
        migrations.upgrade(database.url)
        yield database


def health(target: str) -> str:
    return healthcheck.check(target, timeout=0.5)


def test_a_database_outage_under_load_fails_fast_and_heals(postgres: TcpPostgres) -> None:
    server = ServerProcess(postgres.url, module=PROBE_SERVER, grace_period_seconds="5").start()
    outcomes: list[tuple[str, Code]] = []
    seen_health: list[str] = []

    async def load(stop_at: float) -> None:
        async with ProbeClient(server.target, timeout=1.0) as client:

            async def worker() -> None:
                while time.monotonic() < stop_at:
                    mark = unique_mark()
                    try:
                        await client.create_mark(mark)
                        outcomes.append((mark, Code.OK))
                    except grpc.aio.AioRpcError as error:
                        outcomes.append((mark, error.code()))
                        await asyncio.sleep(0.05)  # a client's back-off, not a wait

            await asyncio.gather(*(worker() for _ in range(8)))

    async def outage() -> float | None:
        """Stop PostgreSQL for 2 s; return how long after its return the server was SERVING."""
        await asyncio.sleep(1.0)
        await asyncio.to_thread(postgres.stop)
        for _ in range(20):
            seen_health.append(await asyncio.to_thread(health, server.target))
            await asyncio.sleep(0.1)
        await asyncio.to_thread(postgres.start)
        back = time.monotonic()
        while time.monotonic() < back + 10:
            if await asyncio.to_thread(health, server.target) == "SERVING":
                return time.monotonic() - back
            await asyncio.sleep(0.05)
        return None

    async def scenario() -> float | None:
        stop_at = time.monotonic() + 7.0
        recovered, _ = await asyncio.gather(outage(), load(stop_at))
        return recovered

    try:
        recovered = asyncio.run(scenario())
    finally:
        server.stop_cleanly()

    codes = {code for _, code in outcomes}
    errors = [e.get("exception", "")[-600:] for e in server.logs if e.get("level") == "ERROR"]
    assert codes <= ALLOWED_DURING_OUTAGE, (codes, errors)
    assert Code.UNAVAILABLE in codes or Code.DEADLINE_EXCEEDED in codes  # the outage was felt
    assert "NOT_SERVING" in seen_health
    assert recovered is not None
    log = [(e.get("time"), e.get("message")) for e in server.logs if e.get("message") != "rpc"]
    assert recovered <= 2.0, f"serving again {recovered:.2f} s after the database returned: {log}"
    acknowledged = {mark for mark, code in outcomes if code is Code.OK}
    stored = asyncio.run(marks(postgres.url))
    assert acknowledged <= stored, f"{len(acknowledged - stored)} acknowledged writes are missing"
    after = [code for _, code in outcomes[-20:]]
    assert Code.OK in after  # serving writes again by the end of the load


def test_sigterm_with_hundreds_of_rpcs_in_flight_fails_none(postgres: TcpPostgres) -> None:
    metrics_port = free_port()
    server = ServerProcess(
        postgres.url,
        module=PROBE_SERVER,
        grace_period_seconds="30",
        metrics_port=str(metrics_port),
        max_calls_per_connection="1000",  # all 500 on the client's one connection
    ).start()
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
            deadline = time.monotonic() + 30
            while await asyncio.to_thread(in_flight) < count:
                assert time.monotonic() < deadline, "the RPCs never all arrived"
                await asyncio.sleep(0.1)
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
