"""The worst days: the database goes away under load, and a shutdown with hundreds of RPCs."""

from __future__ import annotations

import asyncio
import signal
import time
import urllib.request
import uuid
from collections.abc import Iterator

import asyncpg
import grpc
import pytest

from generated.invitations.v1.invitations_enums import Role
from service import healthcheck
from service.db import migrations
from service.invitations.client import InvitationsClient
from tests.support import ServerProcess
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
    server = ServerProcess(postgres.url, grace_period_seconds="5").start()
    outcomes: list[tuple[str, Code]] = []
    seen_health: list[str] = []

    async def load(stop_at: float) -> None:
        async with InvitationsClient(server.target, timeout=1.0) as client:

            async def worker() -> None:
                while time.monotonic() < stop_at:
                    email = f"{uuid.uuid4().hex}@outage.test"
                    try:
                        await client.create(email, Role.VIEWER)
                        outcomes.append((email, Code.OK))
                    except grpc.aio.AioRpcError as error:
                        outcomes.append((email, error.code()))
                        await asyncio.sleep(0.05)

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
    acknowledged = {email for email, code in outcomes if code is Code.OK}
    stored = asyncio.run(_emails(postgres.url))
    assert acknowledged <= stored, f"{len(acknowledged - stored)} acknowledged writes are missing"
    after = [code for _, code in outcomes[-20:]]
    assert Code.OK in after  # serving writes again by the end of the load


async def _emails(url: str) -> set[str]:
    connection = await asyncpg.connect(url)
    try:
        rows = await connection.fetch("SELECT email FROM invitations")
    finally:
        await connection.close()
    return {row[0] for row in rows}


def test_sigterm_with_hundreds_of_rpcs_in_flight_fails_none(postgres: TcpPostgres) -> None:
    metrics_port = free_port()
    server = ServerProcess(
        postgres.url, grace_period_seconds="30", metrics_port=str(metrics_port)
    ).start()
    count = 500

    def in_flight() -> float:
        with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5) as r:
            for line in r.read().decode().splitlines():
                if line.startswith("grpc_server_in_flight "):
                    return float(line.split()[1])
        return 0.0

    async def scenario() -> list[Code]:
        async with InvitationsClient(server.target, timeout=60) as client:
            created = await client.create(f"{uuid.uuid4().hex}@busy.test", Role.VIEWER)
            id = uuid.UUID(created.name.removeprefix("invitations/"))
            lock = await asyncpg.connect(postgres.url)
            transaction = lock.transaction()
            await transaction.start()
            await lock.execute("SELECT 1 FROM invitations WHERE id = $1 FOR UPDATE", id)

            async def update(n: int) -> Code:
                try:
                    await client.update(created.name, role=Role.EDITOR if n % 2 else Role.ADMIN)
                except grpc.aio.AioRpcError as error:
                    return error.code()
                return Code.OK

            calls = [asyncio.ensure_future(update(n)) for n in range(count)]
            deadline = time.monotonic() + 30
            while await asyncio.to_thread(in_flight) < count:  # every one waits on the lock
                assert time.monotonic() < deadline, "the RPCs never all arrived"
                await asyncio.sleep(0.1)
            server.process.send_signal(signal.SIGTERM)
            await asyncio.to_thread(server.wait_for, "shutting down")
            await asyncio.sleep(0.5)
            await transaction.rollback()  # let them through
            await lock.close()
            return list(await asyncio.gather(*calls))

    codes = asyncio.run(scenario())
    assert server.process.wait(60) == 0
    assert codes == [Code.OK] * count
    assert server.logs[-1]["message"] == "stopped"
