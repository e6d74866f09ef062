"""The processes the benchmarks measure, started and stopped: the service (`python -m service`),
the echo server (tools/bench/echo.py) and the example resource's floor (tools/bench/minimal.py),
and the load generator's command line (tools/bench/load.py)."""

from __future__ import annotations

import collections
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tools import codegen, probe
from tools.bench import SECONDS

ROOT = codegen.ROOT
SERVER_CPU, LOAD_CPU = 0, 1  # where a measured server and its load generator are pinned
_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Running:
    """A started server: its process and the target to call it at."""

    process: subprocess.Popen[str]
    target: str

    @property
    def pid(self) -> int:
        return self.process.pid

    def cpu_seconds(self, *, with_children: bool = False) -> float:
        """The CPU time (user + system, every thread) the process has used so far; with its
        live child processes' (the workers of `serve --workers N`) if `with_children`."""
        pids = [self.pid, *(_children(self.pid) if with_children else ())]
        return sum(_cpu_seconds(pid) for pid in pids)

    def check(self) -> None:
        """Raise if the process has exited."""
        code = self.process.poll()
        if code is not None:
            raise RuntimeError(f"the server (process {self.pid}) exited ({code})")


def _stat(pid: int) -> list[str]:
    """/proc/<pid>/stat's fields after the command name (the third field onwards)."""
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().rsplit(")", 1)[1].split()


def _cpu_seconds(pid: int) -> float:
    try:
        fields = _stat(pid)
    except FileNotFoundError:  # a child that exited meanwhile
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICKS  # utime + stime


def _children(pid: int) -> list[int]:
    children = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if int(_stat(int(entry))[1]) == pid:  # the parent's pid
                    children.append(int(entry))
            except (FileNotFoundError, ProcessLookupError):
                continue
    return children


def _stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.terminate()
    try:
        process.wait(30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _pinned(command: list[str], cpu: int | None) -> list[str]:
    return command if cpu is None else ["taskset", "-c", str(cpu), *command]


@contextmanager
def service(
    database_url: str,
    *args: str,
    cpu: int | None = None,
    serving: int = 1,
    env: Mapping[str, str] | None = None,
) -> Iterator[Running]:
    """`python -m service *args` on a free port with production settings (JSON logs, a line per
    RPC) and any others in `env`, on CPU `cpu` if given (taskset: from its first instruction).

    It is yielded once `serving` processes (the workers of `serve --workers N`) have logged
    "serving", and from then on its log drains away through a pipe, as a log collector would
    take it. With `serving=0` it is yielded as soon as it is started, its log going nowhere: for
    timing its start from outside (Running.check says whether it died meanwhile)."""
    port = probe.free_port()
    settings = {"DATABASE_URL": database_url, "PORT": str(port), "LOG_FORMAT": "json"}
    process = subprocess.Popen(
        _pinned([sys.executable, "-m", "service", *args], cpu),
        cwd=ROOT,
        env={**os.environ, **settings, **(env or {})},
        stderr=subprocess.PIPE if serving else subprocess.DEVNULL,
        text=True,
    )
    sink: subprocess.Popen[bytes] | None = None
    try:
        if serving:
            assert process.stderr is not None
            _until_serving(process, serving)
            sink = subprocess.Popen(["cat"], stdin=process.stderr, stdout=subprocess.DEVNULL)
        yield Running(process, f"127.0.0.1:{port}")
    finally:
        _stop(process)
        if sink is not None:
            sink.wait(10)


def _until_serving(process: subprocess.Popen[str], count: int) -> None:
    """Read the server's log until `count` "serving" lines (every worker up, not just the
    first to answer)."""
    assert process.stderr is not None
    last = collections.deque[str](maxlen=5)
    for line in process.stderr:
        last.append(line.rstrip())
        if line.startswith("{") and json.loads(line).get("message") == "serving":
            count -= 1
            if count == 0:
                return
    log = "\n".join(last)
    raise RuntimeError(f"the server exited ({process.wait(30)}) before serving; its log:\n{log}")


@contextmanager
def echo_server(*options: str, cpu: int) -> Iterator[Running]:
    """tools/bench/echo.py with `options`, pinned to CPU `cpu`; it prints its port when ready."""
    with _port_printer("tools.bench.echo", "--cpu", str(cpu), *options) as running:
        yield running


@contextmanager
def minimal_server(
    database_url: str, cpu: int | None = None, env: Mapping[str, str] | None = None
) -> Iterator[Running]:
    """tools/bench/minimal.py on `database_url`, pinned to CPU `cpu` if given."""
    args = ("--database", database_url, *(() if cpu is None else ("--cpu", str(cpu))))
    with _port_printer("tools.bench.minimal", *args, env=env) as running:
        yield running


@contextmanager
def _port_printer(
    module: str, *args: str, env: Mapping[str, str] | None = None
) -> Iterator[Running]:
    """`python -m module *args`, a server that prints its port when it is ready."""
    process = subprocess.Popen(
        [sys.executable, "-m", module, *args],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        port = process.stdout.readline().strip()
        if not port:
            raise RuntimeError(f"{module} {args} exited ({process.wait(30)}) unready")
        yield Running(process, f"127.0.0.1:{port}")
    finally:
        _stop(process)


def load_command(
    target: str,
    method: str,
    kind: str,
    *options: str,
    concurrency: int,
    seconds: float = SECONDS,
) -> list[str]:
    """tools/bench/load.py calling `method` at `target` for `seconds`: it prints one JSON line,
    which load_result reads."""
    command = [sys.executable, "-m", "tools.bench.load", target, method, kind]
    return [*command, "--concurrency", str(concurrency), "--seconds", str(seconds), *options]


def load_result(method: str, output: str) -> dict[str, Any]:
    """The load generator's figures; an error if any of its calls failed."""
    result: dict[str, Any] = json.loads(output)
    if result["errors"]:
        raise RuntimeError(f"{method}: {result['errors']} of {result['calls']} calls failed")
    return result


def jwt_keys(folder: Path) -> tuple[Path, str]:
    """A public key file for a server's JWT auth, and a token signed by its private key for
    the scope `bench`, valid for an hour."""
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
