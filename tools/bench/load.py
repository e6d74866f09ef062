"""A load generator for one unary method, run as its own process: `python -m tools.bench.load`.

It sends pre-serialized request bytes over one grpc.aio channel (no message classes on the hot
path, so it stays far cheaper per call than the server it measures), keeps `concurrency` calls
in flight for `seconds`, and prints one JSON line: calls, errors, latency percentiles, and the
CPU time it used itself, which says whether it, and not the server, was the limit.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import resource
import statistics
import sys
import time
import uuid
from collections.abc import Callable, Iterator

import grpc
from google.protobuf.wrappers_pb2 import StringValue

from tools.bench import create_request, invitations_request


def _requests(kind: str, name: str) -> Iterator[bytes]:
    if kind == "echo":  # the bytes of a GetInvitationRequest: field 1, the name
        return itertools.repeat(StringValue(value=name).SerializeToString())
    # The example resource's requests (service.py skips them without it).
    if kind == "get":
        return itertools.repeat(invitations_request("GetInvitationRequest", name=name))
    if kind == "create":
        prefix = uuid.uuid4().hex[:10]
        return (create_request(f"{prefix}-{n}@load.test") for n in itertools.count())
    if kind == "list":  # the first page, of the default size
        return itertools.repeat(invitations_request("ListInvitationsRequest", page_size=50))
    raise ValueError(kind)


async def run(
    target: str,
    method: str,
    requests: Iterator[bytes],
    *,
    concurrency: int,
    seconds: float,
    token: str | None = None,
) -> dict[str, float]:
    identity: Callable[[bytes], bytes] = bytes
    async with grpc.aio.insecure_channel(target) as channel:
        call = channel.unary_unary(
            method, request_serializer=identity, response_deserializer=identity
        )
        metadata = (("authorization", f"Bearer {token}"),) if token else None
        await call(next(requests), timeout=10, metadata=metadata)  # connected and warm
        latencies: list[float] = []
        errors = 0
        stop_at = time.perf_counter() + seconds

        async def worker() -> None:
            nonlocal errors
            while (now := time.perf_counter()) < stop_at:
                try:
                    await call(next(requests), timeout=10, metadata=metadata)
                except grpc.aio.AioRpcError:
                    errors += 1
                latencies.append(time.perf_counter() - now)

        cpu_before = resource.getrusage(resource.RUSAGE_SELF)
        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        wall = time.perf_counter() - started
        cpu_after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
    latencies.sort()
    return {
        "calls": len(latencies),
        "errors": errors,
        "rps": len(latencies) / wall,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1000,
        "cpu_share": cpu / wall,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("target")
    parser.add_argument(
        "method", help="full method path, e.g. /invitations.v1.InvitationService/GetInvitation"
    )
    parser.add_argument("kind", choices=["echo", "get", "create", "list"])
    parser.add_argument("--token", help="a bearer token to send with every call")
    parser.add_argument("--name", default="invitations/00000000-0000-0000-0000-000000000000")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--cpu", type=int, help="pin this process to one CPU")
    args = parser.parse_args()
    if args.cpu is not None:
        os.sched_setaffinity(0, {args.cpu})
    result = asyncio.run(
        run(
            args.target,
            args.method,
            _requests(args.kind, args.name),
            concurrency=args.concurrency,
            seconds=args.seconds,
            token=args.token,
        )
    )
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
