"""The service against its floor, and what each layer costs, measured side by side in one run.

Every server is its own process pinned to CPU 0, and the load generator is pinned to CPU 1:
h2load (C) replaying one request, and tools/bench/load.py (Python) for CreateInvitation, whose
every request needs an email of its own. PostgreSQL, in its own processes, floats over both.

  echo                     a bare grpc.aio server returning its request (tools/bench/echo.py):
                           what any RPC costs before it does any work (sent the same bearer
                           token as the next, which it ignores)
  echo + interceptor       the same, behind the service's request interceptor with JWT auth
                           (h2load sends a bearer token) and metrics on
  echo + SELECT 1          the bare echo making one pooled database round trip
  floor                    GetInvitation, CreateInvitation and ListInvitations (a page of 50)
                           on grpc.aio and asyncpg alone: the service's SQL, messages and pool,
                           no interceptor, log or validation (tools/bench/minimal.py)
  service                  `python -m service` with every default on: the interceptor with its
                           limits, the access log at INFO as JSON into a pipe that is drained,
                           as a log collector would; metrics, auth and tracing are off unless
                           configured

The database holds SEED invitations, so List returns a full page (and a next_page_token); Get
reads one of them; Create inserts new ones. Each figure is measured once per round, in an order
rotated each round, for ROUNDS rounds of SECONDS, after an untimed warm-up of each. A column is
the median over the rounds: requests/s, p50 and p99 latency, the server's CPU time per request
(utime + stime of every thread of its process, from /proc), and the load generator's CPU share
of its core (near 100% would make it, not the server, the limit). A ratio is the median of the
rounds' ratios, each of two figures taken minutes apart at most: this machine's speed drifts by
10-20% over a run, and a ratio within a round does not.

Last, the cold start: `python -m service` (DATABASE_URL set, so no local database to start) from
its process start to health SERVING, five times.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import statistics
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

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
    LOAD_CPU,
    ROOT,
    SERVER_CPU,
    Running,
    echo_server,
    jwt_keys,
    load_command,
    load_result,
    minimal_server,
    service,
)

LIST = f"/{INVITATIONS}/ListInvitations"
SEED = 200  # invitations in the table before the first figure
PAGE_SIZE = 50
NEAR_ITS_LIMIT = 0.9  # a load generator this busy may be what limits the figure
CONCURRENCY = 16  # calls in flight, over one HTTP/2 connection, as one client channel makes them


@dataclass(frozen=True)
class Figure:
    label: str
    server: str  # a key of the servers main() starts
    method: str
    kind: str  # tools/bench/load.py's request kind: echo, get, create or list


@dataclass(frozen=True)
class Result:
    rps: float
    p50_ms: float
    p99_ms: float
    us_per_request: float
    load_cpu: float


ECHO_FIGURES = [
    Figure("echo (bare grpc.aio)", "echo", ECHO, "echo"),
    Figure("echo + interceptor, auth, metrics", "intercepted", ECHO, "echo"),
    Figure("echo + SELECT 1", "select", ECHO, "echo"),
]
METHODS = ("GetInvitation", "CreateInvitation", f"ListInvitations ({PAGE_SIZE})")
RESOURCE_FIGURES = [
    Figure(f"{server} {method}", server, path, kind)
    for server in ("floor", "service")
    for method, path, kind in zip(
        METHODS, (GET, CREATE, LIST), ("get", "create", "list"), strict=True
    )
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


def _measure(
    server: Running, figure: Figure, name: str, seconds: float, *, fast: bool, token: str = ""
) -> Result:
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
            metadata=[("authorization", f"Bearer {token}")] if token else [],
        )
        rps, p50, p99, load_cpu = load.rps, load.p50_ms, load.p99_ms, load.cpu_share
        answered = load.requests + 1  # and the call that checked the response
    else:
        options = ["--cpu", str(LOAD_CPU), "--name", name] + (["--token", token] if token else [])
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


async def seed(target: str, count: int) -> str:
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


def _ratios(ours: list[Result], theirs: list[Result], field: str) -> list[float]:
    """Each round's ours / theirs, the pair taken side by side."""
    return [getattr(a, field) / getattr(b, field) for a, b in zip(ours, theirs, strict=True)]


