"""The service's speed, as ratios to a bare grpc.aio echo server measured in the same run.

Every server under test runs as its own process pinned to CPU 0; the load generator
(tools/bench/load.py, a separate process) is pinned to CPU 1; PostgreSQL (the local development
server, in its own processes) floats. Each figure is requests/s with p50/p99 latency, plus the
CPU share of the server and of the load generator: a server near 100% is the limit being
measured, a load generator near 100% would be a limit of the measurement.

Targets (the project's issue 3), at concurrency 16: GetInvitation >= 0.7x echo,
CreateInvitation >= 0.6x echo, the request interceptor alone <= 10% of echo's throughput,
and a cold start (process start -> health SERVING, database up) <= 1 s median. The
GetInvitation and CreateInvitation figures need the example resource, and are skipped without.
"""

from __future__ import annotations

import asyncio
import contextlib
import statistics
import subprocess
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from service.db.database import asyncpg_dsn
from tools.bench import (
    CREATE,
    ECHO,
    GET,
    ROUNDS,
    SECONDS,
    create_invitation,
    invitations_statements,
    serves_invitations,
    skipped,
)
from tools.bench.launch import ROOT, Running, echo_server, load_command, load_result, service

SERVER_CPU, LOAD_CPU = 0, 1


@dataclass
class Result:
    rps: float
    p50_ms: float
    p99_ms: float
    server_cpu: float
    load_cpu: float

    def row(self, label: str) -> str:
        return (
            f"  {label:<34} {self.rps:8.0f} req/s  p50 {self.p50_ms:6.2f} ms  "
            f"p99 {self.p99_ms:6.2f} ms  server CPU {self.server_cpu:4.0%}  "
            f"load CPU {self.load_cpu:4.0%}"
        )


