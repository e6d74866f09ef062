"""`make image` and `make image-test`: build the Dockerfile with podman, and run the image for
real against a real PostgreSQL.

    python -m tools.image build    # the image, tagged grpc-service-template:dev
    python -m tools.image test     # build, then migrate, serve, RPCs, graceful stop, checks

The test knows no resource by name: for each one in service/resources.py it checks health and
calls its List method (an empty request, OK means the database was reached), then stops the
container while a List call waits on tables it locked, which must complete. With no resource
left it checks migrate, health and a graceful stop, and says it made no resource RPCs.

Without a reachable registry (CI), the Dockerfile's default base cannot be pulled: the build
then uses a stand-in made here from Debian's packages with mmdebstrap (Debian's Python 3.11, with
the host's extra CA certificates so pip works behind this network's TLS proxy). PYTHON_IMAGE
picks a base explicitly. podman's settings for these machines (runc, ulimits it may set) come
from deploy/podman/containers.conf, pointed at by CONTAINERS_CONF for podman alone.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from contextlib import suppress
from pathlib import Path
from typing import TYPE_CHECKING

import grpc
from grpc_health.v1 import health_pb2

from tools.postgres import TcpPostgres
from tools.rename import project_name

if TYPE_CHECKING:
    import asyncpg

    from service.resource import AnyResource

ROOT = Path(__file__).resolve().parent.parent
IMAGE = f"{project_name(ROOT)}:dev"  # pyproject.toml's name: `make rename` changes it
DEFAULT_BASE = "python:3.12-slim"
STAND_IN = "localhost/python-base:bookworm"
CONTAINERS_CONF = ROOT / "deploy" / "podman" / "containers.conf"
# The container reaches the host's loopback (where the test PostgreSQL listens) at this address.
HOST_FROM_CONTAINER = "10.0.2.2"
NETWORK = "slirp4netns:allow_host_loopback=true"


def _log(message: str) -> None:
    print(f"[image] {message}", flush=True)


def podman(
    *args: str, check: bool = True, capture: bool = True
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CONTAINERS_CONF": str(CONTAINERS_CONF)}
    return subprocess.run(
        ["podman", *args], env=env, check=check, capture_output=capture, text=True
    )


def _debian_mirror() -> str:
    """The Debian mirror this machine's apt uses (read, not written down anywhere)."""
    for path in [Path("/etc/apt/sources.list"), *Path("/etc/apt/sources.list.d").glob("*")]:
        if not path.is_file():
            continue
        text = path.read_text()
        match = re.search(r"^URIs:\s*(\S+/debian)\s*$", text, re.MULTILINE) or re.search(
            r"^deb\s+(?:\[[^]]*\]\s+)?(\S+/debian)\s", text, re.MULTILINE
        )
        if match:
            return match.group(1)
    raise SystemExit("no Debian mirror found in /etc/apt: cannot build the stand-in base image")


def stand_in_base() -> str:
    """A python3 base image from Debian's packages, built once and kept."""
    if podman("image", "exists", STAND_IN, check=False).returncode == 0:
        return STAND_IN
    _log(f"building the stand-in base image {STAND_IN} with mmdebstrap")
    started = time.perf_counter()
    certificates = Path("/usr/local/share/ca-certificates")
    hooks = []
    if any(certificates.glob("*.crt")):
        hooks = [
            f"--customize-hook=copy-in {certificates} /usr/local/share",
            '--customize-hook=chroot "$1" update-ca-certificates',
        ]
    excludes = [f"--dpkgopt=path-exclude=/usr/share/{d}/*" for d in ("doc", "man", "locale")]
    packages = "--include=ca-certificates,python3,python3-venv"
    merged_usr = "--hook-dir=/usr/share/mmdebstrap/hooks/merged-usr"
    mirror = _debian_mirror()
    debootstrap = subprocess.Popen(
        [
            "mmdebstrap",
            "--variant=apt",
            packages,
            merged_usr,
            *excludes,
            *hooks,
            "bookworm",
            "-",
            mirror,
        ],
        stdout=subprocess.PIPE,
    )
    env = {**os.environ, "CONTAINERS_CONF": str(CONTAINERS_CONF)}
    pip_cert = "ENV PIP_CERT=/etc/ssl/certs/ca-certificates.crt"
    subprocess.run(
        ["podman", "import", "--change", pip_cert, "--change", 'CMD ["python3"]', "-", STAND_IN],
        stdin=debootstrap.stdout,
        env=env,
        check=True,
        capture_output=True,
    )
    if debootstrap.wait() != 0:
        raise SystemExit("mmdebstrap failed")
    _log(f"stand-in base built in {time.perf_counter() - started:.0f} s")
    return STAND_IN


