"""Scale-out and the cost of the production interceptor features, measured side by side.

1. `serve --workers 1` against `serve --workers 2` on this 2-core machine, for a no-database
   RPC (grpc.health.v1 Check) and for GetInvitation (while the example resource is served),
   loaded by h2load over 8 connections (or two Python load generators without it). The load
   generator shares the machine with the servers: its CPU share is printed, since every core
   it uses is one the servers do not get.
   Target (issue 6): >= 1.6x with 2 workers on the no-database RPC.
2. The request interceptor with metrics and JWT auth on, against the same interceptor without
   them, on the echo server. Target: together <= 5%.

Figures are medians of ROUNDS interleaved runs.
"""

from __future__ import annotations

import asyncio
import statistics
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

from tools.bench import (
    ECHO,
    GET,
    ROUNDS,
    SECONDS,
    create_invitation,
    h2load,
    invitations_request,
    serves_invitations,
    skipped,
)
from tools.bench.launch import ROOT, echo_server, load_command, load_result, service
from tools.bench.service import SERVER_CPU

HEALTH = "/grpc.health.v1.Health/Check"


def _h2load(target: str, method: str, message: bytes) -> tuple[float, float]:
    """h2load replaying one gRPC request over 8 connections, so SO_REUSEPORT can spread them:
    (req/s, its CPU share of one core)."""
    load = h2load.run(target, method, message, seconds=SECONDS, connections=8, streams=8)
    return load.rps, load.cpu_share


def _loads(
    target: str, method: str, kind: str, *args: str, processes: int = 2
) -> tuple[float, float]:
    """`processes` load generators at once: (total req/s, their total CPU share of one core)."""
    command = load_command(target, method, kind, *args, concurrency=16)
    running = [
        subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)
        for _ in range(processes)
    ]
    results = [load_result(method, p.communicate()[0]) for p in running]
    return sum(r["rps"] for r in results), sum(r["cpu_share"] for r in results)


def _keys(folder: Path) -> tuple[Path, str]:
    """A public key file for the server and a token signed by its private key."""
    import jwt
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = folder / "public.pem"
    public.write_bytes(
        private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    claims = {"sub": "bench", "scope": "bench", "exp": int(time.time()) + 3600}
    return public, jwt.encode(claims, private, algorithm="RS256")


def main() -> None:
    from service.db.local import local_postgres
    from tools.schema import rebuild

    print(__doc__.split("\n\n")[0])
    results: dict[str, list[tuple[float, float]]] = {}
    invitations = serves_invitations()
    if not invitations:
        skipped("GetInvitation with 1 and 2 workers")
    with local_postgres("service_bench") as url:
        rebuild(url)
        fast = h2load.ensure()
        if not fast:
            print("  using Python load generators, which take most of a core themselves here")
        for _ in range(ROUNDS):
            for workers in (1, 2):
                serve = ("serve", "--workers", str(workers))
                with service(url, *serve, serving=workers) as server:
                    if fast:
                        health = _h2load(server.target, HEALTH, b"")
                    else:
                        health = _loads(server.target, HEALTH, "health")
                    results.setdefault(f"health, {workers} worker(s)", []).append(health)
                    if invitations:
                        get_load = _get_invitation(server.target, fast)
                        results.setdefault(f"GetInvitation, {workers} worker(s)", []).append(
                            get_load
                        )
    with tempfile.TemporaryDirectory() as folder:
        public, token = _keys(Path(folder))
        with (
            echo_server("--interceptor", cpu=SERVER_CPU) as plain,
            echo_server(
                "--interceptor", "--metrics", "--auth", str(public), cpu=SERVER_CPU
            ) as full,
        ):
            for _ in range(ROUNDS):
                results.setdefault("echo + interceptor", []).append(
                    _loads(plain.target, ECHO, "echo", processes=1)
                )
                results.setdefault("echo + interceptor + metrics + auth", []).append(
                    _loads(full.target, ECHO, "echo", "--token", token, processes=1)
                )
    medians = {
        label: (statistics.median(r for r, _ in runs), statistics.median(c for _, c in runs))
        for label, runs in results.items()
    }
    for label, (rps, cpu) in medians.items():
        print(f"  {label:<38} {rps:8.0f} req/s   load generators' CPU {cpu:4.0%} of a core")
    for kind in ("health", "GetInvitation") if invitations else ("health",):
        ratio = medians[f"{kind}, 2 worker(s)"][0] / medians[f"{kind}, 1 worker(s)"][0]
        target = " (target >= 1.6x)" if kind == "health" else ""
        print(f"  2 workers / 1 worker, {kind:<16} {ratio:5.2f}x{target}")
    cost = 1 - medians["echo + interceptor + metrics + auth"][0] / medians["echo + interceptor"][0]
    print(f"  metrics + auth cost on the echo server  {cost:5.1%} (target <= 5%)")


def _get_invitation(target: str, fast: bool) -> tuple[float, float]:
    """GetInvitation of one invitation made here, under load."""
    name = asyncio.run(create_invitation(target, f"{uuid.uuid4().hex}@scale.test"))
    if fast:
        return _h2load(target, GET, invitations_request("GetInvitationRequest", name=name))
    return _loads(target, GET, "get", "--name", name)
