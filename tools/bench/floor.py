"""The service's example RPCs against their floor: the same work with nothing else, same run.

Three servers, each its own process pinned to CPU 0: the bare grpc.aio echo server
(tools/bench/echo.py); the floor (tools/bench/minimal.py: GetInvitation, CreateInvitation and
ListInvitations on grpc.aio and asyncpg with the service's SQL, messages and pool, and no
interceptor, log or validation); and the service with every default on (`python -m service`:
the request interceptor with its limits, the access log at INFO as JSON into a pipe that is
drained, as a log collector would; metrics, auth and tracing are off unless configured).
The load generator is pinned to CPU 1: h2load (C) replaying one request for echo, Get and List,
and tools/bench/load.py (Python) for Create, whose every request needs an email of its own.
PostgreSQL, in its own processes, floats over both cores.

The database holds SEED invitations, so List returns a full page of 50 (and a next_page_token);
Get reads one of them; Create inserts new ones, and the table grows as it runs. Every design is
measured once per round, in an order rotated each round, for ROUNDS rounds of SECONDS a figure,
after one untimed warm-up run of each. Each column is the median of its rounds: requests/s,
p50 and p99 latency, the server's CPU time per request (utime + stime of the process, every
thread of it, from /proc, over the whole load), and the load generator's CPU share of its core:
near 100% would make it, not the server, the limit.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import statistics
import subprocess
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import grpc
from google.protobuf import json_format
from google.protobuf.wrappers_pb2 import StringValue

from tools.bench import (
    CREATE,
    ECHO,
    GET,
    INVITATIONS,
    ROUNDS,
    SECONDS,
    create_request,
    invitations_message,
    invitations_request,
    serves_invitations,
    skipped,
)
from tools.bench import h2load as h2
from tools.bench.launch import (
    ROOT,
    Running,
    echo_server,
    load_command,
    load_result,
    minimal_server,
    service,
)
from tools.bench.service import LOAD_CPU, SERVER_CPU

LIST = f"/{INVITATIONS}/ListInvitations"
SEED = 200  # invitations in the table before the first figure
PAGE_SIZE = 50
NEAR_ITS_LIMIT = 0.9  # a load generator this busy may be what limits the figure
CONCURRENCY = 16  # calls in flight, over one HTTP/2 connection, as one client channel makes them


@dataclass(frozen=True)
class Figure:
    label: str
    server: str  # "echo", "floor" or "service"
    method: str
    kind: str  # tools/bench/load.py's request kind: echo, get, create or list


@dataclass(frozen=True)
class Result:
    rps: float
    p50_ms: float
    p99_ms: float
    us_per_request: float
    load_cpu: float


FIGURES = [
    Figure("echo (bare grpc.aio)", "echo", ECHO, "echo"),
    Figure("floor GetInvitation", "floor", GET, "get"),
    Figure("floor CreateInvitation", "floor", CREATE, "create"),
    Figure(f"floor ListInvitations ({PAGE_SIZE})", "floor", LIST, "list"),
    Figure("service GetInvitation", "service", GET, "get"),
    Figure("service CreateInvitation", "service", CREATE, "create"),
    Figure(f"service ListInvitations ({PAGE_SIZE})", "service", LIST, "list"),
]


def _h2load_request(figure: Figure, name: str) -> bytes | None:
    """The one request h2load replays for `figure`; None where every request must differ."""
    if figure.kind == "echo":  # the bytes of a GetInvitationRequest, as load.py's echo sends
        return StringValue(value=name).SerializeToString()
    if figure.kind == "get":
        return invitations_request("GetInvitationRequest", name=name)
    if figure.kind == "list":
        return invitations_request("ListInvitationsRequest", page_size=PAGE_SIZE)
    return None


def _measure(server: Running, figure: Figure, name: str, seconds: float, fast: bool) -> Result:
    """One figure: the load on CPU 1 for `seconds`, h2load where `fast` and it can."""
    before = server.cpu_seconds()
    request = _h2load_request(figure, name) if fast else None
    if request is not None:
        load = h2.run(
            server.target,
            figure.method,
            request,
            seconds=seconds,
            connections=1,
            streams=CONCURRENCY,
            cpu=LOAD_CPU,
        )
        rps, p50, p99, load_cpu = load.rps, load.p50_ms, load.p99_ms, load.cpu_share
        answered = load.requests + 1  # and the call that checked the response
    else:
        options = ["--cpu", str(LOAD_CPU), "--name", name]
        command = load_command(
            server.target,
            figure.method,
            figure.kind,
            *options,
            concurrency=CONCURRENCY,
            seconds=seconds,
        )
        output = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=True)
        data = load_result(figure.method, output.stdout)
        rps, p50, p99, load_cpu = data["rps"], data["p50_ms"], data["p99_ms"], data["cpu_share"]
        answered = int(data["calls"]) + 1  # and its warm-up call
    used = server.cpu_seconds() - before
    return Result(rps, p50, p99, used / answered * 1e6, load_cpu)


async def _seed(target: str, count: int) -> str:
    """`count` invitations made through the service's API; the name of the first."""
    invitation = invitations_message("Invitation")
    raw: Callable[[bytes], bytes] = bytes
    prefix = uuid.uuid4().hex[:10]
    names = []
    async with grpc.aio.insecure_channel(target) as channel:
        create = channel.unary_unary(
            CREATE, request_serializer=raw, response_deserializer=invitation.FromString
        )
        for n in range(count):
            created = await create(create_request(f"{prefix}-{n}@seed.test"), timeout=10)
            names.append(str(json_format.MessageToDict(created)["name"]))
    return names[0]