def _ratio(ours: list[Result], theirs: list[Result], field: str) -> str:
    """The median of the rounds' ratios; for req/s, with their range, so the noise shows."""
    ratios = _ratios(ours, theirs, field)
    median = f"{statistics.median(ratios):5.2f}x"
    if field != "rps":
        return median
    return f"{median} ({min(ratios):.2f}-{max(ratios):.2f})"


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
    figures = ECHO_FIGURES + (RESOURCE_FIGURES if invitations else [])
    if not invitations:
        skipped("the floor and the service's GetInvitation, CreateInvitation, ListInvitations")
    # Both sign page tokens with one key, so their List answers are the same bytes.
    env = {"PAGE_TOKEN_KEY": secrets.token_urlsafe(32)}
    results: dict[str, list[Result]] = {}
    with (
        local_postgres("service_bench") as url,
        tempfile.TemporaryDirectory() as folder,
        contextlib.ExitStack() as stack,
    ):
        rebuild(url)
        public_key, token = jwt_keys(Path(folder))
        auth = ("--interceptor", "--metrics", "--auth", str(public_key))
        servers = {
            "echo": stack.enter_context(echo_server(cpu=SERVER_CPU)),
            "intercepted": stack.enter_context(echo_server(*auth, cpu=SERVER_CPU)),
            "select": stack.enter_context(echo_server("--database", url, cpu=SERVER_CPU)),
        }
        name = "invitations/00000000-0000-0000-0000-000000000000"
        if invitations:
            servers["floor"] = stack.enter_context(minimal_server(url, SERVER_CPU, env))
            servers["service"] = stack.enter_context(service(url, cpu=SERVER_CPU, env=env))
            name = asyncio.run(seed(servers["service"].target, SEED))

        def measure(figure: Figure, seconds: float) -> Result:
            # The bare echo gets the same request as the intercepted one, bearer token included:
            # grpc's own work on a header of 700 bytes is the client's cost, not the interceptor's.
            sent = token if figure.server in ("echo", "intercepted") else ""
            return _measure(servers[figure.server], figure, name, seconds, fast=fast, token=sent)

        for figure in figures:  # warm-up: pools filled, code paths run once
            measure(figure, min(SECONDS, 1.0))
        for turn in range(ROUNDS):
            shift = turn % len(figures)
            for figure in figures[shift:] + figures[:shift]:
                results.setdefault(figure.label, []).append(measure(figure, SECONDS))
        stack.close()
        cold = _cold_start(url)

    generator = {True: "h2load", False: "load.py"}
    print(
        f"  {'':<34} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'server us/req':>14}  "
        "load generator CPU"
    )
    for figure in figures:
        result = _median(results[figure.label])
        by = generator[fast and _h2load_request(figure, name) is not None]
        warning = " near its limit: understated" if result.load_cpu >= NEAR_ITS_LIMIT else ""
        print(
            f"  {figure.label:<34} {result.rps:8.0f} {result.p50_ms:7.2f} {result.p99_ms:7.2f} "
            f"{result.us_per_request:14.0f}  {result.load_cpu:4.0%} ({by}){warning}"
        )
    echo = results["echo (bare grpc.aio)"]
    print("ratios (medians of each round's ratio):   req/s (rounds' range)  server us/req")
    for label, of in (
        ("echo + interceptor, auth, metrics", "echo"),
        ("echo + SELECT 1", "echo"),
    ):
        print(
            f"  {label + ' / ' + of:<40} {_ratio(results[label], echo, 'rps'):<19}"
            f"{_ratio(results[label], echo, 'us_per_request'):>11}"
        )
    for method in METHODS if invitations else ():
        ours, floor = results[f"service {method}"], results[f"floor {method}"]
        print(
            f"  {'service / floor, ' + method:<40} {_ratio(ours, floor, 'rps'):<19}"
            f"{_ratio(ours, floor, 'us_per_request'):>11}"
        )
    print(
        f"  cold start, python -m service to SERVING: median {statistics.median(cold):.2f} s "
        f"(min {min(cold):.2f}, max {max(cold):.2f}, n={len(cold)})"
    )
