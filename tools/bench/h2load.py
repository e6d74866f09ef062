"""h2load, nghttp2's load generator written in C, replaying one framed gRPC request.

A Python load generator takes most of a core to drive a grpc.aio server at full speed, so it can
become the limit it is meant to measure; h2load needs a fraction of that. It knows nothing of
gRPC: it sends the same request body (the 5-byte gRPC frame header and the message) again and
again, and counts any HTTP 200 as a success, even one whose trailers carry a gRPC error. So
`run` first makes the call once through a gRPC client (it must succeed) and afterwards checks
that h2load received that response's size in DATA for every request it counts: an error
response carries no message.

Latency percentiles come from h2load's per-request log (`--log-file`: microseconds from each
request to the end of its response); its own summary has only min, max, mean and deviation.
"""

from __future__ import annotations

import os
import re
import shutil
import statistics
import subprocess
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import grpc

PACKAGE = "nghttp2-client"  # Debian's and Ubuntu's package of h2load


@dataclass(frozen=True)
class Load:
    """What one h2load run measured."""

    requests: int  # answered with the expected response
    seconds: float
    p50_ms: float
    p99_ms: float
    cpu_share: float  # h2load's CPU time over the run's length: its share of one core

    @property
    def rps(self) -> float:
        return self.requests / self.seconds


def found() -> bool:
    return shutil.which("h2load") is not None


def ensure() -> bool:
    """Whether h2load is there, installing it first where it is missing and this process may
    (apt-get, as root or through sudo without a password); else a line that says what to do."""
    if found():
        return True
    return install(PACKAGE) and found()


def install(package: str) -> bool:
    """Install a Debian package (apt-get, as root or through sudo without a password); False,
    with a line that says why, where it cannot."""
    if shutil.which("apt-get") is None:
        print(f"  {package} is not installed: {_how(package)}")
        return False
    if os.geteuid() == 0:
        as_root: list[str] = []
    elif shutil.which("sudo"):
        as_root = ["sudo", "--non-interactive"]
    else:
        print(f"  {package} is not installed, and installing it needs root or sudo")
        return False
    print(f"  {package} is not installed: installing it")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", package]):
        done = subprocess.run(
            [*as_root, *command], env=env, capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            print(f"  {' '.join(command)} failed ({done.stderr.strip()[-300:]}): {_how(package)}")
            return False
    return True


def _how(package: str) -> str:
    if package == PACKAGE:
        return f"apt-get install {PACKAGE} (Debian, Ubuntu) or nghttp2 (Homebrew, Fedora)"
    return f"install {package} with the system's package manager"


def framed(message: bytes) -> bytes:
    """A gRPC request body: not compressed, the message's length, the message."""
    return b"\x00" + len(message).to_bytes(4, "big") + message


def answer(
    target: str,
    method: str,
    message: bytes,
    metadata: Sequence[tuple[str, str]] = (),
    timeout: float = 10,
) -> bytes:
    """The response to one call of `method`, made through grpc; an error if it fails."""
    raw: Callable[[bytes], bytes] = bytes
    with grpc.insecure_channel(target) as channel:
        call = channel.unary_unary(method, request_serializer=raw, response_deserializer=raw)
        response: bytes = call(message, timeout=timeout, metadata=tuple(metadata))
    return response


def run(
    target: str,
    method: str,
    message: bytes,
    *,
    seconds: float,
    connections: int,
    streams: int,
    cpu: int | None = None,
    metadata: Sequence[tuple[str, str]] = (),
) -> Load:
    """h2load calling `method` with `message` (and `metadata`, e.g. an authorization header)
    over `connections` HTTP/2 connections with `streams` calls in flight on each, for
    `seconds`, on CPU `cpu` if given."""
    expected = len(framed(answer(target, method, message, metadata)))
    with tempfile.TemporaryDirectory(prefix="h2load-") as folder:
        body, log = Path(folder) / "body", Path(folder) / "log"
        body.write_bytes(framed(message))
        command = [
            "h2load",
            f"--duration={max(1, round(seconds * 1000))}ms",
            f"--clients={connections}",
            f"--max-concurrent-streams={streams}",
            f"--data={body}",
            f"--log-file={log}",
            "--header=content-type: application/grpc",
            "--header=te: trailers",
            *(f"--header={key}: {value}" for key, value in metadata),
            f"http://{target}{method}",
        ]
        if cpu is not None:
            command = ["taskset", "-c", str(cpu), *command]
        before = os.times()
        output = subprocess.run(command, capture_output=True, text=True, check=False).stdout
        after = os.times()
        # start (us since the epoch), HTTP status, us until the end of the response
        rows = [line.split("\t") for line in log.read_text().splitlines() if line]
        elapsed = [int(row[2]) for row in rows if row[1] == "200"]
    used = after.children_user - before.children_user
    used += after.children_system - before.children_system
    return _parse(output, expected, elapsed, used, method)


def _number(pattern: str, output: str, method: str) -> float:
    match = re.search(pattern, output)
    if match is None:
        raise RuntimeError(f"h2load {method}: no {pattern!r} in its output:\n{output[-800:]}")
    return float(match.group(1))


def _parse(output: str, expected: int, elapsed: list[int], used: float, method: str) -> Load:
    wall = _number(r"finished in ([\d.]+)s", output, method)
    succeeded = int(_number(r"requests: .* (\d+) succeeded", output, method))
    failed = int(_number(r"requests: .* (\d+) failed", output, method))
    data = int(_number(r"traffic: .*\((\d+)\) data", output, method))
    # Every counted response carried the expected message: a gRPC error has none. Streams cut
    # off when the time is up may add partial data, never take any away.
    if failed or succeeded == 0 or data < succeeded * expected:
        raise RuntimeError(
            f"h2load {method}: {succeeded} succeeded, {failed} failed, {data} bytes of data for "
            f"{expected} bytes each: some calls did not get the expected response"
        )
    latencies = sorted(micros / 1000 for micros in elapsed)
    return Load(
        requests=succeeded,
        seconds=wall,
        p50_ms=statistics.median(latencies),
        p99_ms=latencies[max(0, int(len(latencies) * 0.99) - 1)],
        cpu_share=used / wall,
    )