def _median(runs: list[Result]) -> Result:
    """Each column's median over the rounds."""
    return Result(
        *(
            statistics.median(getattr(run, field) for run in runs)
            for field in Result.__dataclass_fields__
        )
    )


def main() -> None:
    from service.db.local import local_postgres
    from tools.schema import rebuild

    print(__doc__.split("\n\n")[0])
    fast = h2.ensure()
    if not fast:
        print("  every figure uses the Python load generator (tools/bench/load.py): watch its CPU")
    print(
        f"  ({SECONDS:g} s a figure, rounds: {ROUNDS}; server on CPU {SERVER_CPU}, load on CPU "
        f"{LOAD_CPU}; {CONCURRENCY} calls in flight on one connection)"
    )
    invitations = serves_invitations()
    figures = FIGURES if invitations else FIGURES[:1]
    if not invitations:
        skipped("the floor and the service's GetInvitation, CreateInvitation, ListInvitations")
    # Both sign page tokens with one key, so their List answers are the same bytes.
    env = {"PAGE_TOKEN_KEY": secrets.token_urlsafe(32)}
    results: dict[str, list[Result]] = {}
    with local_postgres("service_bench") as url:
        rebuild(url)
        with contextlib.ExitStack() as stack:
            servers = {"echo": stack.enter_context(echo_server(cpu=SERVER_CPU))}
            name = "invitations/00000000-0000-0000-0000-000000000000"
            if invitations:
                servers["floor"] = stack.enter_context(minimal_server(url, SERVER_CPU, env))
                servers["service"] = stack.enter_context(service(url, cpu=SERVER_CPU, env=env))
                name = asyncio.run(_seed(servers["service"].target, SEED))
            for figure in figures:  # warm-up: pools filled, code paths run once
                _measure(servers[figure.server], figure, name, min(SECONDS, 1.0), fast)
            for turn in range(ROUNDS):
                shift = turn % len(figures)
                for figure in figures[shift:] + figures[:shift]:
                    result = _measure(servers[figure.server], figure, name, SECONDS, fast)
                    results.setdefault(figure.label, []).append(result)
    generator = {True: "h2load", False: "load.py"}
    print(
        f"  {'':<30} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'server us/req':>14}  "
        "load generator CPU"
    )
    medians = {figure.label: _median(results[figure.label]) for figure in figures}
    for figure in figures:
        result = medians[figure.label]
        by = generator[fast and _h2load_request(figure, name) is not None]
        warning = " near its limit: understated" if result.load_cpu >= NEAR_ITS_LIMIT else ""
        print(
            f"  {figure.label:<30} {result.rps:8.0f} {result.p50_ms:7.2f} {result.p99_ms:7.2f} "
            f"{result.us_per_request:14.0f}  {result.load_cpu:4.0%} ({by}){warning}"
        )
    if not invitations:
        return
    print("service / floor (same run):        req/s   server us/req")
    for method in ("GetInvitation", "CreateInvitation", f"ListInvitations ({PAGE_SIZE})"):
        ours, floor = medians[f"service {method}"], medians[f"floor {method}"]
        rps, cost = ours.rps / floor.rps, ours.us_per_request / floor.us_per_request
        print(f"  {method:<30} {rps:7.2f}x {cost:9.2f}x")
