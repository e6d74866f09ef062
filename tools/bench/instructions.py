"""Instructions per request, counted under valgrind: figures this machine's noise does not move.

Timed figures on a shared 2-core machine drift by 10-20% over a run, more than a change of a few
microseconds is worth. The instructions a server executes per request (valgrind's cachegrind,
without its cache simulation) came out the same to within 0.2% from run to run on an idle
machine, so such a change shows. On a busy one they move too (up to 10% here), as grpc then
batches calls differently: compare figures of one run. They are not time: cache misses, system
calls and waits are not in them. Compare designs with them; see what they cost with
`make bench service`.

Each server runs under valgrind twice: h2load (one connection, 16 calls in flight) sends it N1
requests one time and N2 the other, and (count for N2 - count for N1) / (N2 - N1) is its count
per request, start-up and shutdown left out. The echo servers both get the same bearer token,
which only the second checks. Where valgrind is missing, the bench installs it (apt-get) as it
does h2load.
"""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import grpc
from google.protobuf.wrappers_pb2 import StringValue

from tools import probe
from tools.bench import ECHO, GET, h2load, invitations_request, launch, serves_invitations, skipped
from tools.bench.launch import ROOT, jwt_keys
from tools.bench.service import LIST, PAGE_SIZE, SEED, seed

N1, N2 = 500, 2500
PACKAGE = "valgrind"


def _count(
    command: Sequence[str],
    *,
    env: dict[str, str],
    method: str,
    message: bytes,
    requests: int,
    token: str,
    folder: Path,
) -> int:
    """The instructions `command` executed, from its start to its exit, having served
    `requests` calls of `method` (it listens on env["PORT"])."""
    log = folder / "valgrind.log"
    process = subprocess.Popen(
        [
            "valgrind",
            "--tool=cachegrind",
            "--cache-sim=no",
            "--cachegrind-out-file=/dev/null",
            f"--log-file={log}",
            *command,
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    target = f"127.0.0.1:{env['PORT']}"
    started = time.monotonic()
    while not probe.serving(target) and not _answers(target, method, message, token):
        if process.poll() is not None or time.monotonic() - started > 300:
            process.kill()
            raise RuntimeError(f"{' '.join(command)} did not start under valgrind")
        time.sleep(0.5)
    body = folder / "body"
    body.write_bytes(h2load.framed(message))
    headers = [f"--header=authorization: Bearer {token}"] if token else []
    subprocess.run(
        [
            "h2load",
            f"--requests={requests}",
            "--clients=1",
            "--max-concurrent-streams=16",
            f"--data={body}",
            "--header=content-type: application/grpc",
            "--header=te: trailers",
            *headers,
            f"http://{target}{method}",
        ],
        capture_output=True,
        check=True,
    )
    process.terminate()
    process.wait(300)
    found = re.search(r"I\s+refs:\s+([\d,]+)", log.read_text())
    if found is None:
        raise RuntimeError(f"no instruction count in valgrind's log:\n{log.read_text()[-500:]}")
    return int(found.group(1).replace(",", ""))


def _answers(target: str, method: str, message: bytes, token: str) -> bool:
    """Whether a server without health service (the echo servers) answers `method`."""
    try:
        metadata = [("authorization", f"Bearer {token}")] if token else []
        h2load.answer(target, method, message, metadata, timeout=1)
    except grpc.RpcError:  # not up yet
        return False
    return True


def _per_request(
    command: Sequence[str], env: dict[str, str], method: str, message: bytes, token: str = ""
) -> float:
    with tempfile.TemporaryDirectory(prefix="bench-instructions-") as folder:
        counts = [
            _count(
                command,
                env=env,
                method=method,
                message=message,
                requests=n,
                token=token,
                folder=Path(folder),
            )
            for n in (N1, N2)
        ]
    return (counts[1] - counts[0]) / (N2 - N1)


def ensure_valgrind() -> bool:
    if shutil.which("valgrind"):
        return True
    return h2load.install(PACKAGE) and shutil.which("valgrind") is not None


def main() -> None:
    from service.db.local import local_postgres
    from tools.schema import rebuild

    print(__doc__.split("\n\n")[0])
    if not ensure_valgrind() or not h2load.ensure():
        skipped("instruction counts: they need valgrind and h2load")
        return
    python = sys.executable
    echo = StringValue(value="invitations/00000000-0000-0000-0000-000000000000")
    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as folder, local_postgres("service_bench") as url:
        rebuild(url)
        public_key, token = jwt_keys(Path(folder))

        def count(
            command: list[str], method: str, message: bytes, sends_token: bool, **settings: str
        ) -> float:
            port = str(probe.free_port())
            env = {**os.environ, "PORT": port, **settings}
            if command[-1] != "service":  # the bench servers take it as an option
                command = [*command, "--port", port]
            return _per_request(command, env, method, message, token if sends_token else "")

        echo_server = [python, "-m", "tools.bench.echo"]
        auth = ["--interceptor", "--metrics", "--auth", str(public_key)]
        message = echo.SerializeToString()
        figures["echo (bare grpc.aio)"] = count(echo_server, ECHO, message, True)
        figures["echo + interceptor, auth, metrics"] = count(
            [*echo_server, *auth], ECHO, message, True
        )
        if serves_invitations():
            settings = {"PAGE_TOKEN_KEY": secrets.token_urlsafe(32)}
            with launch.service(url, env=settings) as running:
                name = asyncio.run(seed(running.target, SEED))
            calls = [
                ("GetInvitation", GET, invitations_request("GetInvitationRequest", name=name)),
                (
                    f"ListInvitations ({PAGE_SIZE})",
                    LIST,
                    invitations_request("ListInvitationsRequest", page_size=PAGE_SIZE),
                ),
            ]
            floor = [python, "-m", "tools.bench.minimal", "--database", url]
            service = [python, "-m", "service"]
            for what, method, request in calls:
                figures[f"floor {what}"] = count(floor, method, request, False, **settings)
                figures[f"service {what}"] = count(
                    service, method, request, False, DATABASE_URL=url, LOG_FORMAT="json", **settings
                )
        else:
            skipped("the floor's and the service's GetInvitation and ListInvitations")
    for label, instructions in figures.items():
        print(f"  {label:<36} {instructions:10,.0f} instructions a request")
    pairs = [("echo + interceptor, auth, metrics", "echo (bare grpc.aio)")]
    for what in ("GetInvitation", f"ListInvitations ({PAGE_SIZE})"):
        if f"service {what}" in figures:
            pairs.append((f"service {what}", f"floor {what}"))
    for ours, theirs in pairs:
        print(f"  {ours} / {theirs}: {figures[ours] / figures[theirs]:.3f}x")
