"""Running it: metrics, several worker processes on one port, and bad input in bulk."""

from __future__ import annotations

import asyncio
import contextlib
import random
import re
import urllib.request
import uuid

import grpc

from generated.invitations.v1 import invitations_pb2 as pb
from generated.invitations.v1.invitations_enums import Role
from service.invitations.client import InvitationsClient
from tests.support import ServerProcess
from tools.probe import free_port

METHODS = [
    "CreateInvitation",
    "GetInvitation",
    "ListInvitations",
    "UpdateInvitation",
    "DeleteInvitation",
    "AcceptInvitation",
    "DeclineInvitation",
]


def scrape(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        return str(response.read().decode())


def sample(text: str, name: str, **labels: str) -> float:
    """The value of one sample in Prometheus text format (labels in any order)."""
    for line in text.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', line.split(" ")[0]))
        if found == labels:
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"no {name}{labels} in:\n{text}")


async def test_metrics_count_rpcs_by_method_and_code(database_url: str) -> None:
    metrics_port = free_port()
    server = ServerProcess(database_url, metrics_port=str(metrics_port)).start()
    try:
        async with InvitationsClient(server.target) as client:
            for _ in range(3):
                await client.create(f"{uuid.uuid4().hex}@metrics.test", Role.VIEWER)
            with contextlib.suppress(grpc.aio.AioRpcError):
                await client.get(f"invitations/{uuid.uuid4()}")
        text = scrape(metrics_port)
    finally:
        server.stop_cleanly()

    create = "/invitations.v1.InvitationService/CreateInvitation"
    get = "/invitations.v1.InvitationService/GetInvitation"
    assert sample(text, "grpc_server_handled_total", grpc_method=create, grpc_code="OK") == 3
    assert sample(text, "grpc_server_handled_total", grpc_method=get, grpc_code="NOT_FOUND") == 1
    assert sample(text, "grpc_server_handling_seconds_count", grpc_method=create) == 3
    assert sample(text, "grpc_server_in_flight") == 0
    assert sample(text, "db_pool_connections", state="idle") >= 1
    assert sample(text, "db_pool_connections", state="in_use") == 0


async def test_workers_share_one_port_and_stop_together(database_url: str) -> None:
    port = free_port()
    server = ServerProcess(database_url, args=("--workers", "2"), port=str(port))
    server.wait_for("workers started")
    server.wait_for("serving")
    server.wait_for("serving")  # both workers
    server.port = port
    async with InvitationsClient(server.target) as client:
        created = await asyncio.gather(
            *(client.create(f"{uuid.uuid4().hex}@workers.test", Role.VIEWER) for _ in range(20))
        )
    assert len({c.name for c in created}) == 20
    assert server.stop() == 0
    assert sum(entry.get("message") == "stopped" for entry in server.logs) == 2
    assert server.logs[-1]["message"] == "workers stopped"


async def test_workers_refuse_a_port_that_is_already_held(
    server: ServerProcess, database_url: str
) -> None:
    other = ServerProcess(database_url, args=("--workers", "2"), port=str(server.port))
    assert other.process.wait(30) == 1
    assert any("is in use" in entry.get("message", "") for entry in other.logs), other.logs


def malformed_bodies(count: int, seed: int = 20261128) -> list[bytes]:
    """Random bytes, and valid requests with bytes flipped, cut short or run on."""
    rng = random.Random(seed)
    valid = [
        pb.CreateInvitationRequest(invitation=pb.Invitation(email="a@b.co", role=pb.ROLE_VIEWER)),
        pb.UpdateInvitationRequest(invitation=pb.Invitation(name="invitations/x", email="c@d.co")),
        pb.ListInvitationsRequest(page_size=5, page_token="abc"),
        pb.GetInvitationRequest(name=f"invitations/{uuid.UUID(int=0)}"),
    ]
    seeds = [m.SerializeToString() for m in valid]
    bodies = []
    for n in range(count):
        kind = n % 4
        if kind == 0:
            bodies.append(rng.randbytes(rng.randrange(0, 64)))
        else:
            body = bytearray(rng.choice(seeds))
            if kind == 1 and body:
                for _ in range(rng.randrange(1, 4)):
                    body[rng.randrange(len(body))] = rng.randrange(256)
            elif kind == 2:
                body = body[: rng.randrange(len(body) + 1)]
            else:
                body += rng.randbytes(rng.randrange(1, 16))
            bodies.append(bytes(body))
    return bodies


def test_ten_thousand_malformed_requests_get_no_internal_or_unknown(server: ServerProcess) -> None:
    """Generated bad bytes sent to every method: a deliberate status code for each."""
    bodies = malformed_bodies(10_000)

    async def fire() -> dict[grpc.StatusCode, int]:
        codes: dict[grpc.StatusCode, int] = {}
        async with grpc.aio.insecure_channel(server.target) as channel:
            calls = [
                channel.unary_unary(
                    f"/invitations.v1.InvitationService/{method}",
                    request_serializer=lambda b: b,
                    response_deserializer=lambda b: b,
                )
                for method in METHODS
            ]
            semaphore = asyncio.Semaphore(64)

            async def one(n: int, body: bytes) -> None:
                async with semaphore:
                    try:
                        await calls[n % len(calls)](body, timeout=10)
                        code = grpc.StatusCode.OK
                    except grpc.aio.AioRpcError as error:
                        code = error.code()
                codes[code] = codes.get(code, 0) + 1

            await asyncio.gather(*(one(n, body) for n, body in enumerate(bodies)))
        return codes

    codes = asyncio.run(fire())
    assert sum(codes.values()) == 10_000
    assert grpc.StatusCode.INTERNAL not in codes, codes
    assert grpc.StatusCode.UNKNOWN not in codes, codes