def _load(server: Running, method: str, kind: str, *, concurrency: int, name: str = "") -> Result:
    """The load generator on CPU 1 calling `server`, and the CPU share the server used."""
    options = ["--cpu", str(LOAD_CPU)] + (["--name", name] if name else [])
    before, started = server.cpu_seconds(), time.perf_counter()
    output = subprocess.run(
        load_command(server.target, method, kind, *options, concurrency=concurrency),
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    server_cpu = (server.cpu_seconds() - before) / (time.perf_counter() - started)
    data = load_result(method, output)
    return Result(data["rps"], data["p50_ms"], data["p99_ms"], server_cpu, data["cpu_share"])


def _median(runs: list[Result]) -> Result:
    """The run with the median throughput (a real run, so its latencies and CPU match)."""
    return sorted(runs, key=lambda r: r.rps)[len(runs) // 2]


def _order(label: str) -> tuple[int, int]:
    kinds = ["echo c", "echo +", "GetInvitation", "CreateInvitation"]
    kind = next(i for i, k in enumerate(kinds) if label.startswith(k))
    return kind, int(label.rsplit("=", 1)[1])


def _cold_start(database_url: str, runs: int = 5) -> list[float]:
    """Seconds from starting `python -m service` (not pinned) to its health check SERVING."""
    from tools import probe

    samples = []
    for _ in range(runs):
        with service(database_url, serving=0) as server:
            started = time.perf_counter()
            while not probe.serving(server.target):
                server.check()
                time.sleep(0.002)
            samples.append(time.perf_counter() - started)
    return samples


async def _raw_driver(database_url: str, name: str, concurrency: int = 16) -> tuple[float, float]:
    """asyncpg alone running the service's two statements in a loop: (gets/s, creates/s)."""
    import asyncpg

    get_sql, create_sql = invitations_statements()
    pool = await asyncpg.create_pool(
        asyncpg_dsn(database_url), min_size=concurrency, max_size=concurrency
    )
    id = uuid.UUID(name.removeprefix("invitations/"))

    async def get(connection: asyncpg.Connection) -> None:
        await connection.fetchrow(get_sql, id)

    async def create(connection: asyncpg.Connection) -> None:
        email = f"{uuid.uuid4().hex}@raw.test"
        await connection.fetchrow(create_sql, uuid.uuid4(), email, "VIEWER", "PENDING", None)

    rates = []
    for statement in (get, create):
        count = 0
        stop_at = time.perf_counter() + SECONDS

        async def worker(statement: Callable[..., Awaitable[None]], stop_at: float) -> None:
            nonlocal count
            while time.perf_counter() < stop_at:
                async with pool.acquire() as connection:
                    await statement(connection)
                count += 1

        started = time.perf_counter()
        await asyncio.gather(*(worker(statement, stop_at) for _ in range(concurrency)))
        rates.append(count / (time.perf_counter() - started))
    await pool.close()
    return rates[0], rates[1]


def main() -> None:
    from service.db.local import local_postgres
    from tools.schema import rebuild  # the same schema set-up the tests use

    print(__doc__.split("\n\n")[0])
    print(f"  ({SECONDS:.0f} s a figure; server on CPU {SERVER_CPU}, load on CPU {LOAD_CPU})")
    invitations = serves_invitations()
    with local_postgres("service_bench") as url:
        rebuild(url)
        results: dict[str, list[Result]] = {}

        def measure(label: str, *args: Any, **kwargs: Any) -> None:
            results.setdefault(label, []).append(_load(*args, **kwargs))

        with contextlib.ExitStack() as servers:
            bare = servers.enter_context(echo_server(cpu=SERVER_CPU))
            intercepted = servers.enter_context(echo_server("--interceptor", cpu=SERVER_CPU))
            with_select = servers.enter_context(echo_server("--database", url, cpu=SERVER_CPU))
            served = servers.enter_context(service(url, cpu=SERVER_CPU)) if invitations else None
            name = (
                asyncio.run(create_invitation(served.target, f"{uuid.uuid4().hex}@bench.test"))
                if served
                else ""
            )

            def measure_invitations(c: int) -> None:
                if served is not None:
                    measure(f"GetInvitation c={c}", served, GET, "get", concurrency=c, name=name)
                    measure(f"CreateInvitation c={c}", served, CREATE, "create", concurrency=c)

            for c in (1, 64):
                measure(f"echo c={c}", bare, ECHO, "echo", concurrency=c)
                measure_invitations(c)
            # The figures the ratios use, interleaved ROUNDS times: this machine's speed drifts
            # by 10-20% from one figure to the next, and the medians of interleaved runs hold.
            for _ in range(ROUNDS):
                measure("echo c=16", bare, ECHO, "echo", concurrency=16)
                measure("echo + interceptor c=16", intercepted, ECHO, "echo", concurrency=16)
                measure("echo + SELECT 1 c=16", with_select, ECHO, "echo", concurrency=16)
                measure_invitations(16)
        raw = asyncio.run(_raw_driver(url, name)) if invitations else None
        cold = _cold_start(url)

    medians = {label: _median(runs) for label, runs in results.items()}
    for label, result in sorted(medians.items(), key=lambda item: _order(item[0])):
        print(result.row(label))
    if raw is not None:
        print(f"  {'raw asyncpg, Get statement c=16':<34} {raw[0]:8.0f} req/s")
        print(f"  {'raw asyncpg, Create statement c=16':<34} {raw[1]:8.0f} req/s")
    echo = medians["echo c=16"].rps
    print("ratios at c=16 (same run):")
    if invitations:
        for method, goal in (("GetInvitation", 0.7), ("CreateInvitation", 0.6)):
            ratio = medians[f"{method} c=16"].rps / echo
            print(f"  {method + ' / echo':<24} {ratio:5.2f}x  (target >= {goal:.2f}x)")
    else:
        skipped("GetInvitation and CreateInvitation, and their ratios to echo")
    floor = medians["echo + SELECT 1 c=16"].rps / echo
    print(f"  {'echo + SELECT 1 / echo':<24} {floor:5.2f}x  (one pooled round trip, nothing else)")
    cost = 1 - medians["echo + interceptor c=16"].rps / echo
    print(f"  interceptor cost         {cost:5.1%}   (target <= 10%)")
    print(
        f"  cold start to SERVING    median {statistics.median(cold) * 1000:.0f} ms "
        f"(min {min(cold) * 1000:.0f}, max {max(cold) * 1000:.0f}, n={len(cold)}; target <= 1 s)"
    )