def choose_base() -> str:
    explicit = os.environ.get("PYTHON_IMAGE")
    if explicit:
        return explicit
    if os.environ.get("CI") != "true":
        if podman("image", "exists", DEFAULT_BASE, check=False).returncode == 0:
            return DEFAULT_BASE
        if podman("pull", "--quiet", DEFAULT_BASE, check=False).returncode == 0:
            return DEFAULT_BASE
        _log(f"{DEFAULT_BASE} cannot be pulled here; using a stand-in")
    return stand_in_base()


def build() -> float:
    base = choose_base()
    _log(f"building {IMAGE} on {base}")
    started = time.perf_counter()
    podman(
        "build",
        "--format",
        "docker",
        "--build-arg",
        f"PYTHON_IMAGE={base}",
        "-t",
        IMAGE,
        str(ROOT),
        capture=False,
    )
    seconds = time.perf_counter() - started
    size = int(podman("image", "inspect", IMAGE, "--format", "{{.Size}}").stdout.strip())
    _log(f"built {IMAGE} in {seconds:.1f} s: {size / 1e6:.0f} MB")
    return seconds


# The test -------------------------------------------------------------------------------------


def _run_container(name: str, database_port: int, *args: str, detach: bool = False) -> str:
    url = f"postgresql://postgres@{HOST_FROM_CONTAINER}:{database_port}/postgres"
    result = podman(
        "run",
        *(["-d"] if detach else ["--rm"]),
        "--name",
        name,
        "--network",
        NETWORK,
        "-e",
        f"DATABASE_URL={url}",
        *args,
    )
    return result.stdout.strip()


def test() -> None:
    first = build()
    again = build()
    _log(f"build: {first:.1f} s, then {again:.1f} s with nothing changed (layer cache)")
    run_id = uuid.uuid4().hex[:8]
    names = [f"image-test-migrate-{run_id}", f"image-test-serve-{run_id}"]
    try:
        _check_contents()
        with TcpPostgres() as database:
            database_port = database.port
            _run_container(names[0], database_port, IMAGE, "migrate")
            _log("migrate: ok")
            asyncio.run(_serve_and_stop(names[1], database_port))
    finally:
        for name in names:
            podman("rm", "-f", "--ignore", name, check=False)
    _log("image test passed")


def _check_contents() -> None:
    def inside(*command: str) -> str:
        return podman("run", "--rm", "--entrypoint", command[0], IMAGE, *command[1:]).stdout.strip()

    uid = inside("id", "-u")
    assert uid == "10001", f"the image runs as uid {uid}"
    compilers = inside("sh", "-c", "command -v gcc cc g++ clang make || true")
    assert not compilers, f"the image has build tools: {compilers}"
    present = set(inside("ls", "-A", "/app").split())
    assert present == {"alembic.ini", "generated", "migrations", "service"}, present
    leftovers = inside("sh", "-c", "ls -d /opt/codegen /app/.venv /app/tests 2>/dev/null || true")
    assert not leftovers, f"build leftovers in the image: {leftovers}"
    # Every module of the service has its bytecode: nothing is compiled at start-up.
    uncompiled = inside(
        "python",
        "-c",
        "import importlib.util, pathlib;"
        "print(' '.join(str(f) for f in sorted(pathlib.Path('/app').rglob('*.py'))"
        " if not pathlib.Path(importlib.util.cache_from_source(str(f))).exists()))",
    )
    assert not uncompiled, f"modules without bytecode in the image: {uncompiled}"
    _log("contents: non-root (uid 10001), no compilers, no .venv/tests/codegen environment,")
    _log("  bytecode for every module of the service")


async def _serve_and_stop(name: str, database_port: int) -> None:
    from service.resources import RESOURCES
    from tools.probe import free_port, serving

    port = free_port()
    started = time.perf_counter()
    _run_container(name, database_port, "-p", f"127.0.0.1:{port}:50051", IMAGE, detach=True)
    target = f"127.0.0.1:{port}"
    while not serving(target):  # health only: reflection is off in the image
        assert time.perf_counter() - started < 60, podman("logs", name, check=False).stderr
        await asyncio.sleep(0.02)
    _log(f"run -> SERVING from the host: {time.perf_counter() - started:.2f} s")
    health = podman("healthcheck", "run", name, check=False)
    assert health.returncode == 0, f"HEALTHCHECK failed: {health.stdout} {health.stderr}"

    dsn = f"postgresql://postgres@127.0.0.1:{database_port}/postgres"
    async with grpc.aio.insecure_channel(target) as channel:
        lists = await _call_every_resource(channel, RESOURCES)
        if lists:
            await _stop_with_a_call_in_flight(name, channel, lists[0], dsn)
            _log(f"podman stop with {lists[0]} in flight: it completed, exit code 0")
        else:
            podman("stop", "-t", "30", name)
            _log("podman stop, with no List call to keep in flight")

    state = json.loads(podman("inspect", name, "--format", "{{json .State}}").stdout)
    logs = podman("logs", name).stderr
    assert state["ExitCode"] == 0, f"exit code {state['ExitCode']}: {logs[-2000:]}"
    assert '"message": "shutting down"' in logs, logs[-2000:]
    assert '"message": "stopped"' in logs, logs[-2000:]
    _log("graceful shutdown")


