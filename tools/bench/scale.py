"""Workers: `serve --workers 2` against `serve --workers 1`, as work done per CPU-second.

A Python process serves on one core; `serve --workers N` runs N of them on one port
(SO_REUSEPORT). On a machine of two cores, where the load generator needs part of one, two
workers cannot show their throughput; what this measures instead is what scaling out costs:
requests answered per CPU-second used by every server process (the supervisor and its
workers, from /proc), with 1 and with 2 workers. A ratio near 1 means the second worker does
as much with each CPU-second as the first: given a core of its own, it adds a worker's
throughput. For a health Check (no database) and for GetInvitation (while the example resource
is served), loaded by h2load over 8 connections (the kernel spreads connections, not calls,
over the workers), nothing pinned. Medians of ROUNDS interleaved runs of SECONDS.
"""

from __future__ import annotations

import asyncio
import statistics
import uuid
from dataclasses import dataclass

from tools.bench import (
    GET,
    ROUNDS,
    SECONDS,
    create_invitation,
    h2load,
    invitations_request,
    serves_invitations,
    skipped,
)
from tools.bench.launch import Running, service

HEALTH = "/grpc.health.v1.Health/Check"


@dataclass(frozen=True)
class Run:
    rps: float
    cpu_cores: float  # CPU-seconds of every server process per second of the run

    @property
    def per_cpu_second(self) -> float:
        return self.rps / self.cpu_cores


def _load(server: Running, method: str, message: bytes) -> Run:
    before = server.cpu_seconds(with_children=True)
    load = h2load.run(server.target, method, message, seconds=SECONDS, connections=8, streams=8)
    used = server.cpu_seconds(with_children=True) - before
    return Run(load.rps, used / load.seconds)


def main() -> None:
    from service.db.local import local_postgres
    from tools.schema import rebuild

    print(__doc__.split("\n\n")[0])
    if not h2load.ensure():
        skipped("workers: they need h2load")
        return
    invitations = serves_invitations()
    if not invitations:
        skipped("GetInvitation with 1 and 2 workers")
    runs: dict[tuple[str, int], list[Run]] = {}
    with local_postgres("service_bench") as url:
        rebuild(url)
        for turn in range(ROUNDS):
            for workers in (1, 2) if turn % 2 == 0 else (2, 1):
                serve = ("serve", "--workers", str(workers))
                with service(url, *serve, serving=workers) as server:
                    runs.setdefault(("health Check", workers), []).append(
                        _load(server, HEALTH, b"")
                    )
                    if invitations:
                        email = f"{uuid.uuid4().hex}@scale.test"
                        name = asyncio.run(create_invitation(server.target, email))
                        request = invitations_request("GetInvitationRequest", name=name)
                        runs.setdefault(("GetInvitation", workers), []).append(
                            _load(server, GET, request)
                        )
    print(f"  {'':<30} {'req/s':>8} {'server CPU':>11} {'req per CPU-second':>19}")
    for (what, workers), results in runs.items():
        rps = statistics.median(r.rps for r in results)
        cores = statistics.median(r.cpu_cores for r in results)
        per = statistics.median(r.per_cpu_second for r in results)
        print(f"  {f'{what}, {workers} worker(s)':<30} {rps:8.0f} {cores:10.2f}c {per:19.0f}")
    for what in ("health Check", "GetInvitation") if invitations else ("health Check",):
        one = statistics.median(r.per_cpu_second for r in runs[(what, 1)])
        two = statistics.median(r.per_cpu_second for r in runs[(what, 2)])
        print(f"  2 workers / 1 worker, work per CPU-second, {what:<14} {two / one:5.2f}x")