def _bytes(data: bytes) -> bytes:
    return data


async def _call_every_resource(
    channel: grpc.aio.Channel, resources: Sequence[AnyResource]
) -> list[str]:
    """Health SERVING for each resource's service, and its List method (AIP-132), called with
    an empty request, answering OK: the database reached through the image. Returns the List
    methods' paths."""
    check = channel.unary_unary(
        "/grpc.health.v1.Health/Check",
        request_serializer=health_pb2.HealthCheckRequest.SerializeToString,
        response_deserializer=health_pb2.HealthCheckResponse.FromString,
    )
    lists = []
    for resource in resources:
        answer = await check(health_pb2.HealthCheckRequest(service=resource.name), timeout=5)
        assert answer.status == health_pb2.HealthCheckResponse.SERVING, (resource.name, answer)
        method = next(
            (
                m
                for m in resource.service.methods
                if m.name.startswith("List") and not m.server_streaming
            ),
            None,
        )
        if method is None:
            _log(f"{resource.name}: health SERVING (no List method to call)")
            continue
        path = f"/{resource.name}/{method.name}"
        list_call = channel.unary_unary(
            path, request_serializer=_bytes, response_deserializer=_bytes
        )
        try:
            await list_call(b"", timeout=10)  # an empty request: the first page
        except grpc.aio.AioRpcError as error:
            raise AssertionError(f"{path}: {error.code()} {error.details()}") from None
        lists.append(path)
        _log(f"{resource.name}: health SERVING, {method.name} OK")
    if not resources:
        _log("service/resources.py lists no resource: no resource RPCs made")
    return lists


async def _stop_with_a_call_in_flight(
    name: str, channel: grpc.aio.Channel, path: str, dsn: str
) -> None:
    """`podman stop` while a List call waits on the service's tables, locked here: the call
    must complete once they are free, within the grace period, and the process exit 0."""
    import asyncpg

    list_call = channel.unary_unary(path, request_serializer=_bytes, response_deserializer=_bytes)
    connection = await asyncpg.connect(dsn)
    try:
        transaction = connection.transaction()
        await transaction.start()
        tables = await connection.fetchval(
            "SELECT string_agg(format('%I.%I', schemaname, tablename), ', ') FROM pg_tables"
            " WHERE schemaname NOT IN ('pg_catalog', 'information_schema')"
            " AND tablename <> 'alembic_version'"
        )
        assert tables, "the migrated database has no table to hold a call on"
        await connection.execute(f"LOCK TABLE {tables} IN ACCESS EXCLUSIVE MODE")
        in_flight = asyncio.ensure_future(list_call(b"", timeout=60))
        await _until(lambda: _waiting(connection), f"{path} waiting on the locked tables")
        stop = asyncio.create_task(asyncio.to_thread(podman, "stop", "-t", "30", name))

        async def shutting_down() -> bool:
            logs = await asyncio.to_thread(podman, "logs", name, check=False)
            return '"message": "shutting down"' in logs.stderr

        await _until(shutting_down, "the container logging 'shutting down'")
        assert not in_flight.done(), "the call ended before the tables were free"
        await transaction.rollback()
    finally:
        await connection.close()
    try:
        await asyncio.wait_for(in_flight, 20)
    except grpc.aio.AioRpcError as error:
        raise AssertionError(
            f"the in-flight call failed: {error.code()} {error.details()}"
        ) from None
    await stop


async def _waiting(connection: asyncpg.Connection) -> bool:
    """Whether another session waits on a lock this connection holds."""
    count = await connection.fetchval(
        "SELECT count(*) FROM pg_stat_activity WHERE pg_backend_pid() = ANY(pg_blocking_pids(pid))"
    )
    return bool(count)


async def _until(condition: Callable[[], Awaitable[bool]], what: str, within: float = 20) -> None:
    deadline = time.monotonic() + within
    while not await condition():
        assert time.monotonic() < deadline, f"not within {within} s: {what}"
        await asyncio.sleep(0.05)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["build", "test"])
    args = parser.parse_args()
    if shutil.which("podman") is None:
        raise SystemExit("podman is not installed (CI installs it: see .ci/run)")
    with suppress(KeyboardInterrupt):
        build() if args.command == "build" else test()
    return 0


if __name__ == "__main__":
    sys.exit(main())
